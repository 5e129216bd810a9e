#include "resonance/pipeline/ingest_pipeline.h"

#include <spdlog/spdlog.h>

namespace resonance {

std::string_view to_string(Admission admission) {
  switch (admission) {
    case Admission::kAccepted: return "accepted";
    case Admission::kRetryLater: return "retry_later";
    case Admission::kRejected: return "rejected";
  }
  return "unknown";
}

IngestPipeline::IngestPipeline(const PipelineOptions& options, BatchConsumer& store,
                               MetricsRegistry& metrics, std::unique_ptr<Quarantine> quarantine)
    : options_(options),
      store_(store),
      quarantine_(quarantine ? std::move(quarantine) : std::make_unique<Quarantine>(metrics, 1024)),
      fanout_queue_(options.fanout_queue_batches),
      batches_in_(metrics.counter("resonance_pipeline_batches_total", "Batches submitted to the pipeline")),
      samples_in_(metrics.counter("resonance_pipeline_samples_total", "Samples submitted to the pipeline")),
      batches_durable_(metrics.counter("resonance_pipeline_batches_durable_total",
                                       "Batches the store reported durable")),
      batches_failed_(metrics.counter("resonance_pipeline_batches_failed_total",
                                      "Accepted batches the store failed to make durable")),
      retry_later_(metrics.counter("resonance_pipeline_retry_later_total",
                                   "Submissions answered RetryLater (backpressure)")),
      rejected_(metrics.counter("resonance_pipeline_rejected_total",
                                "Submissions rejected whole (all samples quarantined or store refused)")),
      fanout_dropped_(metrics.counter("resonance_pipeline_fanout_dropped_total",
                                      "Durable batches not fanned out because the queue was full")),
      listener_retry_later_(metrics.counter("resonance_pipeline_listener_retry_later_total",
                                            "Batches a listener (durable or accepted) could not take")) {
  metrics.gauge_fn("resonance_pipeline_in_flight_batches",
                   "Batches accepted and not yet durable", [this] { return static_cast<double>(in_flight_.load()); });
}

IngestPipeline::~IngestPipeline() { stop(); }

void IngestPipeline::add_stage(std::unique_ptr<Stage> stage) { stages_.push_back(std::move(stage)); }
void IngestPipeline::add_listener(DurableListener& listener) { listeners_.push_back(&listener); }
void IngestPipeline::add_accepted_listener(AcceptedListener& listener) { accepted_listeners_.push_back(&listener); }

std::vector<std::string> IngestPipeline::stage_names() const {
  std::vector<std::string> names;
  for (const auto& s : stages_) names.emplace_back(s->name());
  return names;
}

void IngestPipeline::start() {
  if (listeners_.empty() || fanout_thread_.joinable()) return;
  fanout_thread_ = std::jthread([this] { fanout_loop(); });
}

void IngestPipeline::stop() {
  fanout_queue_.close();
  if (fanout_thread_.joinable()) fanout_thread_.join();
}

Admission IngestPipeline::submit(SampleBatch&& batch, DurableCallback on_durable) {
  batches_in_.inc();
  samples_in_.inc(batch.samples.size());
  if (in_flight_.load(std::memory_order_relaxed) >= options_.max_in_flight_batches) {
    retry_later_.inc();
    return Admission::kRetryLater;
  }
  if (!run_stages(batch)) return Admission::kRejected;
  // Listeners need the batch after the store has consumed it: keep a shared copy only then.
  std::shared_ptr<const SampleBatch> for_fanout;
  if (!listeners_.empty() || !accepted_listeners_.empty()) for_fanout = std::make_shared<const SampleBatch>(batch);
  in_flight_.fetch_add(1);
  const Admission admission = store_.submit(
      std::move(batch), [this, for_fanout, cb = std::move(on_durable)](const Status& status) mutable {
        in_flight_.fetch_sub(1);
        if (status.is_ok()) {
          batches_durable_.inc();
          if (for_fanout) {
            auto copy = for_fanout;
            if (!fanout_queue_.try_push(std::move(copy))) fanout_dropped_.inc();
          }
        } else {
          batches_failed_.inc();
        }
        if (cb) cb(status);
      });
  if (admission != Admission::kAccepted) {
    in_flight_.fetch_sub(1);
    (admission == Admission::kRetryLater ? retry_later_ : rejected_).inc();
  } else if (!accepted_listeners_.empty()) {
    tell_accepted(*for_fanout);
  }
  return admission;
}

void IngestPipeline::tell_accepted(const SampleBatch& batch) {
  for (AcceptedListener* listener : accepted_listeners_)
    if (listener->on_accepted(batch) != Admission::kAccepted) listener_retry_later_.inc();
}

bool IngestPipeline::run_stages(SampleBatch& batch) {
  for (const auto& stage : stages_) {
    if (Status s = stage->process(batch); !s) {
      // A stage failing as a whole (not per sample) is surprising: log and count, refuse the batch.
      spdlog::warn("pipeline: stage '{}' refused a batch from {}/{}: {}", stage->name(),
                   batch.provenance.connector, batch.provenance.client_id, s.to_string());
      rejected_.inc();
      return false;
    }
  }
  if (batch.samples.empty()) {  // every sample went to the quarantine
    rejected_.inc();
    return false;
  }
  return true;
}

namespace {

// One group in flight. Two events must both happen before the group completes: the store's
// durable callback, and the submitter learning which parts the store accepted (the callback may
// come first: the flusher can sync the group before submit_group() has returned). Whichever comes
// second completes it, so listeners only ever see parts that were accepted.
struct GroupInFlight {
  std::mutex mu;
  int events = 2;
  Status status = Status::ok();
  std::vector<Admission> admissions;                         // the store's, one per stored part
  std::vector<std::shared_ptr<const SampleBatch>> fanout;    // copies for listeners (if any)
  DurableCallback on_durable;
};

}  // namespace

std::vector<Admission> IngestPipeline::submit_group(std::span<SampleBatch> parts, DurableCallback on_durable) {
  std::vector<Admission> out(parts.size(), Admission::kRetryLater);
  if (parts.empty()) return out;
  batches_in_.inc(parts.size());
  std::size_t samples = 0;
  for (const auto& p : parts) samples += p.samples.size();
  samples_in_.inc(samples);
  if (in_flight_.load(std::memory_order_relaxed) >= options_.max_in_flight_batches) {
    retry_later_.inc(parts.size());
    return out;
  }
  // Stages per part: a refusal costs only that part (and its device), never its neighbours.
  std::vector<std::size_t> kept;  // indices into parts
  std::vector<SampleBatch> stored;
  kept.reserve(parts.size());
  stored.reserve(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!run_stages(parts[i])) {
      out[i] = Admission::kRejected;
      continue;
    }
    kept.push_back(i);
    stored.push_back(std::move(parts[i]));
  }
  if (stored.empty()) return out;

  auto group = std::make_shared<GroupInFlight>();
  group->on_durable = std::move(on_durable);
  if (!listeners_.empty() || !accepted_listeners_.empty()) {
    group->fanout.reserve(stored.size());
    for (const auto& b : stored) group->fanout.push_back(std::make_shared<const SampleBatch>(b));
  }
  // Completes the group once both events are in; runs with no lock held.
  auto complete = [this](GroupInFlight& g) {
    in_flight_.fetch_sub(1);
    std::size_t accepted = 0;
    for (std::size_t j = 0; j < g.admissions.size(); ++j) {
      if (g.admissions[j] != Admission::kAccepted) continue;
      ++accepted;
      if (g.status.is_ok() && !listeners_.empty()) {
        auto copy = g.fanout[j];
        if (!fanout_queue_.try_push(std::move(copy))) fanout_dropped_.inc();
      }
    }
    (g.status.is_ok() ? batches_durable_ : batches_failed_).inc(accepted);
    if (g.on_durable) g.on_durable(g.status);
  };
  in_flight_.fetch_add(1);
  const std::vector<Admission> admissions =
      store_.submit_group(stored, [group, complete](const Status& status) {
        {
          std::lock_guard lock(group->mu);
          group->status = status;
          if (--group->events > 0) return;
        }
        complete(*group);
      });
  bool any = false;
  for (std::size_t j = 0; j < kept.size(); ++j) {
    const Admission a = j < admissions.size() ? admissions[j] : Admission::kRejected;
    out[kept[j]] = a;
    if (a == Admission::kAccepted) {
      any = true;
      if (!accepted_listeners_.empty()) tell_accepted(*group->fanout[j]);
    } else {
      (a == Admission::kRetryLater ? retry_later_ : rejected_).inc();
    }
  }
  if (!any) {
    in_flight_.fetch_sub(1);  // the store took nothing, so its callback never fires
    return out;
  }
  {
    std::lock_guard lock(group->mu);
    group->admissions = admissions;
    if (--group->events > 0) return out;
  }
  complete(*group);
  return out;
}

void IngestPipeline::fanout_loop() {
  while (!fanout_queue_.closed()) {
    auto batch = fanout_queue_.pop(std::chrono::milliseconds(200));
    if (!batch) continue;
    for (DurableListener* listener : listeners_)
      if (listener->on_durable(**batch) != Admission::kAccepted) listener_retry_later_.inc();
  }
}

}  // namespace resonance
