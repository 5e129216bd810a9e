#pragma once
// The pipeline: runs the stages over each batch on the submitting thread (they are cheap and never
// block), hands the batch to the store (the historian), and after the store reports it durable
// fans it out to listeners through a bounded queue on its own thread, so a slow listener can never
// slow the WAL flusher or a connector.

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "resonance/core/bounded_queue.h"
#include "resonance/core/metrics.h"
#include "resonance/pipeline/pipeline.h"
#include "resonance/pipeline/quarantine.h"

namespace resonance {

struct PipelineOptions {
  std::size_t max_in_flight_batches = 4096;  // accepted but not yet durable; beyond → RetryLater
  std::size_t fanout_queue_batches = 4096;   // durable batches waiting for listeners
};

class IngestPipeline final : public BatchConsumer {
 public:
  // `store` must outlive the pipeline. `quarantine`: where refused samples go (the node passes a
  // durable one, Quarantine::open); null = an in-memory one of 1024 entries.
  IngestPipeline(const PipelineOptions& options, BatchConsumer& store, MetricsRegistry& metrics,
                 std::unique_ptr<Quarantine> quarantine = nullptr);
  ~IngestPipeline() override;
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Configuration, before start(): stages run in the order added; listeners see every durable batch.
  void add_stage(std::unique_ptr<Stage> stage);
  void add_listener(DurableListener& listener);
  // Listeners that see every batch as soon as the store accepted it (pipeline.h).
  void add_accepted_listener(AcceptedListener& listener);
  std::vector<std::string> stage_names() const;

  void start();
  // Drains the fan-out queue and joins its thread. The store must be closed first so no durable
  // callback arrives afterwards.
  void stop();

  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override;
  // The stages run on each part as submit() would run them (same quarantine, same provenance,
  // per-device identity kept), the surviving parts go to the store in one submit_group, and
  // listeners see each accepted part as its own batch. A group counts as ONE submission against
  // max_in_flight_batches: the bound is on completions outstanding, and the store bounds the
  // bytes and samples pending itself.
  std::vector<Admission> submit_group(std::span<SampleBatch> parts, DurableCallback on_durable) override;

  Quarantine& quarantine() { return *quarantine_; }
  std::size_t in_flight() const { return in_flight_.load(); }

 private:
  void fanout_loop();
  // Hands an accepted batch to the accepted listeners, on the submitting thread.
  void tell_accepted(const SampleBatch& batch);
  // Runs the stages on one batch in place; false when the batch is refused (counted).
  bool run_stages(SampleBatch& batch);

  const PipelineOptions options_;
  BatchConsumer& store_;
  std::unique_ptr<Quarantine> quarantine_;  // never null
  std::vector<std::unique_ptr<Stage>> stages_;  // fixed after start()
  std::vector<DurableListener*> listeners_;     // fixed after start()
  std::vector<AcceptedListener*> accepted_listeners_;  // fixed after start()
  std::atomic<std::size_t> in_flight_{0};
  BoundedQueue<std::shared_ptr<const SampleBatch>> fanout_queue_;
  std::jthread fanout_thread_;

  Counter& batches_in_;
  Counter& samples_in_;
  Counter& batches_durable_;
  Counter& batches_failed_;
  Counter& retry_later_;
  Counter& rejected_;
  Counter& fanout_dropped_;
  Counter& listener_retry_later_;
};

}  // namespace resonance
