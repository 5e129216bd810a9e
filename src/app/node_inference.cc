// The [inference] section of the node: which models run, where their records go, their metrics.
// Kept apart from node.cc so the composition root stays readable.

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "connectors/mqttsn/gateway.h"  // split_list
#include "model_watcher.h"
#include "node.h"
#include "resonance/api/api_server.h"
#include "resonance/audit/entry.h"
#include "resonance/audit/log.h"
#include "resonance/core/time.h"
#include "resonance/infomodel/loader.h"
#include "resonance/models/inference.h"
#include "resonance/models/dataset.h"  // sha256_hex
#include "resonance/models/inference_log.h"
#include "resonance/models/manifest.h"
#include "resonance/models/registry.h"
#include "resonance/models/table.h"
#include "resonance/pipeline/ingest_pipeline.h"

namespace resonance::app {

namespace {

Result<models::Deployment> from_dir(const std::filesystem::path& dir) {
  const auto file = dir / "manifest.json";
  auto text = models::read_file_bytes(file);
  if (!text) return error(StatusCode::kNotFound, fmt::format("inference.model_dirs: {}", text.error().message()));
  auto manifest = models::parse_manifest(*text, file.string());
  if (!manifest) return error(manifest.error());
  return models::Deployment{std::move(*manifest), dir};
}

}  // namespace

Status Node::start_inference() {
  if (!config_.inference_enabled) return Status::ok();
  std::vector<models::Deployment> deployments;
  std::vector<std::string> follow_production;  // registry names deployed without @version
  std::filesystem::path models_dir;
  for (const auto& dir : mqttsn::split_list(config_.inference_model_dirs)) {
    auto d = from_dir(dir);
    if (!d) return d.error();
    deployments.push_back(std::move(*d));
  }
  if (!config_.inference_deploy.empty()) {
    if (config_.inference_registry.empty())
      return Status(StatusCode::kInvalidArgument, "inference.deploy: names registry models, but inference.registry is empty");
    auto registry = models::ModelRegistry::open(config_.inference_registry);
    if (!registry) return registry.error();
    models_dir = config_.inference_models_dir.empty()
                                                 ? std::filesystem::path(config_.inference_registry).parent_path() / "models"
                                                 : std::filesystem::path(config_.inference_models_dir);
    for (const auto& spec : mqttsn::split_list(config_.inference_deploy)) {
      auto d = deployment_from_registry(**registry, models_dir, spec);
      if (!d) return d.error();
      deployments.push_back(std::move(*d));
      if (spec.find('@') == std::string::npos) follow_production.push_back(spec);
    }
  }
  if (deployments.empty()) spdlog::warn("inference: enabled, but no model is deployed (inference.deploy, inference.model_dirs)");

  // Records: a JSON-lines file (optional) and inference.batch entries in the transparency log.
  models::InferenceLogWriter::AuditAppend append;
  if (audit_log_) {
    append = [log = audit_log_.get()](std::span<const std::string> bodies) -> Status {
      std::vector<audit::Entry> entries;
      entries.reserve(bodies.size());
      const TimestampNs now = unix_now_ns();
      for (const auto& body : bodies) entries.push_back({audit::EntryType::kInferenceBatch, now, body});
      auto appended = log->append_batch(entries);
      if (!appended) {
        spdlog::error("inference: {} inference.batch entries not written to the audit log: {}", entries.size(),
                      appended.error().message());
        return appended.error();
      }
      return Status::ok();
    };
  }
  const auto log_file = config_.data_dir / "inference" / "inference.jsonl";
  if (config_.inference_log || append) {
    // Without [inference] log the file is not kept: the writer still runs for the audit entries,
    // writing to a file nobody reads would be waste, so it goes to /dev/null.
    auto writer = models::InferenceLogWriter::open(config_.inference_log ? log_file : "/dev/null", std::move(append));
    if (!writer) return writer.error();
    inference_log_ = std::move(*writer);
  }

  models::InferenceOptions options;
  options.max_pending_samples = static_cast<std::size_t>(config_.inference_max_pending_samples);
  options.output_retry_ms = static_cast<int>(config_.inference_output_retry_ms);
  options.max_output_attempts = static_cast<int>(config_.inference_max_output_attempts);
  models::InferenceRecordSink sink = [w = inference_log_.get()](std::vector<models::InferenceRecord>&& records) {
    if (w) w->push(std::move(records));
  };
  // The switch line goes into the log file between the old version's records and the new one's.
  models::ModelSwitchSink on_switch = [w = inference_log_.get()](const models::ModelSwitch& e) {
    if (w) w->push_switch(e);
  };
  inference_ = std::make_unique<models::InferenceScheduler>(*model_, *catalog_, *pipeline_,
                                                            std::move(sink), options, std::move(on_switch));
  for (auto& d : deployments)
    if (Status s = inference_->deploy(std::move(d)); !s) return s;
  // On accepted samples: a sample waits for one group commit on its way to a model output (the
  // output's), not two; the scheduler releases a record only once its outputs are durable.
  pipeline_->add_accepted_listener(*inference_);
  inference_->start();

  if (!follow_production.empty()) {
    // promote/rollback while the node runs switch the deployed version live (model_watcher.h).
    ModelWatcher::OnSwitch recorded;
    if (audit_log_)
      recorded = [log = audit_log_.get(), registry = config_.inference_registry](const models::RegistryEntry& now,
                                                                                 const std::string& from) {
        const TimestampNs at = unix_now_ns();
        const nlohmann::json body = {{"event", "deployed"},
                                     {"name", now.name},
                                     {"version", now.version},
                                     {"from_version", from},
                                     {"at", format_rfc3339(at)},
                                     {"manifest_sha256", models::sha256_hex(now.manifest_json)},
                                     {"registry", registry}};
        if (auto appended = log->append({audit::EntryType::kModelLifecycle, at,
                                         body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
            !appended)
          spdlog::error("inference: switch of {} to {} not recorded in the audit log: {}", now.name, now.version,
                        appended.error().message());
      };
    model_watcher_ = std::make_unique<ModelWatcher>(*inference_, config_.inference_registry, models_dir,
                                                    std::move(follow_production), std::chrono::milliseconds(1000),
                                                    std::move(recorded));
    (void)model_watcher_->check_now();  // marks the registry as seen; deploys a promote made during start
    model_watcher_->start();
    metrics_.gauge_fn("resonance_inference_model_switches", "Deployed model versions switched live after a registry change",
                      [w = model_watcher_.get()] { return static_cast<double>(w->switches()); });
    metrics_.gauge_fn("resonance_inference_refused_versions",
                      "Production versions not switched to (missing file, sha256 or contract mismatch); the old one ran on",
                      [w = model_watcher_.get()] { return static_cast<double>(w->refused()); });
    metrics_.gauge_fn("resonance_inference_registry_read_errors", "Failed reads of the model registry by the watcher",
                      [w = model_watcher_.get()] { return static_cast<double>(w->errors()); });
  }

  auto stat = [s = inference_.get()](auto field) { return [s, field] { return static_cast<double>(s->stats().*field); }; };
  using St = models::InferenceStats;
  metrics_.gauge_fn("resonance_inference_runs", "Model runs since start", stat(&St::runs));
  metrics_.gauge_fn("resonance_inference_skipped_windows",
                    "Windows not run: an input had no sample in its window, or the backend failed", stat(&St::skipped_windows));
  metrics_.gauge_fn("resonance_inference_skipped_samples", "Accepted samples the inference hand-off turned away (full)",
                    stat(&St::skipped_samples));
  // Like records_dropped below, an audit finding: runs the evidence does not show (their outputs,
  // which would prove their inputs durable, never became durable).
  metrics_.gauge_fn("resonance_inference_unconfirmed_records",
                    "Inference records not logged because no durable output batch covers their inputs",
                    stat(&St::unconfirmed_records));
  metrics_.gauge_fn("resonance_inference_outputs_written", "Model output samples accepted by the pipeline",
                    stat(&St::outputs_written));
  metrics_.gauge_fn("resonance_inference_dropped_outputs", "Model output samples given up (rejected, or RetryLater too long)",
                    stat(&St::dropped_outputs));
  metrics_.gauge_fn("resonance_inference_latency_p50_ns", "Median model run time over the last 4,096 runs",
                    stat(&St::latency_p50_ns));
  metrics_.gauge_fn("resonance_inference_latency_p99_ns", "99th percentile model run time over the last 4,096 runs",
                    stat(&St::latency_p99_ns));
  if (inference_log_) {
    // A non-zero value is an audit finding: runs happened that the evidence does not show.
    metrics_.gauge_fn("resonance_inference_records_dropped", "Inference records the log writer turned away (full)",
                      [w = inference_log_.get()] { return static_cast<double>(w->stats().dropped); });
    metrics_.gauge_fn("resonance_inference_record_write_errors", "Failed inference log or audit writes",
                      [w = inference_log_.get()] { return static_cast<double>(w->stats().write_errors); });
  }
  return Status::ok();
}

void Node::attach_inference_api(api::ApiOptions& options) const {
  if (!inference_log_ || !inference_) return;
  // Both outlive the API server: Node::stop stops the API before the scheduler and the writer.
  options.inference = [log = inference_log_.get(),
                       scheduler = inference_.get()](const api::InferenceQuery& q)
      -> Result<std::vector<api::InferenceRecordView>> {
    std::vector<api::InferenceRecordView> out;
    for (const auto& r : log->recent(q.model, q.from_ns, q.to_ns, q.limit))
      out.push_back({models::inference_record_json(r), scheduler->output_series(r.model, r.equipment)});
    return out;
  };
}

}  // namespace resonance::app
