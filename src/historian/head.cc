#include "historian/head.h"

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>

namespace resonance::historian {

std::int64_t Head::partition_of(TimestampNs ts) const {
  // Floor division, so negative timestamps land in the partition that starts at or before them.
  std::int64_t q = ts / partition_ns_;
  if (ts % partition_ns_ != 0 && ts < 0) --q;
  return q * partition_ns_;
}

void SealedChunk::samples_in(TimestampNs from, TimestampNs to, std::vector<Sample>& out) const {
  const auto first = std::lower_bound(ts_ns.begin(), ts_ns.end(), from);
  const auto last = std::lower_bound(first, ts_ns.end(), to);
  out.reserve(out.size() + static_cast<std::size_t>(last - first));
  for (auto i = static_cast<std::size_t>(first - ts_ns.begin()); i < static_cast<std::size_t>(last - ts_ns.begin()); ++i)
    out.push_back(Sample{series, ts_ns[i], values[i], Quality{quality[i]}});
}

bool ColumnPool::take(Columns& out) {
  std::lock_guard lock(mu_);
  if (spares_.empty()) return false;
  bytes_.fetch_sub(spares_.back().capacity_bytes(), std::memory_order_relaxed);
  out = std::move(spares_.back());
  spares_.pop_back();
  size_.store(spares_.size(), std::memory_order_relaxed);
  return true;
}

void ColumnPool::give(Columns&& c) {
  // Only whole-chunk columns (a chunk sealed full); anything else is freed on return.
  const auto fits = [this](std::size_t capacity) { return capacity >= chunk_samples_ && capacity < 2 * chunk_samples_; };
  if (!fits(c.ts_ns.capacity()) || !fits(c.values.capacity()) || !fits(c.quality.capacity())) return;
  c.ts_ns.clear();  // keeps the capacity, and the pages stay touched
  c.values.clear();
  c.quality.clear();
  std::lock_guard lock(mu_);
  if (spares_.size() >= wanted()) return;  // the caller frees `c`, after mu_ is released
  bytes_.fetch_add(c.capacity_bytes(), std::memory_order_relaxed);
  spares_.push_back(std::move(c));
  size_.store(spares_.size(), std::memory_order_relaxed);
}

Columns ColumnPool::prepare() const {
  // Filled with a non-zero value and emptied: the pages are written here, not on the ingest path
  // (a fill with zeros could become calloc, which leaves fresh pages untouched).
  Columns c;
  c.ts_ns.resize(chunk_samples_, -1);
  c.values.resize(chunk_samples_, -1.0);
  c.quality.resize(chunk_samples_, ~std::uint32_t{0});
  c.ts_ns.clear();
  c.values.clear();
  c.quality.clear();
  return c;
}

void ColumnPool::clear() {
  std::vector<Columns> doomed;
  {
    std::lock_guard lock(mu_);
    doomed.swap(spares_);
    size_.store(0, std::memory_order_relaxed);
    bytes_.store(0, std::memory_order_relaxed);
  }
}

bool Head::take_spare(Buffer& b) {
  Columns c;
  if (!pool_->take(c)) return false;
  c.ts_ns.assign(b.ts_ns.begin(), b.ts_ns.end());  // within capacity: no allocation
  c.values.assign(b.values.begin(), b.values.end());
  c.quality.assign(b.quality.begin(), b.quality.end());
  b.ts_ns.swap(c.ts_ns);
  b.values.swap(c.values);
  b.quality.swap(c.quality);
  return true;  // the old columns are freed on return
}

namespace {
// The deleter of a sealed chunk: its columns go back to the spare pool (if it wants them) when the
// last reference goes.
struct GiveColumnsBack {
  std::shared_ptr<ColumnPool> pool;
  void operator()(SealedChunk* c) const {
    pool->give(Columns{std::move(c->ts_ns), std::move(c->values), std::move(c->quality)});
    delete c;
  }
};
}  // namespace

void Head::seal(SeriesId id, SeriesState& st, Buffer& b, bool keep_room) {
  if (b.empty()) return;
  std::shared_ptr<SealedChunk> c(new SealedChunk, GiveColumnsBack{pool_});
  c->series = id;
  c->partition_start = b.partition;
  const std::size_t room = b.ts_ns.capacity();
  c->ts_ns.swap(b.ts_ns);  // leaves the buffer's columns empty, with no capacity
  c->values.swap(b.values);
  c->quality.swap(b.quality);
  c->memory_bytes = c->ts_ns.capacity() * sizeof(TimestampNs) + c->values.capacity() * sizeof(double) +
                    c->quality.capacity() * sizeof(std::uint32_t);
  c->min_sequence = b.min_sequence;
  c->rank = next_rank_++;
  sealed_bytes_.fetch_add(c->memory_bytes, std::memory_order_relaxed);
  st.sealed.push_back(std::move(c));
  if (keep_room && &b != &st.late) {
    // Sealed by the ingest path, the live buffer fills again at once: give it its room back up
    // front rather than regrow it on the ingest path. (Not for late data, which is occasional, nor
    // for flush-time seals: an idle series, or memory pressure, wants the memory back.) A spare
    // comes with its pages touched; fresh room would page-fault on this thread as it fills.
    if (room < chunk_samples_ || !take_spare(b)) {
      b.ts_ns.reserve(room);
      b.values.reserve(room);
      b.quality.reserve(room);
    }
  }
  account(b);
}

void Head::add_to(Buffer& b, const Sample& s, std::uint64_t sequence, std::size_t& added) {
  auto& ts = b.ts_ns;
  if (ts.empty()) {
    b.min_sequence = sequence;
    b.opened = mono_now();
  }
  ++added;
  // About to grow (push_back or insert would reallocate): a series filling chunks takes whole-chunk
  // spare columns instead of growing into fresh memory on this thread.
  if (ts.size() == ts.capacity() && ts.capacity() < chunk_samples_ && hot(b)) take_spare(b);
  if (ts.empty() || s.ts_ns > ts.back()) {
    ts.push_back(s.ts_ns);
    b.values.push_back(s.value);
    b.quality.push_back(s.quality.code);
    return;
  }
  const auto it = std::lower_bound(ts.begin(), ts.end(), s.ts_ns);
  const auto i = static_cast<std::ptrdiff_t>(it - ts.begin());
  if (it != ts.end() && *it == s.ts_ns) {
    b.values[static_cast<std::size_t>(i)] = s.value;
    b.quality[static_cast<std::size_t>(i)] = s.quality.code;
    --added;
    return;
  }
  // Out of order within the buffer: an O(n) shift over at most chunk_samples entries.
  ts.insert(it, s.ts_ns);
  b.values.insert(b.values.begin() + i, s.value);
  b.quality.insert(b.quality.begin() + i, s.quality.code);
}

Head::SeriesState& Head::state_for(SeriesId id) {
  if (id < dense_.size() && dense_[id] != nullptr) return *dense_[id];
  SeriesState& st = series_[id];
  if (id < kMaxDenseId) {
    if (id >= dense_.size())
      dense_.resize(std::min<std::size_t>(std::max<std::size_t>(std::size_t{id} + 1, dense_.size() * 2), kMaxDenseId),
                    nullptr);
    dense_[id] = &st;
  }
  return st;
}

const Head::SeriesState* Head::find_state(SeriesId id) const {
  if (id < kMaxDenseId) return id < dense_.size() ? dense_[id] : nullptr;  // every such series has its slot
  const auto it = series_.find(id);
  return it == series_.end() ? nullptr : &it->second;
}

void Head::insert_one(SeriesId id, SeriesState& st, const Sample& s, std::uint64_t sequence, std::size_t& added) {
  // A sample in the open buffer's partition (nearly all of them) skips partition_of's division.
  // A non-empty open buffer is always in the live partition.
  const bool in_open = !st.open.empty() && s.ts_ns >= st.open.partition &&
                       static_cast<std::uint64_t>(s.ts_ns) - static_cast<std::uint64_t>(st.open.partition) <
                           static_cast<std::uint64_t>(partition_ns_);
  const std::int64_t p = in_open ? st.open.partition : partition_of(s.ts_ns);
  if (!st.last || s.ts_ns >= st.last->ts_ns) st.last = s;
  Buffer* b = &st.open;
  if (st.live_partition && p < *st.live_partition) {
    b = &st.late;
  } else {
    st.live_partition = p;
  }
  if (!b->empty() && p != b->partition) seal(id, st, *b, /*keep_room=*/true);
  if (b->empty()) b->partition = p;
  add_to(*b, s, sequence, added);
  account(*b);
  if (b->ts_ns.size() >= chunk_samples_) seal(id, st, *b, /*keep_room=*/true);
}

std::size_t Head::insert(std::span<const Sample> samples, std::uint64_t sequence) {
  std::unique_lock lock(mu_);
  std::size_t added = 0;
  SeriesId last_id = 0;
  SeriesState* last = nullptr;  // runs of one series (backfill, per-series batches) skip the lookup
  for (const Sample& s : samples) {
    if (!deleted_below_.empty()) {
      const auto d = deleted_below_.find(s.series);
      if (d != deleted_below_.end() && sequence < d->second) continue;
    }
    if (last == nullptr || s.series != last_id) {
      last = &state_for(s.series);
      last_id = s.series;
    }
    insert_one(s.series, *last, s, sequence, added);
  }
  applied_sequence_ = std::max(applied_sequence_, sequence);
  sample_count_.store(sample_count_.load(std::memory_order_relaxed) + added, std::memory_order_relaxed);
  series_count_.store(series_.size(), std::memory_order_relaxed);
  return added;
}

std::optional<Sample> Head::latest(SeriesId series) const {
  std::shared_lock lock(mu_);
  const SeriesState* st = find_state(series);
  if (st == nullptr) return std::nullopt;
  return st->last;
}

void Head::collect(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                   std::vector<std::shared_ptr<const SealedChunk>>& sealed, SampleRun& open) const {
  open.rank = kOpenRank;
  std::shared_lock lock(mu_);
  const SeriesState* found = find_state(series);
  if (found == nullptr) return;
  const SeriesState& st = *found;
  for (const auto& c : st.sealed)
    if (c->t_max() >= from_ns && c->t_min() < to_ns) sealed.push_back(c);
  for (const Buffer* b : {&st.late, &st.open}) {
    const auto first = std::lower_bound(b->ts_ns.begin(), b->ts_ns.end(), from_ns);
    const auto last = std::lower_bound(first, b->ts_ns.end(), to_ns);
    for (auto i = static_cast<std::size_t>(first - b->ts_ns.begin()); i < static_cast<std::size_t>(last - b->ts_ns.begin()); ++i)
      open.samples.push_back(Sample{series, b->ts_ns[i], b->values[i], Quality{b->quality[i]}});
  }
}

Status decode_chunk_samples(const ChunkView& chunk, TimestampNs from, TimestampNs to, std::vector<Sample>& out) {
  ChunkColumns cols;
  if (Status s = decode_chunk(chunk, cols); !s) return s;
  const auto first = std::lower_bound(cols.ts.begin(), cols.ts.end(), from);
  const auto last = std::lower_bound(first, cols.ts.end(), to);
  for (auto i = static_cast<std::size_t>(first - cols.ts.begin()); i < static_cast<std::size_t>(last - cols.ts.begin()); ++i)
    out.push_back(Sample{chunk.header.series, cols.ts[i], cols.values[i], Quality{cols.quality[i]}});
  return Status::ok();
}

std::vector<Sample> Head::range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns, std::size_t limit) const {
  if (from_ns >= to_ns || limit == 0) return {};
  std::vector<std::shared_ptr<const SealedChunk>> sealed;
  std::vector<SampleRun> runs(1);
  collect(series, from_ns, to_ns, sealed, runs[0]);
  for (const auto& c : sealed) {
    SampleRun r{c->rank, {}};
    c->samples_in(from_ns, to_ns, r.samples);
    runs.push_back(std::move(r));
  }
  return merge_runs(runs, limit);
}

std::vector<Sample> merge_runs(std::vector<SampleRun>& runs, std::size_t limit) {
  std::erase_if(runs, [](const SampleRun& r) { return r.samples.empty(); });
  std::sort(runs.begin(), runs.end(),
            [](const SampleRun& a, const SampleRun& b) { return a.samples.front().ts_ns < b.samples.front().ts_ns; });
  bool disjoint = true;
  for (std::size_t i = 1; i < runs.size(); ++i)
    disjoint = disjoint && runs[i].samples.front().ts_ns > runs[i - 1].samples.back().ts_ns;
  std::vector<Sample> out;
  if (disjoint) {  // the common case: sources follow each other in time
    for (auto& r : runs)
      for (const Sample& s : r.samples) {
        if (out.size() >= limit) return out;
        out.push_back(s);
      }
    return out;
  }
  std::vector<std::pair<std::uint64_t, Sample>> all;
  for (auto& r : runs)
    for (const Sample& s : r.samples) all.emplace_back(r.rank, s);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second.ts_ns != b.second.ts_ns ? a.second.ts_ns < b.second.ts_ns : a.first > b.first;
  });
  for (const auto& [rank, s] : all) {
    if (!out.empty() && out.back().ts_ns == s.ts_ns) continue;
    if (out.size() >= limit) break;
    out.push_back(s);
  }
  return out;
}

void Head::delete_series(SeriesId series, std::uint64_t wal_sequence) {
  std::unique_lock lock(mu_);
  auto& below = deleted_below_[series];
  below = std::max(below, wal_sequence);
  const auto it = series_.find(series);
  if (it == series_.end()) return;
  std::size_t samples = it->second.open.ts_ns.size() + it->second.late.ts_ns.size(), bytes = 0;
  buffer_bytes_.fetch_sub(it->second.open.counted_bytes + it->second.late.counted_bytes, std::memory_order_relaxed);
  for (const Buffer* b : {&it->second.open, &it->second.late})
    if (b->counted_hot) pool_->add_wanted(-1);
  for (const auto& c : it->second.sealed) {
    samples += c->ts_ns.size();
    bytes += c->memory_bytes;
  }
  if (series < dense_.size()) dense_[series] = nullptr;
  series_.erase(it);
  sample_count_.store(sample_count_.load(std::memory_order_relaxed) - samples, std::memory_order_relaxed);
  sealed_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  series_count_.store(series_.size(), std::memory_order_relaxed);
}

void Head::release_empty_buffers() {
  {
    std::unique_lock lock(mu_);
    for (auto& [id, st] : series_)
      for (Buffer* b : {&st.open, &st.late})
        if (b->empty() && b->ts_ns.capacity() > 0) {
          free_columns(*b);
          account(*b);
        }
  }
  // The pool has its own lock: its spares (up to max_head_bytes / 8) are freed without holding
  // up readers and the applier on the head's.
  pool_->clear();
}

void Head::expire_latest(TimestampNs cutoff_ns) {
  std::unique_lock lock(mu_);
  for (auto& [id, st] : series_) {
    if (!st.last || !st.open.empty() || !st.late.empty() || !st.sealed.empty()) continue;
    const std::int64_t start = partition_of(st.last->ts_ns);
    if (start <= cutoff_ns - partition_ns_) st.last.reset();  // start + partition_ns <= cutoff, without overflow
  }
}

Head::FlushSet Head::take_for_flush(bool seal_open, MonoTime seal_opened_before) {
  std::unique_lock lock(mu_);
  FlushSet set;
  set.watermark_after = applied_sequence_ + 1;
  for (auto& [id, st] : series_) {
    for (Buffer* b : {&st.late, &st.open}) {
      if (seal_open || (!b->empty() && b->opened < seal_opened_before)) seal(id, st, *b, /*keep_room=*/false);
      if (!b->empty()) set.watermark_after = std::min(set.watermark_after, b->min_sequence);
    }
    for (const auto& c : st.sealed) set.chunks.push_back(c);
  }
  std::sort(set.chunks.begin(), set.chunks.end(), [](const auto& a, const auto& b) { return a->rank < b->rank; });
  return set;
}

void Head::drop_flushed(const std::vector<std::shared_ptr<const SealedChunk>>& chunks) {
  std::unique_lock lock(mu_);
  std::size_t samples = 0, bytes = 0;
  for (const auto& c : chunks) {
    auto it = series_.find(c->series);
    if (it == series_.end()) continue;
    auto& list = it->second.sealed;
    const auto pos = std::find(list.begin(), list.end(), c);
    if (pos == list.end()) continue;
    list.erase(pos);
    samples += c->ts_ns.size();
    bytes += c->memory_bytes;
  }
  sample_count_.store(sample_count_.load(std::memory_order_relaxed) - samples, std::memory_order_relaxed);
  sealed_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
}

}  // namespace resonance::historian
