#pragma once
// The embedded historian: a write-ahead log with group commit, a per-series in-memory head and
// queries over it. The contract other components use; the engine lives in src/historian.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"
#include "resonance/pipeline/pipeline.h"

namespace resonance {

enum class Durability : std::uint8_t {
  kSync,  // acknowledge after fdatasync covers the record (default; survives power loss)
  kNone,  // acknowledge after write(2) only (tests and benchmarks; survives kill -9, not power loss)
};

struct HistorianOptions {
  std::filesystem::path dir;                    // created if missing
  Durability durability = Durability::kSync;
  std::size_t group_commit_bytes = 1 << 20;     // flush when this much is pending ...
  std::int64_t group_commit_interval_us = 2000;  // ... or when the oldest pending record is this old
  std::size_t max_pending_bytes = 64 << 20;     // bound on unsynced bytes; beyond it RetryLater
  std::size_t max_head_samples = 50'000'000;    // bound on samples held in memory; beyond it RetryLater
  // Bound on the bytes the head (open, late and sealed buffers) holds plus what is pending in the
  // WAL buffers; beyond it RetryLater, and the chunk flusher seals and writes early to make room.
  std::size_t max_head_bytes = std::size_t{1} << 30;  // 1 GiB
  std::uint64_t wal_segment_bytes = 64 << 20;   // WAL segments rotate at this size (docs/formats/wal.md)
  // Chunk files (docs/formats/chunk.md): the head seals a series' buffer at chunk_samples samples
  // or when a sample falls in a newer partition (samples of an older partition than the series'
  // newest go to a separate late buffer, merged by reads; docs/historian.md "Late data"); a
  // background thread writes sealed chunks into
  // <dir>/chunks/<partition_start>_<n>.chunk every chunk_flush_interval_ms and then deletes WAL
  // segments whose samples are all in chunk files.
  std::int64_t partition_ns = 3'600'000'000'000;  // 1 h
  std::size_t chunk_samples = 1024;               // 1 .. 65,535
  std::int64_t chunk_flush_interval_ms = 1000;
  // A series' open buffer that has not filled within this time is sealed anyway, so that a slow
  // series does not keep its WAL records (and so every later WAL segment) alive. > 0.
  std::int64_t seal_idle_ms = 600'000;  // 10 min
  // Retention by whole partitions: chunk files of partitions that end at or before
  // now - retention_ns are deleted by the chunk flusher. 0 keeps data forever.
  std::int64_t retention_ns = 0;
  // Compaction (docs/historian.md "Compaction"): one background thread folds every partition that
  // has several chunk files (one per flush, plus late data and backfill) into one file, newest
  // sample winning on equal (series, ts) as reads do. It looks every compaction_interval_ms, leaves
  // the store's newest partition alone (it still receives a file per flush) and paces its reads
  // and writes to compaction_bytes_per_s (0 = unpaced). compaction_interval_ms = 0 disables the
  // thread (compact() can still be called).
  std::int64_t compaction_interval_ms = 60'000;
  std::uint64_t compaction_bytes_per_s = 32ull << 20;  // 32 MiB/s
  std::size_t compaction_min_files = 2;                // a partition with fewer files is left alone
};

// What Historian::backfill loaded.
struct BackfillReport {
  std::uint64_t samples = 0;     // accepted and durable
  std::uint64_t series = 0;      // distinct series among them
  std::uint64_t partitions = 0;  // distinct partitions they fall in
  std::uint64_t batches = 0;     // WAL records written
  std::uint64_t retries = 0;     // times the store answered RetryLater and the backfill waited
};

struct CompactionReport {
  std::uint64_t partitions = 0;     // partitions folded into one file
  std::uint64_t files_in = 0;       // files replaced
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t samples_out = 0;
  std::uint64_t abandoned = 0;      // partitions that changed meanwhile (a flush, a delete): retried later
};

// One time bucket of an aggregation: [start, start + step). min, max, sum and mean skip NaN values
// (value_count says how many were used); first and last are the values of the earliest and latest
// samples whatever they are; count counts every sample.
struct AggregateBucket {
  TimestampNs start = 0;
  std::uint64_t count = 0;
  std::uint64_t value_count = 0;
  double min = 0, max = 0, sum = 0, first = 0, last = 0;
  double mean() const { return value_count == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / double(value_count); }
};

enum class FrameFill : std::uint8_t {
  kLocf,    // last observation carried forward, at most max_staleness_ns old
  kLinear,  // linear between the observations either side, each at most max_staleness_ns away
};

// Several series on the grid from_ns, from_ns + step_ns, ... (< to_ns). values is row-major
// (rows = grid points, columns = series in request order); valid[i] says whether values[i] holds an
// observation (else it is NaN). Samples with Bad quality or a NaN value are not observations.
struct Frame {
  std::vector<TimestampNs> grid;
  std::size_t columns = 0;
  std::vector<double> values;
  std::vector<std::uint8_t> valid;
};

struct FrameRequest {
  std::vector<SeriesId> series;
  TimestampNs from_ns = 0, to_ns = 0;
  std::int64_t step_ns = 0;  // > 0
  FrameFill fill = FrameFill::kLocf;
  std::int64_t max_staleness_ns = 0;  // > 0
};

struct HistorianStats {
  std::uint64_t batches_appended = 0;
  std::uint64_t samples_appended = 0;
  std::uint64_t group_commits = 0;
  std::uint64_t bytes_synced = 0;
  std::uint64_t retry_later = 0;
  std::uint64_t recovered_records = 0;
  std::uint64_t recovered_samples = 0;
  std::uint64_t recovery_truncated_bytes = 0;  // bytes cut at the first bad record on start
  std::uint64_t head_samples = 0;
  std::uint64_t series = 0;
  std::uint64_t rejected = 0;  // empty batches, batches larger than a bound can ever admit
  bool read_only = false;      // a WAL write or sync failed; submits answer RetryLater until restart
  std::string last_error;      // why the store went read-only; empty while healthy
  std::uint64_t chunk_files = 0;          // chunk files on disk
  std::uint64_t chunk_bytes = 0;          // their total size
  std::uint64_t chunk_files_written = 0;  // by this process
  std::uint64_t wal_segments_deleted = 0; // by checkpoints of this process
  std::uint64_t head_sealed_bytes = 0;    // sealed chunks (raw columns) waiting for the chunk flusher
  std::string chunk_error;                // last chunk flush failure; empty while healthy
  std::uint64_t chunk_files_expired = 0;  // deleted by retention in this process
  std::uint64_t series_deleted = 0;       // delete_series() calls that succeeded in this process
  // Damage found on open (bit rot, a bad disk): the store opens anyway and says what it lost.
  std::string recovery_damage;            // WAL cut at a bad record: segment, byte offset, reason
  std::uint64_t damaged_chunks_skipped = 0;   // chunks that failed their CRC or structure checks
  std::uint64_t chunk_files_quarantined = 0;  // files renamed to .corrupt (header/index unreadable)
  std::string chunk_damage;               // the last chunk damage: file, byte offset, series, reason
  std::uint64_t head_bytes = 0;           // Head memory (buffers' capacity, sealed chunks, per series)
  std::uint64_t memory_retry_later = 0;   // RetryLater answers because of max_head_bytes
  std::uint64_t backfill_samples = 0;     // loaded by backfill() in this process
  std::uint64_t compactions = 0;          // partitions folded by compaction in this process
  std::uint64_t compaction_bytes_written = 0;
  std::string compaction_error;           // last compaction failure; empty while healthy
};

class Historian : public BatchConsumer {
 public:
  // Thread-safe. Accepted batches become visible to queries once durable, just before
  // on_durable fires.
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override = 0;

  virtual std::optional<Sample> latest(SeriesId series) const = 0;
  // Samples with from_ns <= ts < to_ns in timestamp order, at most `limit` of them.
  virtual std::vector<Sample> range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                                    std::size_t limit) const = 0;
  virtual HistorianStats stats() const = 0;

  // Buckets [from_ns + k*step_ns, +step_ns) that hold at least one sample, ascending. step_ns > 0.
  // The default folds range(); the engine answers whole chunks from their statistics.
  virtual std::vector<AggregateBucket> aggregate(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                                                 std::int64_t step_ns) const;
  // The default builds the frame from range() per series.
  virtual Frame frame(const FrameRequest& request) const;

  // Deletes every sample of `series` stored or accepted before the call, durably (a tombstone;
  // docs/formats/chunk.md). Samples submitted after it returns are kept. The default answers
  // kFailedPrecondition (a store without deletion).
  virtual Status delete_series(SeriesId series);

  // Loads history (an export of another system, an older logger) in any time order, for existing
  // or new series, merged with what is stored exactly as live writes are: inside a series' newest
  // partition in order, older partitions through the late path (a separate run that reads merge
  // and compaction folds in); on an equal (series, ts) the backfilled sample wins, being the later
  // write. Blocks until every sample is durable (the same promise as a submit's on_durable), or
  // returns the first error; on an error some samples may be stored and others not, and running
  // the same backfill again is harmless (equal samples replace each other). Waits, rather than
  // fails, while the store answers RetryLater, so it yields to live ingest. Thread-safe; not from
  // a DurableCallback. `source` names the origin in the WAL records' provenance. The default
  // answers kFailedPrecondition (a store without backfill).
  virtual Result<BackfillReport> backfill(std::vector<Sample>&& samples, std::string_view source);

  // Stops the flusher after syncing what is pending; further submits answer RetryLater.
  virtual void close() = 0;
};

// Opens (recovering the WAL) or creates the store in options.dir.
Result<std::unique_ptr<Historian>> open_historian(const HistorianOptions& options);

}  // namespace resonance
