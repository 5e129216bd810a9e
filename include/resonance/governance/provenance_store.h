#pragma once
// Provenance of every ingested batch (connector, device identity, receive time, transformations,
// series and time range), kept in SQLite and queryable per series and time range. Schema:
// docs/formats/provenance.md.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/batching_writer.h"
#include "resonance/core/sample.h"
#include "resonance/core/status.h"
#include "resonance/pipeline/pipeline.h"

struct sqlite3;

namespace resonance::governance {

struct ProvenanceRecord {
  std::int64_t batch_id = 0;  // assigned by the store, increasing
  std::string connector;
  std::string client_id;
  TimestampNs receive_ts_ns = 0;
  std::vector<std::string> transformations;
  TimestampNs min_ts_ns = 0, max_ts_ns = 0;  // over the whole batch
  std::uint64_t sample_count = 0;
  std::vector<SeriesId> series;  // distinct, ascending
};

struct SeriesRange {
  SeriesId series = 0;
  TimestampNs min_ts_ns = 0, max_ts_ns = 0;
};

// What the store keeps of a batch: its provenance and, per series, the time range it covered.
struct BatchSummary {
  Provenance provenance;
  TimestampNs min_ts_ns = 0, max_ts_ns = 0;
  std::uint64_t sample_count = 0;
  std::vector<SeriesRange> series;  // ascending by series
};
BatchSummary summarize(const SampleBatch& batch);

// Thread-safe (one connection guarded by a mutex).
class ProvenanceStore {
 public:
  // `file` may be ":memory:" for tests.
  static Result<std::unique_ptr<ProvenanceStore>> open(const std::filesystem::path& file);
  ~ProvenanceStore();
  ProvenanceStore(const ProvenanceStore&) = delete;
  ProvenanceStore& operator=(const ProvenanceStore&) = delete;

  // Records one batch (an empty batch is recorded too: it still came from somewhere). Returns the
  // id.
  Result<std::int64_t> record(const BatchSummary& batch);
  // Records many batches in one transaction (all or none).
  Status record_all(std::span<const BatchSummary> batches);
  // Batches holding samples of `series` with timestamps overlapping [from_ns, to_ns], by batch id.
  Result<std::vector<ProvenanceRecord>> query(SeriesId series, TimestampNs from_ns,
                                              TimestampNs to_ns, std::size_t limit = 1000) const;
  Result<std::int64_t> count() const;

 private:
  explicit ProvenanceStore(sqlite3* db) : db_(db) {}
  Result<std::int64_t> insert_locked(const BatchSummary& batch);

  mutable std::mutex mu_;
  sqlite3* db_;  // owned; guarded by mu_
};

// The hook for the ingest pipeline (IngestPipeline::add_listener): copies the provenance summary
// of each durable batch into a bounded in-memory queue (never blocks; RetryLater when full) that a
// writer thread flushes to the store in one transaction every `flush_interval_ms`.
class ProvenanceListener final : public DurableListener {
 public:
  ProvenanceListener(ProvenanceStore& store, std::size_t max_pending = 10'000,
                     int flush_interval_ms = 200);
  ~ProvenanceListener() override;  // flushes what is pending, then joins the writer

  std::string_view name() const override { return "provenance"; }
  Admission on_durable(const SampleBatch& batch) override;
  Status flush();  // writes what is pending now (tests, shutdown)
  std::uint64_t write_errors() const;

 private:
  ProvenanceStore& store_;
  BatchingWriter<BatchSummary> writer_;  // last: its thread uses store_
};

}  // namespace resonance::governance
