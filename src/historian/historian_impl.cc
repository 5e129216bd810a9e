#include "historian/historian_impl.h"

#include <chrono>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

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

HistorianImpl::HistorianImpl(const HistorianOptions& options) : options_(options) {}

Result<std::unique_ptr<HistorianImpl>> HistorianImpl::open(const HistorianOptions& options, Env& env) {
  if (Status s = validate(options); !s) return error(std::move(s));
  const auto wal_dir = options.dir / "wal";
  if (Status s = env.create_dirs(wal_dir); !s) return error(std::move(s));

  std::unique_ptr<HistorianImpl> h(new HistorianImpl(options));
  const auto started = mono_now();
  auto recovery = recover_wal(env, wal_dir, [&h](WalRecord&& rec) { h->head_.insert(rec.batch.samples); });
  if (!recovery) return error(recovery.error());
  auto wal = WalWriter::open(env, wal_dir, recovery->last_segment, options.wal_segment_bytes, options.durability);
  if (!wal) return error(wal.error());
  h->wal_ = std::move(*wal);
  h->next_sequence_ = recovery->last_sequence.value_or(0) + 1;
  h->counters_.recovered_records = recovery->records;
  h->counters_.recovered_samples = recovery->samples;
  h->counters_.recovery_truncated_bytes = recovery->truncated_bytes;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(mono_now() - started).count();
  spdlog::info("historian: opened {} in {} ms: {} records / {} samples recovered, {} bytes truncated, "
               "{} series, next sequence {}",
               options.dir.string(), ms, recovery->records, recovery->samples, recovery->truncated_bytes,
               h->head_.series_count(), h->next_sequence_);
  h->flusher_ = std::thread([p = h.get()] { p->flusher_loop(); });
  return h;
}

HistorianImpl::~HistorianImpl() {
  close();
  if (flusher_.joinable()) flusher_.join();  // only when close() was first called from a callback
}

Admission HistorianImpl::submit(SampleBatch&& batch, DurableCallback on_durable) {
  const std::size_t n = batch.samples.size();
  const std::size_t size = encoded_record_size(batch);
  std::lock_guard lock(mu_);
  // Unacceptable whatever the load: retrying would never help.
  if (n == 0 || size - kFrameHeaderBytes > kMaxBodyBytes || size > options_.max_pending_bytes ||
      n > options_.max_head_samples) {
    ++counters_.rejected;
    return Admission::kRejected;
  }
  if (closing_ || !failure_.is_ok() ||
      filling_.bytes.size() + inflight_bytes_ + size > options_.max_pending_bytes ||
      head_.sample_count() + filling_.samples + inflight_samples_ + n > options_.max_head_samples) {
    ++counters_.retry_later;
    return Admission::kRetryLater;
  }
  const bool first = filling_.empty();
  const std::size_t before = filling_.bytes.size();
  encode_record(next_sequence_++, batch, filling_.bytes);
  filling_.record_sizes.push_back(static_cast<std::uint32_t>(size));
  filling_.samples += n;
  filling_.batches.push_back(PendingBatch{std::move(batch), std::move(on_durable)});
  if (first) filling_.oldest = mono_now();
  // Wake the flusher only on the transitions it acts on, not on every submit.
  if (first || (before < options_.group_commit_bytes && filling_.bytes.size() >= options_.group_commit_bytes))
    flusher_cv_.notify_one();
  return Admission::kAccepted;
}

void HistorianImpl::flusher_loop() {
  const auto interval = std::chrono::microseconds(options_.group_commit_interval_us);
  CommitBuffer flight;
  std::unique_lock lock(mu_);
  for (;;) {
    if (filling_.empty()) {
      if (closing_) return;
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
    inflight_bytes_ = flight.bytes.size();
    inflight_samples_ = flight.samples;
    const Status prior_failure = failure_;
    lock.unlock();

    // After a failed write or sync nothing more is written: the kernel may have dropped the dirty
    // pages and a later "successful" fsync would lie (the fsyncgate lesson).
    const Status status = prior_failure.is_ok() ? wal_->write(flight.bytes, flight.record_sizes) : prior_failure;
    Status failed = prior_failure;
    if (status.is_ok())
      for (const auto& b : flight.batches) head_.insert(b.batch.samples);

    lock.lock();
    // All bookkeeping lands before any callback runs, so a caller reacting to its callback sees
    // the stats, the freed bounds and (on failure) the read-only state.
    inflight_bytes_ = 0;
    inflight_samples_ = 0;
    if (status.is_ok()) {
      ++counters_.group_commits;
      counters_.bytes_synced += flight.bytes.size();
      counters_.batches_appended += flight.batches.size();
      counters_.samples_appended += flight.samples;
    } else if (prior_failure.is_ok()) {
      failed = Status(status.code(), "WAL write failed, historian is read-only until restart: " + status.message());
      failure_ = failed;
    }
    lock.unlock();
    if (!status.is_ok() && prior_failure.is_ok())
      spdlog::error("historian: {}: {} batches not durable", failed.to_string(), flight.batches.size());

    for (auto& b : flight.batches)
      if (b.on_durable) b.on_durable(failed);
    flight.clear();
    lock.lock();
  }
}

std::optional<Sample> HistorianImpl::latest(SeriesId series) const { return head_.latest(series); }

std::vector<Sample> HistorianImpl::range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                                         std::size_t limit) const {
  return head_.range(series, from_ns, to_ns, limit);
}

HistorianStats HistorianImpl::stats() const {
  std::lock_guard lock(mu_);
  HistorianStats s = counters_;
  s.head_samples = head_.sample_count();
  s.series = head_.series_count();
  s.read_only = !failure_.is_ok();
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
  if (flusher_.joinable() && flusher_.get_id() != std::this_thread::get_id()) flusher_.join();
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
