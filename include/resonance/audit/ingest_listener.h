#pragma once
// Logs every durable ingest batch as an `ingest.batch` entry (docs/formats/tlog-entry.md): the
// hook the node adds with IngestPipeline::add_listener. on_durable only summarises the batch into
// a bounded queue (never blocks; RetryLater when full); a writer thread appends what is pending
// every `flush_interval_ms` with one journal sync, and signs a checkpoint every
// `checkpoint_interval_ms`.

#include <atomic>
#include <cstdint>
#include <vector>

#include "resonance/audit/log.h"
#include "resonance/core/batching_writer.h"
#include "resonance/core/sample.h"
#include "resonance/pipeline/pipeline.h"

namespace resonance::audit {

// The ingest.batch entry for one batch: connector, device, receive time, transformations, sample
// count, series, time range and a SHA-256 digest of the samples (docs/formats/tlog-entry.md).
Entry ingest_batch_entry(const SampleBatch& batch);

class IngestListener final : public DurableListener {
 public:
  IngestListener(Log& log, std::size_t max_pending = 10'000, int flush_interval_ms = 200,
                 int checkpoint_interval_ms = 5'000);
  ~IngestListener() override;  // appends what is pending and signs a last checkpoint

  std::string_view name() const override { return "audit"; }
  Admission on_durable(const SampleBatch& batch) override;
  Status flush();  // appends what is pending now (tests, shutdown)
  std::uint64_t append_errors() const;
  std::uint64_t dropped() const;

 private:
  Log& log_;
  std::atomic<std::uint64_t> oversize_{0};  // entries too large for the log (never queued)
  BatchingWriter<Entry> writer_;            // last: its thread uses log_
};

}  // namespace resonance::audit
