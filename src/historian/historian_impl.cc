#include "historian/historian_impl.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <limits>
#include <map>
#include <optional>

#include "historian/reads.h"
#include "historian/wal_format.h"
#include "historian/wal_reader.h"

namespace resonance::historian {

namespace {
constexpr std::uint64_t kMinSegmentBytes = 4096;

Status validate(const HistorianOptions& o) {
  if (o.dir.empty()) return Status(StatusCode::kInvalidArgument, "historian: options.dir is empty");
  if (o.group_commit_interval_us < 0)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("historian: group_commit_interval_us {} is negative", o.group_commit_interval_us));
  if (o.max_pending_bytes == 0 || o.max_head_samples == 0)
    return Status(StatusCode::kInvalidArgument, "historian: max_pending_bytes and max_head_samples must be > 0");
  if (o.partition_ns <= 0 || o.chunk_samples == 0 || o.chunk_samples > 65535 || o.chunk_flush_interval_ms <= 0)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("historian: partition_ns {} must be > 0, chunk_samples {} in 1..65535, "
                              "chunk_flush_interval_ms {} > 0",
                              o.partition_ns, o.chunk_samples, o.chunk_flush_interval_ms));
  if (o.seal_idle_ms <= 0 || o.retention_ns < 0)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("historian: seal_idle_ms {} must be > 0 and retention_ns {} >= 0", o.seal_idle_ms,
                              o.retention_ns));
  if (o.max_head_bytes == 0 || o.compaction_interval_ms < 0 || o.compaction_min_files < 2)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("historian: max_head_bytes {} must be > 0, compaction_interval_ms {} >= 0 and "
                              "compaction_min_files {} >= 2",
                              o.max_head_bytes, o.compaction_interval_ms, o.compaction_min_files));
  if (o.wal_segment_bytes < kMinSegmentBytes)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("historian: wal_segment_bytes {} is below the minimum {}", o.wal_segment_bytes,
                              kMinSegmentBytes));
  return Status::ok();
}
}  // namespace

void HistorianImpl::CommitBuffer::clear() {
  bytes.clear();
  record_sizes.clear();
  batches.clear();
  samples = 0;
}

HistorianImpl::HistorianImpl(const HistorianOptions& options)
    : options_(options), head_(options.chunk_samples, options.partition_ns) {}

Result<std::unique_ptr<HistorianImpl>> HistorianImpl::open(const HistorianOptions& options, Env& env) {
  if (Status s = validate(options); !s) return error(std::move(s));
  const auto wal_dir = options.dir / "wal";
  if (Status s = env.create_dirs(wal_dir); !s) return error(std::move(s));

  std::unique_ptr<HistorianImpl> h(new HistorianImpl(options));
  auto store = ChunkStore::open(env, options.dir / "chunks");
  if (!store) return error(store.error());
  h->store_ = std::move(*store);
  const std::uint64_t covered = h->store_->checkpoint();
  for (const auto& t : h->store_->tombstones()) h->head_.delete_series(t.series, t.wal_sequence_below);
  const auto started = mono_now();
  // Records below the checkpoint are in chunk files already (a crash came between the checkpoint
  // and the WAL deletion); replaying them would only duplicate data.
  auto recovery = recover_wal(env, wal_dir, [&h, covered](WalRecord&& rec) {
    if (rec.sequence >= covered) h->head_.insert(rec.batch.samples, rec.sequence);
  });
  if (!recovery) return error(recovery.error());
  auto wal = WalWriter::open(env, wal_dir, recovery->last_segment, options.wal_segment_bytes, options.durability);
  if (!wal) return error(wal.error());
  h->wal_ = std::move(*wal);
  h->wal_->set_segment_first_sequence(recovery->segment_first_sequence);
  // After a checkpoint deleted every old segment the WAL may be empty: sequences continue above
  // the checkpoint so that new records are never mistaken for covered ones.
  h->next_sequence_ = std::max(recovery->last_sequence.value_or(0) + 1, std::max<std::uint64_t>(covered, 1));
  h->counters_.recovered_records = recovery->records;
  h->counters_.recovered_samples = recovery->samples;
  h->counters_.recovery_truncated_bytes = recovery->truncated_bytes;
  h->counters_.recovery_damage = recovery->damage;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(mono_now() - started).count();
  spdlog::info("historian: opened {} in {} ms: {} records / {} samples recovered, {} bytes truncated, "
               "{} series, next sequence {}",
               options.dir.string(), ms, recovery->records, recovery->samples, recovery->truncated_bytes,
               h->head_.series_count(), h->next_sequence_);
  // Spare chunk columns are bounded to an eighth of max_head_bytes (they count in the head's memory).
  h->head_.spares().set_limit(options.max_head_bytes / 8 / (options.chunk_samples * Head::kBytesPerBufferedSample));
  h->flusher_ = std::thread([p = h.get()] { p->flusher_loop(); });
  h->applier_ = std::thread([p = h.get()] { p->applier_loop(); });
  h->chunk_flusher_ = std::thread([p = h.get()] { p->chunk_flusher_loop(); });
  h->spare_preparer_ = std::thread([p = h.get()] { p->spare_loop(); });
  if (options.compaction_interval_ms > 0) h->compactor_ = std::thread([p = h.get()] { p->compaction_loop(); });
  return h;
}

HistorianImpl::~HistorianImpl() {
  close();
  if (flusher_.joinable()) flusher_.join();  // only when close() was first called from a callback
  if (applier_.joinable()) applier_.join();
  {
    std::lock_guard lock(compaction_mu_);
    compaction_closing_ = true;
  }
  compaction_cv_.notify_all();
  if (compactor_.joinable()) compactor_.join();
  {
    std::lock_guard lock(chunk_mu_);
    chunk_closing_ = true;
  }
  chunk_cv_.notify_all();
  if (chunk_flusher_.joinable()) chunk_flusher_.join();
  {
    std::lock_guard lock(spare_mu_);
    spare_closing_ = true;
  }
  spare_cv_.notify_all();
  if (spare_preparer_.joinable()) spare_preparer_.join();
}

void HistorianImpl::spare_loop() {
  // Page-faulting fresh columns is pure background work; on a 2-core node it must not take the
  // WAL threads' cores (a Linux thread's nice value is its own).
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
  ColumnPool& pool = head_.spares();
  const std::size_t spare_bytes = pool.chunk_samples() * Head::kBytesPerBufferedSample;
  std::unique_lock lock(spare_mu_);
  while (!spare_closing_) {
    // Woken by the WAL applier when an insert left the pool short; the timeout catches the rest
    // (spares handed back by written chunks, memory freed by the chunk flusher).
    spare_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return spare_wanted_ || spare_closing_; });
    spare_wanted_ = false;
    // Spares are the first memory to go near max_head_bytes: none are made past half of it.
    while (!spare_closing_ && pool.missing() > 0 &&
           head_.memory_bytes() + spare_bytes <= options_.max_head_bytes / 2) {
      lock.unlock();
      pool.give(pool.prepare());
      lock.lock();
    }
  }
}

void HistorianImpl::chunk_flusher_loop() {
  std::unique_lock lock(chunk_mu_);
  while (!chunk_closing_) {
    chunk_cv_.wait_for(lock, std::chrono::milliseconds(options_.chunk_flush_interval_ms));
    if (chunk_closing_) break;
    lock.unlock();
    // Under memory pressure (max_head_bytes) seal every buffer now, so all of the head can go to
    // chunk files, and free the columns the empty buffers keep; at worst this makes small chunks,
    // which compaction later folds.
    const bool pressure = memory_pressure_.exchange(false);
    const Status s = flush_chunks(pressure);
    if (pressure && s) head_.release_empty_buffers();
    lock.lock();
    if (!s) {
      if (chunk_error_.empty()) spdlog::error("historian: chunk flush failed (will retry): {}", s.to_string());
      chunk_error_ = s.to_string();
    } else {
      chunk_error_.clear();
    }
  }
}

Status HistorianImpl::flush_chunks(bool seal_open) {
  std::lock_guard flush_lock(flush_mu_);
  Head::FlushSet set =
      head_.take_for_flush(seal_open, mono_now() - std::chrono::milliseconds(options_.seal_idle_ms));
  if (!set.chunks.empty()) {
    // Encoded here, on the chunk flusher, not when sealed (see SealedChunk).
    std::vector<std::vector<std::uint8_t>> encoded(set.chunks.size());
    for (std::size_t i = 0; i < set.chunks.size(); ++i) {
      const SealedChunk& c = *set.chunks[i];
      encode_chunk(c.series, c.ts_ns, c.values, c.quality, encoded[i]);
    }
    // One file per partition; within it series ascending, each series' chunks in seal order.
    std::map<std::int64_t, std::map<SeriesId, std::vector<std::span<const std::uint8_t>>>> parts;
    for (std::size_t i = 0; i < set.chunks.size(); ++i)
      parts[set.chunks[i]->partition_start][set.chunks[i]->series].push_back(encoded[i]);
    for (const auto& [start, by_series] : parts) {
      std::vector<ChunkStore::SeriesChunks> list;
      for (const auto& [id, chunks] : by_series) list.push_back({id, chunks});
      if (Status s = store_->write_file(start, options_.partition_ns, list); !s) return s;
      std::lock_guard lock(chunk_mu_);
      ++chunk_files_written_;
    }
    // Visible in the store first, then gone from the head: a reader may see both (deduplicated),
    // never neither.
    head_.drop_flushed(set.chunks);
  }
  if (set.watermark_after > store_->checkpoint())
    if (Status s = store_->write_checkpoint(set.watermark_after); !s) return s;
  auto deleted = wal_->delete_segments_below(store_->checkpoint());
  if (!deleted) return deleted.error();
  {
    std::lock_guard lock(chunk_mu_);
    wal_segments_deleted_ += *deleted;
  }
  if (options_.retention_ns > 0) {
    const TimestampNs now = unix_now_ns();
    const TimestampNs cutoff = now < std::numeric_limits<TimestampNs>::min() + options_.retention_ns
                                   ? std::numeric_limits<TimestampNs>::min()
                                   : now - options_.retention_ns;
    auto expired = store_->drop_partitions_before(cutoff);
    if (!expired) return expired.error();
    if (*expired > 0) {
      head_.expire_latest(cutoff);
      spdlog::info("historian: retention deleted {} chunk files of partitions ending before {}", *expired, cutoff);
      std::lock_guard lock(chunk_mu_);
      chunk_files_expired_ += *expired;
    }
  }
  return Status::ok();
}

Status HistorianImpl::delete_series(SeriesId series) {
  std::lock_guard flush_lock(flush_mu_);
  std::uint64_t below = 0;
  {
    std::lock_guard lock(mu_);
    if (!failure_.is_ok()) return Status(StatusCode::kFailedPrecondition, failure_.message());
    below = next_sequence_;  // every record numbered below was submitted before this call
  }
  if (Status s = store_->add_tombstone(series, below); !s)
    return Status(s.code(), fmt::format("historian: deleting series {}: {}", series, s.message()));
  head_.delete_series(series, below);
  std::lock_guard lock(chunk_mu_);
  ++series_deleted_;
  return Status::ok();
}

Admission HistorianImpl::submit(SampleBatch&& batch, DurableCallback on_durable) {
  const std::size_t n = batch.samples.size();
  const std::size_t size = encoded_record_size(batch);
  std::lock_guard lock(mu_);
  // Unacceptable whatever the load: retrying would never help.
  if (n == 0 || size - kFrameHeaderBytes > kMaxBodyBytes || size > options_.max_pending_bytes ||
      n > options_.max_head_samples || n * Head::kBytesPerBufferedSample > options_.max_head_bytes) {
    ++counters_.rejected;
    return Admission::kRejected;
  }
  if (closing_ || !failure_.is_ok() ||
      filling_.bytes.size() + inflight_bytes_ + size > options_.max_pending_bytes ||
      head_.sample_count() + filling_.samples + inflight_samples_ + n > options_.max_head_samples) {
    ++counters_.retry_later;
    return Admission::kRetryLater;
  }
  if (over_memory_bound(n)) return Admission::kRetryLater;
  const bool first = filling_.empty();
  const std::size_t before = filling_.bytes.size();
  const std::uint64_t sequence = next_sequence_++;
  encode_record(sequence, batch, filling_.bytes);
  filling_.record_sizes.push_back(static_cast<std::uint32_t>(size));
  filling_.samples += n;
  filling_.batches.push_back(PendingBatch{std::move(batch), std::move(on_durable), sequence});
  if (first) filling_.oldest = mono_now();
  // Wake the flusher only on the transitions it acts on, not on every submit.
  if (first || (before < options_.group_commit_bytes && filling_.bytes.size() >= options_.group_commit_bytes))
    flusher_cv_.notify_one();
  return Admission::kAccepted;
}

bool HistorianImpl::over_memory_bound(std::size_t n) {
  // Samples pending in the WAL buffers will land in the head's columns: count them at that price.
  const std::size_t incoming = (filling_.samples + inflight_samples_ + n) * Head::kBytesPerBufferedSample;
  if (head_.memory_bytes() + incoming <= options_.max_head_bytes) return false;
  ++counters_.retry_later;
  ++memory_retry_later_;
  if (!memory_pressure_.exchange(true)) chunk_cv_.notify_one();
  return true;
}

void HistorianImpl::flusher_loop() {
  const auto interval = std::chrono::microseconds(options_.group_commit_interval_us);
  CommitBuffer flight;
  std::unique_lock lock(mu_);
  for (;;) {
    if (filling_.empty()) {
      if (closing_) break;
      flusher_cv_.wait(lock);
      continue;
    }
    const bool due = closing_ || !failure_.is_ok() || filling_.bytes.size() >= options_.group_commit_bytes ||
                     mono_now() >= filling_.oldest + interval;
    if (!due) {
      flusher_cv_.wait_until(lock, filling_.oldest + interval);
      continue;
    }
    std::swap(flight, filling_);  // submitters now fill the other buffer while this one syncs
    // Counted until the applier has put the samples into the head (two flights may be on the way).
    inflight_bytes_ += flight.bytes.size();
    inflight_samples_ += flight.samples;
    const Status prior_failure = failure_;
    lock.unlock();

    // After a failed write or sync nothing more is written: the kernel may have dropped the dirty
    // pages and a later "successful" fsync would lie (the fsyncgate lesson).
    Status result = prior_failure;
    if (prior_failure.is_ok())
      if (Status s = wal_->write(flight.bytes, flight.record_sizes); !s) {
        result = Status(s.code(), "WAL write failed, historian is read-only until restart: " + s.message());
        spdlog::error("historian: {}: {} batches not durable", result.to_string(), flight.batches.size());
        lock.lock();
        failure_ = result;  // at once: submit refuses, and the next flight is not written
        lock.unlock();
      }
    // Hand the flight to the applier and go on with the next one: its write and sync overlap this
    // flight's head insert and callbacks. At most one flight waits for the applier.
    {
      std::unique_lock apply_lock(apply_mu_);
      apply_cv_.wait(apply_lock, [this] { return !handoff_full_; });
      std::swap(handoff_, flight);  // `flight` gets the applier's emptied buffer back
      handoff_status_ = std::move(result);
      handoff_full_ = true;
    }
    apply_cv_.notify_all();
    lock.lock();
  }
  lock.unlock();
  {
    std::lock_guard apply_lock(apply_mu_);
    writer_done_ = true;
  }
  apply_cv_.notify_all();
}

void HistorianImpl::applier_loop() {
  CommitBuffer applying;
  for (;;) {
    Status status;
    {
      std::unique_lock apply_lock(apply_mu_);
      apply_cv_.wait(apply_lock, [this] { return handoff_full_ || writer_done_; });
      if (!handoff_full_) return;  // the flusher has finished and everything was applied
      std::swap(applying, handoff_);
      status = std::move(handoff_status_);
      handoff_full_ = false;
    }
    apply_cv_.notify_all();  // the flusher may be waiting for the slot

    // Durable (synced) before it becomes visible, and visible before it is acknowledged.
    if (status.is_ok()) {
      for (const auto& b : applying.batches) head_.insert(b.batch.samples, b.sequence);
      if (head_.spares().missing() > 0) {
        {
          std::lock_guard lock(spare_mu_);  // set under the lock, so a wake-up cannot fall between
          spare_wanted_ = true;             // the preparer's check and its wait
        }
        spare_cv_.notify_one();
      }
    }
    {
      std::lock_guard lock(mu_);
      // All bookkeeping lands before any callback runs, so a caller reacting to its callback sees
      // the stats, the freed bounds and (on failure) the read-only state.
      inflight_bytes_ -= applying.bytes.size();
      inflight_samples_ -= applying.samples;
      if (status.is_ok()) {
        ++counters_.group_commits;
        counters_.bytes_synced += applying.bytes.size();
        counters_.batches_appended += applying.batches.size();
        counters_.samples_appended += applying.samples;
      }
    }
    for (auto& b : applying.batches)
      if (b.on_durable) b.on_durable(status);
    applying.clear();
  }
}

std::optional<Sample> HistorianImpl::latest(SeriesId series) const {
  auto head = head_.latest(series);
  auto stored = store_->latest(series);
  if (!stored) return head;
  if (!head || stored->ts_ns > head->ts_ns) return stored;
  return head;
}

namespace {

// Appends the samples of sorted columns with from <= ts < to, keeping `out` at most `limit` long.
void append_columns(SeriesId series, std::span<const TimestampNs> ts, std::span<const double> values,
                    std::span<const std::uint32_t> quality, TimestampNs from, TimestampNs to, std::size_t limit,
                    std::vector<Sample>& out) {
  auto i = static_cast<std::size_t>(std::lower_bound(ts.begin(), ts.end(), from) - ts.begin());
  const auto end = static_cast<std::size_t>(std::lower_bound(ts.begin(), ts.end(), to) - ts.begin());
  for (; i < end && out.size() < limit; ++i) out.push_back(Sample{series, ts[i], values[i], Quality{quality[i]}});
}

// The common case of a range read: the sources (chunk-file chunks, sealed head chunks, the open
// samples) follow each other in time, so no deduplication is needed and each is decoded straight
// into the answer, in order, stopping at `limit`. Only for sources no two of which overlap
// (any_overlap); otherwise the caller merges by rank.
std::vector<Sample> range_of_disjoint_sources(SeriesId series, std::span<const TimedSource> sources,
                                              const SampleRun& open, TimestampNs from, TimestampNs to,
                                              std::size_t limit) {
  std::size_t estimate = 0;
  for (const TimedSource& s : sources)
    estimate += s.file != nullptr ? s.file->header.count : s.head != nullptr ? s.head->ts_ns.size() : open.samples.size();
  std::vector<Sample> out;
  out.reserve(std::min(estimate, limit));
  ChunkColumns cols;  // reused by every chunk
  for (const TimedSource& s : sources) {
    if (out.size() >= limit) break;
    if (s.file != nullptr) {
      if (Status st = decode_chunk(*s.file, cols); !st) {
        spdlog::error("historian: series {}: {}", series, st.to_string());
        continue;
      }
      append_columns(series, cols.ts, cols.values, cols.quality, from, to, limit, out);
    } else if (s.head != nullptr) {
      append_columns(series, s.head->ts_ns, s.head->values, s.head->quality, from, to, limit, out);
    } else {
      for (const Sample& x : open.samples) {
        if (out.size() >= limit) break;
        out.push_back(x);  // collect() kept only [from, to)
      }
    }
  }
  return out;
}

}  // namespace

std::vector<TimedSource> in_time_order(const SeriesSources& src) {
  std::vector<TimedSource> out;
  out.reserve(src.files.size() + src.sealed.size() + 1);
  for (const auto& c : src.files) out.push_back({&c.view, nullptr, c.rank, c.view.header.t_min, c.view.header.t_max});
  for (const auto& c : src.sealed) out.push_back({nullptr, c.get(), c->rank, c->t_min(), c->t_max()});
  if (!src.open.samples.empty())
    out.push_back({nullptr, nullptr, Head::kOpenRank, src.open.samples.front().ts_ns, src.open.samples.back().ts_ns});
  std::sort(out.begin(), out.end(), [](const TimedSource& a, const TimedSource& b) { return a.lo < b.lo; });
  return out;
}

bool any_overlap(std::span<const TimedSource> ordered) {
  for (std::size_t i = 1; i < ordered.size(); ++i)
    if (ordered[i].lo <= ordered[i - 1].hi) return true;
  return false;
}

SeriesSources HistorianImpl::sources(SeriesId series, TimestampNs from_ns, TimestampNs to_ns) const {
  SeriesSources src;
  head_.collect(series, from_ns, to_ns, src.sealed, src.open);
  src.files = store_->chunks(series, from_ns, to_ns);
  return src;
}

std::vector<Sample> HistorianImpl::range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                                         std::size_t limit) const {
  if (from_ns >= to_ns || limit == 0) return {};
  SeriesSources src = sources(series, from_ns, to_ns);
  const std::vector<TimedSource> ordered = in_time_order(src);
  if (!any_overlap(ordered)) return range_of_disjoint_sources(series, ordered, src.open, from_ns, to_ns, limit);
  std::vector<SampleRun> runs;
  runs.push_back(std::move(src.open));
  auto add = [&](const ChunkView& v, std::uint64_t rank) {
    SampleRun r{rank, {}};
    if (Status s = decode_chunk_samples(v, from_ns, to_ns, r.samples); !s)
      spdlog::error("historian: series {}: {}", series, s.to_string());
    runs.push_back(std::move(r));
  };
  for (const auto& c : src.files) add(c.view, c.rank);
  for (const auto& c : src.sealed) {
    SampleRun r{c->rank, {}};
    c->samples_in(from_ns, to_ns, r.samples);
    runs.push_back(std::move(r));
  }
  return merge_runs(runs, limit);
}

std::vector<AggregateBucket> HistorianImpl::aggregate(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                                                      std::int64_t step_ns) const {
  std::vector<AggregateBucket> out;
  if (step_ns <= 0 || from_ns >= to_ns) return out;
  const SeriesSources src = sources(series, from_ns, to_ns);
  const std::vector<TimedSource> items = in_time_order(src);
  // A chunk that overlaps no other source and lies inside one bucket is answered from its header;
  // everything else is decoded and merged (overlaps need last-write-wins deduplication).
  std::vector<AggregateBucket> partial;
  std::vector<SampleRun> runs;
  ChunkColumns columns;  // reused by every chunk decoded alone
  auto flush_runs = [&] {
    if (runs.empty()) return;
    const auto merged = merge_runs(runs, std::numeric_limits<std::size_t>::max());
    std::vector<AggregateBucket> b;
    aggregate_samples(merged, from_ns, to_ns, step_ns, b);
    partial.insert(partial.end(), b.begin(), b.end());
    runs.clear();
  };
  TimestampNs group_hi = std::numeric_limits<TimestampNs>::min();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const TimedSource& it = items[i];
    const bool overlaps_prev = i > 0 && it.lo <= group_hi;
    const bool overlaps_next = i + 1 < items.size() && items[i + 1].lo <= it.hi;
    const std::int64_t k = bucket_of(it.lo, from_ns, to_ns, step_ns);
    const bool whole = it.file != nullptr && !overlaps_prev && !overlaps_next && k >= 0 &&
                       bucket_of(it.hi, from_ns, to_ns, step_ns) == k;
    if (!overlaps_prev) flush_runs();
    group_hi = std::max(group_hi, it.hi);
    if (whole) {
      partial.push_back(chunk_summary(it.file->header, from_ns + k * step_ns));
      continue;
    }
    if (!overlaps_prev && !overlaps_next && (it.file != nullptr || it.head != nullptr)) {
      // Alone in its time span (the common case): fold its columns straight into buckets, no
      // samples and no merge.
      if (it.head != nullptr) {
        aggregate_columns(it.head->ts_ns, it.head->values, from_ns, to_ns, step_ns, partial);
      } else if (Status s = aggregate_chunk(*it.file, from_ns, to_ns, step_ns, columns, partial); !s) {
        spdlog::error("historian: series {}: {}", series, s.to_string());
      }
      continue;
    }
    SampleRun r{it.rank, {}};
    if (it.head != nullptr) {
      it.head->samples_in(from_ns, to_ns, r.samples);
    } else if (it.file == nullptr) {
      r.samples = src.open.samples;
    } else if (Status s = decode_chunk_samples(*it.file, from_ns, to_ns, r.samples); !s) {
      spdlog::error("historian: series {}: {}", series, s.to_string());
    }
    runs.push_back(std::move(r));
  }
  flush_runs();
  // Partials are in time order (groups are disjoint and sorted); fold equal buckets.
  for (const auto& b : partial) {
    if (out.empty() || out.back().start != b.start) out.push_back(AggregateBucket{.start = b.start});
    fold_summary(out.back(), b);
  }
  return out;
}

HistorianStats HistorianImpl::stats() const {
  std::lock_guard lock(mu_);
  HistorianStats s = counters_;
  s.head_samples = head_.sample_count();
  s.series = head_.series_count();
  s.read_only = !failure_.is_ok();
  {
    std::lock_guard chunk_lock(chunk_mu_);
    s.chunk_files_written = chunk_files_written_;
    s.wal_segments_deleted = wal_segments_deleted_;
    s.chunk_error = chunk_error_;
    s.chunk_files_expired = chunk_files_expired_;
    s.series_deleted = series_deleted_;
  }
  const ChunkStore::Damage damage = store_->damage();
  s.damaged_chunks_skipped = damage.chunks_skipped;
  s.chunk_files_quarantined = damage.files_quarantined;
  s.chunk_damage = damage.last;
  s.chunk_bytes = store_->bytes();
  s.chunk_files = store_->files();
  s.head_sealed_bytes = head_.sealed_bytes();
  s.head_bytes = head_.memory_bytes();
  s.memory_retry_later = memory_retry_later_;
  s.backfill_samples = backfill_samples_;
  {
    std::lock_guard compaction_lock(compaction_mu_);
    s.compactions = compactions_;
    s.compaction_bytes_written = compaction_bytes_written_;
    s.compaction_error = compaction_error_;
  }
  s.last_error = failure_.is_ok() ? std::string() : failure_.to_string();
  return s;
}

void HistorianImpl::close() {
  std::lock_guard close_lock(close_mu_);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  flusher_cv_.notify_all();
  // From a callback (on the applier) neither thread can be joined: the flusher may be waiting for
  // the applier to take its next flight. The destructor joins both.
  if (applier_.joinable() && applier_.get_id() == std::this_thread::get_id()) return;
  if (flusher_.joinable()) flusher_.join();
  if (applier_.joinable()) applier_.join();
}

Result<std::unique_ptr<Historian>> open_historian(const HistorianOptions& options, Env& env) {
  auto h = HistorianImpl::open(options, env);
  if (!h) return error(h.error());
  return std::unique_ptr<Historian>(std::move(*h));
}

}  // namespace resonance::historian

namespace resonance {

Result<std::unique_ptr<Historian>> open_historian(const HistorianOptions& options) {
  return historian::open_historian(options, historian::posix_env());
}

}  // namespace resonance
