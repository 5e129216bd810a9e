#include "node.h"

#include <spdlog/spdlog.h>

#include "connectors/mqttsn/gateway.h"
#include "resonance/api/api_server.h"
#include "resonance/historian/historian.h"
#include "resonance/infomodel/loader.h"
#include "resonance/infomodel/validation_stage.h"
#include "resonance/pipeline/ingest_pipeline.h"
#include "resonance/pipeline/stages.h"

namespace resonance::app {

Node::Node(NodeConfig config) : config_(std::move(config)) {}

Node::~Node() { stop(); }

Status Node::start() {
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec)
    return Status(StatusCode::kIoError, fmt::format("node.data_dir '{}': cannot create: {}",
                                                    config_.data_dir.string(), ec.message()));
  auto lock = DirLock::acquire(config_.data_dir);
  if (!lock) return lock.error();
  lock_.emplace(std::move(*lock));
  auto catalog = SeriesCatalog::open(config_.data_dir / "catalog.sqlite");
  if (!catalog) return catalog.error();
  catalog_ = std::move(*catalog);

  auto historian_opts = historian_options(config_);
  if (!historian_opts) return historian_opts.error();
  HistorianOptions hopts = std::move(*historian_opts);
  hopts.dir = config_.data_dir / "historian";
  auto historian = open_historian(hopts);
  if (!historian) return historian.error();
  historian_ = std::move(*historian);
  const HistorianStats hs = historian_->stats();
  spdlog::info("historian: {} recovered {} records ({} samples) in {} series; {} bytes truncated",
               hopts.dir.string(), hs.recovered_records, hs.recovered_samples, hs.series,
               hs.recovery_truncated_bytes);
  metrics_.gauge_fn("resonance_historian_head_samples", "Samples held in the in-memory head",
                    [h = historian_.get()] { return static_cast<double>(h->stats().head_samples); });
  metrics_.gauge_fn("resonance_historian_group_commits", "Group commits (fdatasync) since start",
                    [h = historian_.get()] { return static_cast<double>(h->stats().group_commits); });

  PipelineOptions popts;
  popts.max_in_flight_batches = static_cast<std::size_t>(config_.max_in_flight_batches);
  // Refused samples and payloads are kept durably beside the data (docs/formats/quarantine.md).
  auto quarantine = Quarantine::open(config_.data_dir / "quarantine.sqlite", metrics_);
  if (!quarantine) return quarantine.error();
  pipeline_ = std::make_unique<IngestPipeline>(popts, *historian_, metrics_, std::move(*quarantine));
  pipeline_->add_stage(make_validation_stage({}, *catalog_, pipeline_->quarantine(), metrics_));
  // The information model checks what the catalog cannot: the signal exists in its equipment
  // category, its type and range, and that each series' timestamps do not go backwards.
  pipeline_->add_stage(infomodel::make_model_validation_stage(infomodel::builtin_model(), *catalog_,
                                                              pipeline_->quarantine(), metrics_));
  pipeline_->add_stage(make_governance_stage(metrics_));
  pipeline_->start();

  if (config_.api_enabled) {
    api::ApiOptions aopts;
    aopts.bind_address = config_.api_bind;
    aopts.port = config_.api_port;
    aopts.node_name = config_.node_name;
    aopts.quarantine = &pipeline_->quarantine();
    api_ = std::make_unique<api::ApiServer>(aopts, *catalog_, *historian_, metrics_);
    if (Status s = api_->start(); !s) return s;
    spdlog::info("api: listening on http://{}:{}/", config_.api_bind, api_->bound_port());
  }
  if (config_.mqttsn_enabled) {
    mqttsn::GatewayOptions gopts;
    gopts.bind_address = config_.mqttsn_bind;
    gopts.port = config_.mqttsn_port;
    gopts.max_clients = static_cast<std::size_t>(config_.mqttsn_max_clients);
    gopts.gateway_id = static_cast<std::uint8_t>(config_.mqttsn_gateway_id);
    auto predefined = mqttsn::parse_predefined_topics(config_.mqttsn_predefined_topics);
    if (!predefined) return predefined.error();
    gopts.predefined_topics = std::move(*predefined);
    for (auto& id : mqttsn::split_list(config_.mqttsn_allowed_client_ids)) gopts.allowed_client_ids.insert(id);
    for (auto& a : mqttsn::split_list(config_.mqttsn_allowed_sources)) gopts.allowed_sources.insert(a);
    gopts.advertise_interval_ms = static_cast<int>(config_.mqttsn_advertise_interval_s * 1000);
    gopts.advertise_address = config_.mqttsn_advertise_address;
    gopts.retry_timeout_ms = static_cast<int>(config_.mqttsn_retry_timeout_ms);
    gopts.max_retries = static_cast<int>(config_.mqttsn_max_retries);
    gopts.max_queued_per_client = static_cast<std::size_t>(config_.mqttsn_max_queued_per_client);
    if (config_.mqttsn_persist_sessions)
      gopts.state_file = (config_.data_dir / "mqttsn-sessions.state").string();
    gopts.quarantine = &pipeline_->quarantine();  // refused payloads, with their raw bytes
    gateway_ = std::make_unique<mqttsn::Gateway>(gopts, *pipeline_, *catalog_, metrics_);
    if (Status s = gateway_->start(); !s) return s;  // the gateway logs its own address
  }
  started_ = true;
  return Status::ok();
}

void Node::stop() {
  // Order matters: stop intake and readers, then make everything accepted durable (firing the
  // last PUBACKs is pointless once the gateway is gone, but the data must be synced).
  if (gateway_) gateway_->stop();
  if (api_) api_->stop();
  if (historian_) historian_->close();
  if (pipeline_) pipeline_->stop();
  if (started_) spdlog::info("node '{}' stopped", config_.node_name);
  started_ = false;
}

std::uint16_t Node::mqttsn_port() const { return gateway_ ? gateway_->bound_port() : 0; }
std::uint16_t Node::api_port() const { return api_ ? api_->bound_port() : 0; }

}  // namespace resonance::app
