#pragma once
// The head: durable samples not yet in chunk files, per series. Each series has an open buffer
// (sorted columns) that is sealed into a chunk at `chunk_samples` samples or when a sample
// falls in a newer partition, and a late buffer for samples of an older partition (see
// SeriesState); sealed chunks stay here, queryable, until the chunk flusher has
// written them to a chunk file and calls drop_flushed().
//
// Checkpointing: every buffer and sealed chunk remembers the smallest WAL sequence that
// contributed to it, so watermark() tells which WAL records are wholly outside the head.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "historian/chunk_format.h"
#include "resonance/core/sample.h"
#include "resonance/core/time.h"

namespace resonance::historian {

// A sealed buffer, kept as raw columns: the chunk flusher encodes it when it writes the chunk file.
// Sealing runs on the WAL applier between the fdatasync and the acknowledgements, and a tick-major
// load seals every series' buffer in the same batch, so encoding there (about 1,000 chunks at once)
// held back every acknowledgement behind it; moving the columns is O(1).
struct SealedChunk {
  SeriesId series = 0;
  std::int64_t partition_start = 0;
  std::vector<TimestampNs> ts_ns;  // strictly ascending, not empty
  std::vector<double> values;
  std::vector<std::uint32_t> quality;
  std::size_t memory_bytes = 0;    // the columns' capacity, as counted in Head::sealed_bytes()
  std::uint64_t min_sequence = 0;
  std::uint64_t rank = 0;          // newer seals rank higher
  TimestampNs t_min() const { return ts_ns.front(); }
  TimestampNs t_max() const { return ts_ns.back(); }
  // Appends the samples with from <= ts < to, ascending.
  void samples_in(TimestampNs from, TimestampNs to, std::vector<Sample>& out) const;
};

// The columns of one chunk's worth of samples.
struct Columns {
  std::vector<TimestampNs> ts_ns;
  std::vector<double> values;
  std::vector<std::uint32_t> quality;
  std::size_t capacity_bytes() const {
    return ts_ns.capacity() * sizeof(TimestampNs) + values.capacity() * sizeof(double) +
           quality.capacity() * sizeof(std::uint32_t);
  }
};

// Spare columns of a whole chunk (capacity chunk_samples), their pages already touched, for the
// open buffers that fill chunks. Without them, each seal on the ingest path allocated fresh
// columns whose first write page-faulted: a tick-major load seals every series in the same batch,
// and the ~3,000 faults (4-5 us each here) held that group commit's acknowledgements back by
// 14-20 ms. Spares are prepared on a background thread (prepare()) and recycled from chunks the
// chunk flusher has written (Head's chunks hand their columns back when the last reference goes).
// Thread-safe.
class ColumnPool {
 public:
  explicit ColumnPool(std::size_t chunk_samples) : chunk_samples_(chunk_samples) {}
  // Moves a spare into `out` (whose columns must be empty) if there is one.
  bool take(Columns& out);
  // Keeps `c` as a spare (emptied, capacity kept) if it has a chunk's capacity and fewer spares
  // than wanted() are held; otherwise frees it.
  void give(Columns&& c);
  // Columns of a chunk's capacity, every page written once.
  Columns prepare() const;
  // How many spares the head could use now: two per open buffer that fills chunks (Head keeps the
  // count of those up to date), at most set_limit(). With one, a tick-major load's next wave of
  // seals (about 100 ms later at 10 M samples/s) often found the pool still short when the
  // preparer shared the cores with the ingest path.
  static constexpr std::size_t kSparesPerBuffer = 2;
  std::size_t wanted() const {
    return std::min(kSparesPerBuffer * wanted_.load(std::memory_order_relaxed), limit_.load(std::memory_order_relaxed));
  }
  std::size_t missing() const {
    const std::size_t w = wanted(), n = size();
    return w > n ? w - n : 0;
  }
  void add_wanted(std::ptrdiff_t delta) { wanted_.fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed); }
  void set_limit(std::size_t spares) { limit_.store(spares, std::memory_order_relaxed); }
  std::size_t size() const { return size_.load(std::memory_order_relaxed); }
  std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  std::size_t chunk_samples() const { return chunk_samples_; }
  void clear();

 private:
  const std::size_t chunk_samples_;
  std::mutex mu_;
  std::vector<Columns> spares_;  // guarded by mu_
  std::atomic<std::size_t> size_{0};
  std::atomic<std::size_t> bytes_{0};
  std::atomic<std::size_t> wanted_{0};
  std::atomic<std::size_t> limit_{~std::size_t{0}};
};

// Samples of one source for a query, with the source's precedence (higher wins on equal ts).
struct SampleRun {
  std::uint64_t rank = 0;
  std::vector<Sample> samples;  // ascending
};

// Thread-safe: one writer (the WAL applier, or recovery before it starts), the chunk flusher
// (take_for_flush / drop_flushed) and any number of readers.
class Head {
 public:
  static constexpr std::uint64_t kOpenRank = ~std::uint64_t{0};

  explicit Head(std::size_t chunk_samples = 1024, std::int64_t partition_ns = 3'600'000'000'000)
      : chunk_samples_(chunk_samples), partition_ns_(partition_ns),
        pool_(std::make_shared<ColumnPool>(chunk_samples)) {}

  // Inserts in timestamp order into the open buffers. A sample whose (series, ts_ns) is already in
  // the open buffer replaces it (last write wins); one that repeats a sealed sample is kept and
  // wins at query time. `sequence` is the WAL record the samples came from. Returns how many
  // samples were added.
  std::size_t insert(std::span<const Sample> samples, std::uint64_t sequence = 0);

  std::optional<Sample> latest(SeriesId series) const;  // the sample with the largest ts_ns
  // from_ns <= ts < to_ns, ascending, at most `limit`, deduplicated (newest source wins).
  std::vector<Sample> range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns, std::size_t limit) const;
  // The sources overlapping [from, to): sealed chunks and the unsealed samples in range (late buffer, then open buffer: they are in different
  // partitions, the late one older, so the run is ascending).
  void collect(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
               std::vector<std::shared_ptr<const SealedChunk>>& sealed, SampleRun& open) const;

  struct FlushSet {
    std::vector<std::shared_ptr<const SealedChunk>> chunks;  // in seal order
    std::uint64_t watermark_after = 0;  // every record below it is outside the head once `chunks` go
  };
  // Optionally seals every open buffer first (shutdown, tests, measurements), and in any case the
  // open buffers that were opened before `seal_opened_before`: a slow series that never reaches
  // chunk_samples would otherwise pin its WAL records (and every later segment) forever.
  FlushSet take_for_flush(bool seal_open, MonoTime seal_opened_before = MonoTime::min());
  void drop_flushed(const std::vector<std::shared_ptr<const SealedChunk>>& chunks);

  // Forgets everything held for `series` and ignores its samples from WAL records below
  // `wal_sequence` (batches that were in flight when the series was deleted, or replayed records).
  void delete_series(SeriesId series, std::uint64_t wal_sequence);

  // Retention: forgets the remembered latest sample of series that hold nothing in the head and
  // whose latest sample lies in a partition ending at or before `cutoff_ns` (its chunk file is gone).
  void expire_latest(TimestampNs cutoff_ns);

  std::size_t sample_count() const { return sample_count_.load(std::memory_order_relaxed); }
  std::size_t series_count() const { return series_count_.load(std::memory_order_relaxed); }
  std::size_t sealed_bytes() const { return sealed_bytes_.load(std::memory_order_relaxed); }
  // What the head holds in memory, in bytes: the capacity of every open and late buffer's columns
  // (what the allocator really handed out, not just the samples in them), the sealed chunks, and a
  // fixed estimate per series for its map entry and state. The historian refuses submits
  // (RetryLater) while this plus what is pending would pass HistorianOptions::max_head_bytes.
  // The spare columns (ColumnPool) count too.
  std::size_t memory_bytes() const {
    return buffer_bytes_.load(std::memory_order_relaxed) + sealed_bytes_.load(std::memory_order_relaxed) +
           series_count_.load(std::memory_order_relaxed) * kSeriesStateBytes + pool_->bytes();
  }
  // Frees the columns of empty buffers (sealing keeps their capacity for the next samples) and the
  // spare columns. Called under memory pressure after a flush has sealed and written everything.
  void release_empty_buffers();
  // Spare chunk columns for the ingest path; the historian's preparer thread fills it.
  ColumnPool& spares() { return *pool_; }
  static constexpr std::size_t kSeriesStateBytes = 256;
  static constexpr std::size_t kBytesPerBufferedSample = sizeof(TimestampNs) + sizeof(double) + sizeof(std::uint32_t);
  std::int64_t partition_of(TimestampNs ts) const;

 private:
  // Sorted columns not sealed yet, all in one partition.
  struct Buffer {
    std::vector<TimestampNs> ts_ns;  // strictly ascending
    std::vector<double> values;
    std::vector<std::uint32_t> quality;
    std::int64_t partition = 0;
    std::uint64_t min_sequence = 0;  // meaningful while non-empty
    MonoTime opened{};               // when the buffer got its first sample
    std::size_t counted_bytes = 0;   // its columns' capacity as last added to buffer_bytes_
    bool late = false;               // SeriesState::late: never takes spares
    bool counted_hot = false;        // counted in the pool's wanted() (see hot())
    bool empty() const { return ts_ns.empty(); }
  };
  struct SeriesState {
    // The live partition (the newest one the series has reached). Out of order within it is
    // merged here in order.
    Buffer open;
    // Late data: samples of a partition older than the live one (backfill, a connector replaying
    // its buffer after an outage). Kept apart so they neither seal `open` early nor are sealed one
    // by one when they interleave with live samples; sealed when full, when a sample of yet another
    // old partition arrives, when idle, or at a flush, and then written to that partition's file
    // like any chunk (reads merge overlapping chunks, newest wins).
    Buffer late;
    std::optional<std::int64_t> live_partition;
    std::vector<std::shared_ptr<const SealedChunk>> sealed;
    std::optional<Sample> last;
    SeriesState() { late.late = true; }
  };
  void insert_one(SeriesId id, SeriesState& st, const Sample& s, std::uint64_t sequence, std::size_t& added);
  // The state of `id`, created if new (mu_ held exclusively); find_state: null if unknown (mu_ held).
  SeriesState& state_for(SeriesId id);
  const SeriesState* find_state(SeriesId id) const;
  void add_to(Buffer& b, const Sample& s, std::uint64_t sequence, std::size_t& added);
  // Brings buffer_bytes_ and the pool's wanted count in line with `b`'s columns after any change
  // to them; mu_ held exclusively.
  void account(Buffer& b) {
    const std::size_t now = capacity_bytes(b);
    if (now == b.counted_bytes) return;  // the common case, once per sample: no atomic write
    if (now > b.counted_bytes) buffer_bytes_.fetch_add(now - b.counted_bytes, std::memory_order_relaxed);
    else buffer_bytes_.fetch_sub(b.counted_bytes - now, std::memory_order_relaxed);
    b.counted_bytes = now;
    if (const bool h = hot(b); h != b.counted_hot) {
      pool_->add_wanted(h ? 1 : -1);
      b.counted_hot = h;
    }
  }
  // A live buffer that has grown to an eighth of a chunk: its series fills chunks, so it will want
  // whole-chunk columns when it grows further or seals. Slow series (a sample a minute) stay below
  // and keep growing their small columns as they need.
  bool hot(const Buffer& b) const { return !b.late && b.ts_ns.capacity() * 8 >= chunk_samples_; }
  // Swaps a spare into `b` (empty columns, or full ones about to grow: their samples are copied
  // over); false when none is ready.
  bool take_spare(Buffer& b);
  // mu_ held exclusively. keep_room: reserve the buffer's old capacity again (the ingest path).
  void seal(SeriesId id, SeriesState& st, Buffer& b, bool keep_room);
  // `v = {}` would keep the capacity (it assigns an empty initializer list); swapping frees it.
  static void free_columns(Buffer& b) {
    std::vector<TimestampNs>().swap(b.ts_ns);
    std::vector<double>().swap(b.values);
    std::vector<std::uint32_t>().swap(b.quality);
  }
  static std::size_t capacity_bytes(const Buffer& b) {
    return b.ts_ns.capacity() * sizeof(TimestampNs) + b.values.capacity() * sizeof(double) +
           b.quality.capacity() * sizeof(std::uint32_t);
  }

  const std::size_t chunk_samples_;
  const std::int64_t partition_ns_;
  mutable std::shared_mutex mu_;
  std::unordered_map<SeriesId, SeriesState> series_;  // guarded by mu_; owns the states
  // guarded by mu_: series id -> its state in series_ (null: none), for ids below kMaxDenseId.
  // Batches arrive tick-major (one sample per series, then the next tick), so the insert path
  // looked a series up for every sample; a hash lookup (a modulo and a node chase) was most of
  // Head::insert's cost in the ingest profile. Catalog ids are small and dense; larger ids (tests,
  // foreign catalogs) fall back to the map. unordered_map nodes never move, so the pointers hold
  // until delete_series erases the entry (and clears its slot).
  std::vector<SeriesState*> dense_;
  static constexpr SeriesId kMaxDenseId = 1u << 20;
  std::uint64_t next_rank_ = std::uint64_t{1} << 62;  // guarded by mu_; above every chunk-file rank
  std::uint64_t applied_sequence_ = 0;                // guarded by mu_
  std::unordered_map<SeriesId, std::uint64_t> deleted_below_;  // guarded by mu_: series -> WAL sequence
  std::atomic<std::size_t> sample_count_{0};
  std::atomic<std::size_t> series_count_{0};
  std::atomic<std::size_t> sealed_bytes_{0};
  std::atomic<std::size_t> buffer_bytes_{0};  // sum of capacity_bytes over all buffers; written under mu_
  // Shared with the sealed chunks, which give their columns back to it when their last reference
  // goes (the chunk flusher's, or a reader's), possibly after the head itself.
  std::shared_ptr<ColumnPool> pool_;
};

// Merges runs (each ascending) into one ascending, deduplicated sequence: on equal timestamps the
// run with the higher rank wins. Keeps the samples with from <= ts < to, at most `limit`.
std::vector<Sample> merge_runs(std::vector<SampleRun>& runs, std::size_t limit);

// Decodes a chunk into samples of `series` within [from, to).
Status decode_chunk_samples(const ChunkView& chunk, TimestampNs from, TimestampNs to, std::vector<Sample>& out);

}  // namespace resonance::historian
