#pragma once
// The composition root of a running node: it alone knows every component, builds them from the
// configuration in dependency order, and stops them in reverse.
//
//   mqttsn gateway ─► pipeline (validation, governance) ─► historian ─► fan-out
//                                                            ▲
//                                  HTTP API / dashboard ─────┘ (reads)

#include <memory>
#include <optional>
#include <string_view>

#include "node_config.h"
#include "resonance/core/catalog.h"
#include "resonance/core/dir_lock.h"
#include "resonance/core/metrics.h"
#include "resonance/core/status.h"

namespace resonance {
class Historian;
class IngestPipeline;
class Connector;
namespace api { class ApiServer; struct ApiOptions; }
namespace mqttsn {
class Gateway;
class Bridge;
}  // namespace mqttsn
namespace audit {
class Log;
class IngestListener;
}  // namespace audit
namespace models {
class InferenceScheduler;
class InferenceLogWriter;
}  // namespace models
namespace infomodel {
struct Model;
}  // namespace infomodel
namespace governance {
struct Policy;
class ProvenanceStore;
class ProvenanceListener;
class DecisionSink;
class EgressGate;
class SubjectResolver;
struct Decision;
}  // namespace governance
}  // namespace resonance

namespace resonance::app {

class LifecycleForwarder;
class ModelWatcher;

class Node {
 public:
  explicit Node(NodeConfig config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Opens the store (recovering it), then starts the pipeline, the API and the connectors.
  Status start();
  // Stops the connectors first (no new data), then syncs and closes the store, then the API.
  void stop();

  std::uint16_t mqttsn_port() const;
  std::uint16_t api_port() const;
  // The policy in force (the built-in deny-all one when none is configured). Set by start().
  std::shared_ptr<const governance::Policy> policy() const { return policy_; }
  MetricsRegistry& metrics() { return metrics_; }

  // The egress gate every exit asks (docs/governance.md "Exits"): decides for one series path (or
  // a topic, as scope with default labels), records the decision in the audit log and counts it
  // in resonance_egress_decisions_total{exit,verdict}. Thread-safe; valid after start().
  governance::Decision decide_egress(std::string_view exit, std::string_view series_path,
                                     std::string_view destination, std::string_view purpose);

 private:
  NodeConfig config_;
  // The information model in force: the built-in one, or `[infomodel] dir` laid over it. Set
  // first in start(); the validation stage, the gate's subjects and the API point into it, so it is
  // declared before them (destroyed after them).
  std::unique_ptr<infomodel::Model> model_storage_;
  const infomodel::Model* model_ = nullptr;
  MetricsRegistry metrics_;
  std::optional<DirLock> lock_;  // held for the node's life; released last
  std::unique_ptr<SeriesCatalog> catalog_;
  std::unique_ptr<Historian> historian_;
  std::unique_ptr<IngestPipeline> pipeline_;
  std::unique_ptr<audit::Log> audit_log_;
  std::unique_ptr<audit::IngestListener> audit_ingest_;  // after audit_log_: destroyed first
  std::unique_ptr<LifecycleForwarder> lifecycle_;         // likewise: registry changes → log
  std::shared_ptr<const governance::Policy> policy_;
  // After audit_log_ (destroyed before it: the sink writes what is pending on destruction) and
  // before every exit (the API and the bridge hold callables that point at the gate).
  std::unique_ptr<governance::DecisionSink> decision_sink_;
  std::unique_ptr<governance::EgressGate> gate_;
  std::unique_ptr<governance::SubjectResolver> subjects_;
  std::unique_ptr<governance::ProvenanceStore> provenance_;
  std::unique_ptr<governance::ProvenanceListener> provenance_listener_;
  // After audit_log_ and pipeline_ (destroyed before them): the writer appends inference.batch
  // entries to the log; the scheduler listens to the pipeline and submits its outputs to it.
  std::unique_ptr<models::InferenceLogWriter> inference_log_;
  std::unique_ptr<models::InferenceScheduler> inference_;
  std::unique_ptr<ModelWatcher> model_watcher_;  // after inference_: destroyed first
  std::unique_ptr<mqttsn::Gateway> gateway_;
  std::unique_ptr<mqttsn::Bridge> bridge_;  // after gateway_: destroyed first
  std::unique_ptr<Connector> opcua_;
  std::unique_ptr<api::ApiServer> api_;
  bool started_ = false;

  // [inference] (node_inference.cc): deploys the configured models before the pipeline starts.
  Status start_inference();
  // GET /api/v1/inference answers from the inference log writer's recent records (when running).
  void attach_inference_api(api::ApiOptions& options) const;
};

}  // namespace resonance::app
