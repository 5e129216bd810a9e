#pragma once
// The embedded historian: a write-ahead log with group commit, a per-series in-memory head and
// queries over it. The contract other components use; the engine lives in src/historian.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
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
  std::uint64_t wal_segment_bytes = 64 << 20;   // WAL segments rotate at this size (docs/formats/wal.md)
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

  // Stops the flusher after syncing what is pending; further submits answer RetryLater.
  virtual void close() = 0;
};

// Opens (recovering the WAL) or creates the store in options.dir.
Result<std::unique_ptr<Historian>> open_historian(const HistorianOptions& options);

}  // namespace resonance
