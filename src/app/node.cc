#include "node.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <span>
#include <vector>

#include "connectors/mqttsn/bridge.h"
#include "connectors/mqttsn/gateway.h"
#include "opcua_signals.h"
#include "resonance/connectors/opcua/opcua_connector.h"
#include "resonance/audit/ingest_listener.h"
#include "resonance/audit/log.h"
#include "resonance/audit/note.h"
#include "lifecycle_forwarder.h"
#include "model_watcher.h"
#include "resonance/governance/consents.h"
#include "resonance/governance/gate.h"
#include "resonance/governance/policy.h"
#include "resonance/governance/records.h"
#include "resonance/governance/provenance_store.h"
#include "resonance/api/api_server.h"
#include "resonance/historian/historian.h"
#include "resonance/infomodel/loader.h"
#include "resonance/infomodel/validation_stage.h"
#include "resonance/pipeline/ingest_pipeline.h"
#include "resonance/pipeline/stages.h"
#include "resonance/models/inference.h"
#include "resonance/models/inference_log.h"

namespace resonance::app {

namespace {

// The [opcua] section and its signals file, checked before anything starts, so a typo in the
// mapping does not leave a half-started node.
Result<std::optional<OpcuaConnectorConfig>> opcua_config(const NodeConfig& config, const infomodel::Model& model) {
  if (!config.opcua_enabled) return std::optional<OpcuaConnectorConfig>{};
  OpcuaConnectorConfig ocfg;
  ocfg.endpoint_url = config.opcua_endpoint;
  if (ocfg.endpoint_url.empty())
    return error(StatusCode::kInvalidArgument, "opcua.endpoint: required when opcua.enabled = true");
  if (config.opcua_signals_file.empty())
    return error(StatusCode::kInvalidArgument, "opcua.signals_file: required when opcua.enabled = true");
  auto mappings = load_opcua_signals(config.opcua_signals_file, model);
  if (!mappings) return error(mappings.error());
  ocfg.signals = std::move(mappings->signals);
  ocfg.machines = std::move(mappings->machines);
  ocfg.user_name = config.opcua_user_name;
  if (!config.opcua_password_env.empty()) {
    const char* password = std::getenv(config.opcua_password_env.c_str());
    if (password == nullptr)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("opcua.password_env: environment variable '{}' is not set",
                               config.opcua_password_env));
    ocfg.password = password;
  }
  ocfg.publishing_interval_ms = static_cast<double>(config.opcua_publishing_interval_ms);
  ocfg.sampling_interval_ms = static_cast<double>(config.opcua_sampling_interval_ms);
  ocfg.queue_size = static_cast<std::uint32_t>(config.opcua_queue_size);
  ocfg.request_timeout_ms = static_cast<std::uint32_t>(config.opcua_request_timeout_ms);
  ocfg.security_policy = config.opcua_security_policy;
  ocfg.security_mode = config.opcua_security_mode;
  ocfg.certificate_file = config.opcua_certificate;
  ocfg.private_key_file = config.opcua_private_key;
  ocfg.trust_dir = config.opcua_trust_dir;
  ocfg.server_certificate_file = config.opcua_server_certificate;
  // Checked here (names, files readable) so a typo stops the node at start, not at every reconnect.
  if (auto s = check_opcua_security(ocfg); !s) return error(std::move(s));
  return std::optional<OpcuaConnectorConfig>(std::move(ocfg));
}

// The [mqtt_bridge] section, checked before anything starts.
Result<std::optional<mqttsn::BridgeOptions>> bridge_options(const NodeConfig& c) {
  if (!c.bridge_enabled) return std::optional<mqttsn::BridgeOptions>{};
  mqttsn::BridgeOptions b;
  b.host = c.bridge_host;
  b.port = static_cast<std::uint16_t>(c.bridge_port);
  b.client_id = c.bridge_client_id;
  b.username = c.bridge_username;
  if (!c.bridge_password_env.empty()) {
    const char* password = std::getenv(c.bridge_password_env.c_str());
    if (password == nullptr)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("mqtt_bridge.password_env: environment variable '{}' is not set",
                               c.bridge_password_env));
    b.password = password;
  }
  b.keep_alive_s = static_cast<int>(c.bridge_keep_alive_s);
  b.reconnect_min_s = static_cast<int>(c.bridge_reconnect_min_s);
  b.reconnect_max_s = static_cast<int>(c.bridge_reconnect_max_s);
  b.subscribe = mqttsn::split_list(c.bridge_subscribe);
  b.subscribe_qos = static_cast<int>(c.bridge_subscribe_qos);
  b.max_down_qos = static_cast<int>(c.bridge_max_down_qos);
  b.broker_prefix = c.bridge_broker_prefix;
  b.device_prefix = c.bridge_device_prefix;
  b.publish_wills = c.bridge_publish_wills;
  b.max_pending_wills = static_cast<std::size_t>(c.bridge_max_pending_wills);
  if (Status s = mqttsn::validate(b); !s) return error(s);
  return std::optional<mqttsn::BridgeOptions>(std::move(b));
}

// The log's signing key: the configured file, or one generated on the first start beside the data
// (mode 0600), so a node is auditable from its first sample without a setup step.
Result<audit::Signer> audit_signer(const NodeConfig& c) {
  if (!c.audit_key_file.empty()) return audit::Signer::load(c.audit_key_file);
  const std::filesystem::path prefix = c.data_dir / "audit-key" / "node";
  if (std::filesystem::exists(prefix.string() + ".key")) return audit::Signer::load(prefix.string() + ".key");
  std::error_code ec;
  std::filesystem::create_directories(prefix.parent_path(), ec);
  if (ec)
    return error(StatusCode::kIoError,
                 fmt::format("audit: cannot create '{}': {}", prefix.parent_path().string(), ec.message()));
  const std::string origin = c.audit_origin.empty() ? "resonance/" + c.node_name : c.audit_origin;
  auto signer = audit::Signer::generate(origin, audit::KeyType::kEd25519);
  if (!signer) return signer;
  if (Status s = audit::save_key_pair(*signer, prefix.string()); !s) return error(s);
  spdlog::info("audit: generated signing key {}.key; give auditors {}.vkey", prefix.string(), prefix.string());
  return signer;
}

// Without an audit log decisions are only counted (the gate still decides and denies by default).
class CountingDecisionSink final : public governance::DecisionSink {
 public:
  void record(const governance::DecisionRecord&) override { count_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> count_{0};
};

// The decision sink: batched appends of policy.decision entries to the audit log, off the deciding
// thread (an append syncs to disk; an exit must not wait for that).
std::unique_ptr<governance::DecisionSink> make_decision_sink(audit::Log* log, MetricsRegistry& metrics) {
  if (!log) return std::make_unique<CountingDecisionSink>();
  auto sink = std::make_unique<governance::BatchingDecisionSink>(
      [log](std::span<const governance::BatchingDecisionSink::Item> items) -> Status {
        std::vector<audit::Entry> entries;
        entries.reserve(items.size());
        for (const auto& item : items)
          entries.push_back({audit::EntryType::kPolicyDecision, item.at_ns, item.body});
        auto appended = log->append_batch(entries);
        if (!appended) {
          spdlog::error("governance: {} egress decisions not written to the audit log: {}", items.size(),
                        appended.error().message());
          return appended.error();
        }
        return Status::ok();
      });
  // A non-zero value is an audit finding: decisions were taken that the log does not show.
  metrics.gauge_fn("resonance_egress_decisions_dropped",
                   "Egress decisions not written to the audit log (queue full)",
                   [s = sink.get()] { return static_cast<double>(s->dropped()); });
  metrics.gauge_fn("resonance_egress_decision_write_errors",
                   "Batches of egress decisions the audit log refused",
                   [s = sink.get()] { return static_cast<double>(s->write_errors()); });
  return sink;
}

// Consent changes since the previous start become consent.change entries. The state file is
// rewritten (atomically) only after the entries are durable: a crash in between logs the same
// changes again on the next start — at least once, never lost.
Status log_consent_changes(audit::Log& log, const governance::Policy& policy, const std::filesystem::path& data_dir,
                           TimestampNs now) {
  const auto state_file = data_dir / "consents.state.json";
  std::string previous;
  if (std::ifstream in(state_file, std::ios::binary); in) {
    previous.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return Status(StatusCode::kIoError, fmt::format("{}: cannot read", state_file.string()));
  }
  auto changes = governance::consent_changes(previous, policy, now);
  if (!changes)
    return Status(changes.error().code(), fmt::format("{}: {}", state_file.string(), changes.error().message()));
  if (!changes->empty()) {
    std::vector<audit::Entry> entries;
    for (const auto& change : *changes)
      entries.push_back({audit::EntryType::kConsentChange, now, governance::to_json(change, policy, now)});
    auto appended = log.append_batch(entries);
    if (!appended) return appended.error();
    spdlog::info("governance: {} consent change(s) since the last start recorded in the audit log", changes->size());
  }
  const auto tmp = state_file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << governance::consent_state_json(policy, now);
    if (!out.flush()) return Status(StatusCode::kIoError, fmt::format("{}: cannot write", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, state_file, ec);
  if (ec) return Status(StatusCode::kIoError, fmt::format("{}: cannot replace: {}", state_file.string(), ec.message()));
  return Status::ok();
}

}  // namespace

Node::Node(NodeConfig config) : config_(std::move(config)) {}

Node::~Node() { stop(); }

Status Node::start() {
  // The model first: every stage, the gate's subjects and the API judge by the same one.
  if (config_.infomodel_dir.empty()) {
    model_ = &infomodel::builtin_model();
  } else {
    auto model = infomodel::load_model_overlay(config_.infomodel_dir);
    if (!model) return Status(model.error().code(), fmt::format("infomodel.dir: {}", model.error().message()));
    model_storage_ = std::make_unique<infomodel::Model>(std::move(*model));
    model_ = model_storage_.get();
    spdlog::info("infomodel: {} laid over the built-in model ({} categories)", config_.infomodel_dir,
                 model_->categories.size());
  }
  auto opcua_config = app::opcua_config(config_, *model_);
  if (!opcua_config) return opcua_config.error();
  auto bridge_config = bridge_options(config_);
  if (!bridge_config) return bridge_config.error();
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
  if (!hs.recovery_damage.empty()) spdlog::warn("historian: WAL damage: {}", hs.recovery_damage);
  if (!hs.chunk_damage.empty()) spdlog::warn("historian: chunk damage: {}", hs.chunk_damage);
  metrics_.gauge_fn("resonance_historian_head_samples", "Samples held in the in-memory head",
                    [h = historian_.get()] { return static_cast<double>(h->stats().head_samples); });
  metrics_.gauge_fn("resonance_historian_group_commits", "Group commits (fdatasync) since start",
                    [h = historian_.get()] { return static_cast<double>(h->stats().group_commits); });
  metrics_.gauge_fn("resonance_historian_head_bytes", "Bytes the in-memory head holds (bound: max_head_bytes)",
                    [h = historian_.get()] { return static_cast<double>(h->stats().head_bytes); });
  metrics_.gauge_fn("resonance_historian_memory_retry_later", "Submits answered RetryLater at max_head_bytes",
                    [h = historian_.get()] { return static_cast<double>(h->stats().memory_retry_later); });
  metrics_.gauge_fn("resonance_historian_compactions", "Partitions folded into one chunk file since start",
                    [h = historian_.get()] { return static_cast<double>(h->stats().compactions); });

  // Governance: the policy in force is loaded (and its version logged) before any data moves, so
  // no exit can run under a policy nobody recorded. No file: a policy that declares no
  // destination, so the gate denies every exit.
  if (config_.governance_policy.empty()) {
    auto builtin = std::make_shared<governance::Policy>();
    builtin->version = "builtin-deny-all";
    builtin->source = "(built-in)";
    policy_ = std::move(builtin);
  } else {
    auto policy = governance::load_policy_file(config_.governance_policy);
    if (!policy) return policy.error();
    policy_ = std::make_shared<const governance::Policy>(std::move(*policy));
  }
  spdlog::info("governance: policy '{}' version {} (sha256 {}) in force", policy_->source,
               policy_->version, policy_->sha256.empty() ? "-" : policy_->sha256.substr(0, 16));
  if (config_.audit_enabled) {
    auto signer = audit_signer(config_);
    if (!signer) return signer.error();
    auto log = audit::Log::open(config_.data_dir / "audit", std::move(*signer));
    if (!log) return log.error();
    audit_log_ = std::move(*log);
    // The policy in force is the first thing recorded after a start: every later decision and
    // every batch is judged against a version the log names.
    const TimestampNs now = unix_now_ns();
    auto appended = audit_log_->append(
        {audit::EntryType::kPolicyLoad, now, governance::to_json(governance::load_record(*policy_, now))});
    if (!appended) return appended.error();
    if (Status s = log_consent_changes(*audit_log_, *policy_, config_.data_dir, now); !s) return s;
    // Model lifecycle: registry stage changes (also those made while the node was down) become
    // model.lifecycle entries now and every 2 s while the node runs.
    if (!config_.inference_registry.empty()) {
      lifecycle_ = std::make_unique<LifecycleForwarder>(*audit_log_, config_.inference_registry,
                                                        config_.data_dir / "model-lifecycle.cursor",
                                                        std::chrono::milliseconds(2000));
      if (Status s = lifecycle_->forward_now(); !s)
        return Status(s.code(), fmt::format("inference.registry: model lifecycle: {}", s.message()));
      lifecycle_->start();
      metrics_.gauge_fn("resonance_audit_model_lifecycle_entries", "Model registry changes recorded in the audit log",
                        [l = lifecycle_.get()] { return static_cast<double>(l->forwarded()); });
    }
    if (auto cp = audit_log_->checkpoint(); !cp) return cp.error();
  }

  // One gate for every exit, over the policy just logged; deny by default.
  decision_sink_ = make_decision_sink(audit_log_.get(), metrics_);
  gate_ = std::make_unique<governance::EgressGate>(policy_, *decision_sink_);
  subjects_ = std::make_unique<governance::SubjectResolver>(policy_, model_);
  for (std::string_view exit : {"api_export", "api_remote", "mqtt_bridge_will"})
    for (std::string_view verdict : {"allow", "deny"})
      (void)metrics_.counter("resonance_egress_decisions_total", "Egress gate decisions by exit and verdict",
                             fmt::format("exit=\"{}\",verdict=\"{}\"", exit, verdict));

  PipelineOptions popts;
  popts.max_in_flight_batches = static_cast<std::size_t>(config_.max_in_flight_batches);
  // Refused samples and payloads are kept durably beside the data (docs/formats/quarantine.md).
  auto quarantine = Quarantine::open(config_.data_dir / "quarantine.sqlite", metrics_);
  if (!quarantine) return quarantine.error();
  pipeline_ = std::make_unique<IngestPipeline>(popts, *historian_, metrics_, std::move(*quarantine));
  pipeline_->add_stage(make_validation_stage({}, *catalog_, pipeline_->quarantine(), metrics_));
  // The information model checks what the catalog cannot: the signal exists in its equipment
  // category, its type and range, and that each series' timestamps do not go backwards.
  pipeline_->add_stage(infomodel::make_model_validation_stage(*model_, *catalog_,
                                                              pipeline_->quarantine(), metrics_));
  pipeline_->add_stage(make_governance_stage(metrics_));
  if (config_.governance_provenance) {
    auto store = governance::ProvenanceStore::open(config_.data_dir / "provenance.sqlite");
    if (!store) return store.error();
    provenance_ = std::move(*store);
    provenance_listener_ = std::make_unique<governance::ProvenanceListener>(*provenance_);
    pipeline_->add_listener(*provenance_listener_);
  }
  if (audit_log_) {
    audit_ingest_ = std::make_unique<audit::IngestListener>(*audit_log_);
    pipeline_->add_listener(*audit_ingest_);
    // A batch the log could not take is evidence missing: operators must see it.
    metrics_.gauge_fn("resonance_audit_dropped_batches", "Durable batches the audit log queue turned away",
                      [l = audit_ingest_.get()] { return static_cast<double>(l->dropped()); });
    metrics_.gauge_fn("resonance_audit_append_errors", "Failed appends to the audit journal (retried)",
                      [l = audit_ingest_.get()] { return static_cast<double>(l->append_errors()); });
  }
  if (Status s = start_inference(); !s) return s;
  pipeline_->start();

  if (config_.api_enabled) {
    api::ApiOptions aopts;
    aopts.bind_address = config_.api_bind;
    aopts.port = config_.api_port;
    aopts.node_name = config_.node_name;
    aopts.quarantine = &pipeline_->quarantine();
    aopts.policy = policy_.get();
    aopts.provenance = provenance_.get();
    aopts.model = model_;
    attach_inference_api(aopts);  // GET /api/v1/inference (node_inference.cc)
    aopts.export_gate = [this](std::string_view path, std::string_view destination, std::string_view purpose) {
      return decide_egress("api_export", path, destination, purpose);
    };
    auto local_clients = api::parse_client_networks(config_.api_local_clients);
    if (!local_clients)
      return Status(StatusCode::kInvalidArgument, fmt::format("api.local_clients: {}", local_clients.error().message()));
    aopts.remote.local_clients = std::move(*local_clients);
    aopts.remote.destination = config_.api_remote_destination;
    aopts.remote.purpose = config_.api_remote_purpose;
    aopts.remote.gate = [this](std::string_view path, std::string_view destination, std::string_view purpose) {
      return decide_egress("api_remote", path, destination, purpose);
    };
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
    gopts.max_signals_per_equipment = static_cast<std::size_t>(config_.mqttsn_max_signals_per_equipment);
    if (*bridge_config) {
      // The broker is a destination like any other: a Will is device data leaving the node. Its
      // topic is the subject (a series path gets that series' labels, any other topic the
      // defaults); with no destination configured the gate is still asked, and denies.
      (*bridge_config)->allow_will = [this, destination = config_.bridge_destination,
                                      purpose = config_.bridge_purpose](std::string_view topic) {
        return decide_egress("mqtt_bridge_will", topic, destination, purpose).allowed();
      };
      bridge_ = std::make_unique<mqttsn::Bridge>(std::move(**bridge_config), metrics_);
      gopts.on_will = bridge_->will_sink();
    }
    gateway_ = std::make_unique<mqttsn::Gateway>(gopts, *pipeline_, *catalog_, metrics_);
    if (Status s = gateway_->start(); !s) return s;  // the gateway logs its own address
    if (bridge_) {
      if (Status s = bridge_->start(mqttsn::device_sink(*gateway_)); !s) return s;
    }
  }
  if (*opcua_config) {
    opcua_ = make_opcua_connector(std::move(**opcua_config), *pipeline_, *catalog_, metrics_);
    if (Status s = opcua_->start(); !s) return s;
  }
  started_ = true;
  return Status::ok();
}

void Node::stop() {
  // Order matters: stop intake and readers, then make everything accepted durable (firing the
  // last PUBACKs is pointless once the gateway is gone, but the data must be synced).
  if (opcua_) opcua_->stop();
  if (bridge_) bridge_->stop();  // no more broker messages towards a stopping gateway
  if (gateway_) gateway_->stop();
  if (api_) api_->stop();
  // Before the store closes: the scheduler's last outputs still enter the pipeline.
  if (model_watcher_) model_watcher_->stop();  // no switch while the scheduler stops
  if (inference_) inference_->stop();
  if (historian_) historian_->close();
  if (pipeline_) pipeline_->stop();
  if (provenance_listener_) (void)provenance_listener_->flush();
  if (audit_ingest_) (void)audit_ingest_->flush();
  if (inference_log_) (void)inference_log_->flush();
  if (lifecycle_) {
    lifecycle_->stop();
    (void)lifecycle_->forward_now();  // what changed since the last pass
  }
  if (inference_log_) (void)inference_log_->flush();
  // Every decision taken (the exits are stopped) is in the log before its last checkpoint.
  if (auto* batching = dynamic_cast<governance::BatchingDecisionSink*>(decision_sink_.get()))
    (void)batching->flush();
  if (audit_log_) (void)audit_log_->checkpoint();
  if (started_) spdlog::info("node '{}' stopped", config_.node_name);
  started_ = false;
}

governance::Decision Node::decide_egress(std::string_view exit, std::string_view series_path,
                                         std::string_view destination, std::string_view purpose) {
  const governance::Subject subject = subjects_->resolve(series_path);
  governance::Decision decision = gate_->decide(subject, destination, purpose, unix_now_ns());
  metrics_
      .counter("resonance_egress_decisions_total", "Egress gate decisions by exit and verdict",
               fmt::format("exit=\"{}\",verdict=\"{}\"", exit, decision.allowed() ? "allow" : "deny"))
      .inc();
  if (!decision.allowed())
    spdlog::info("governance: {} of '{}' to '{}' for '{}' denied: {}: {}", exit, series_path, destination,
                 purpose, decision.rule, decision.reason);
  return decision;
}

std::uint16_t Node::mqttsn_port() const { return gateway_ ? gateway_->bound_port() : 0; }
std::uint16_t Node::api_port() const { return api_ ? api_->bound_port() : 0; }

}  // namespace resonance::app
