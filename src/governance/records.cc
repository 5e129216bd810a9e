#include "resonance/governance/records.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace resonance::governance {

namespace {

using nlohmann::json;

std::string dump(const json& js) {
  return js.dump(-1, ' ', false, json::error_handler_t::replace);
}

json labels_value(const Labels& l) {
  return {{"grade", to_string(l.grade)},
          {"personal", to_string(l.personal)},
          {"trade_secret", l.trade_secret},
          {"sharing", to_string(l.sharing)},
          {"owner", l.owner},
          {"custodian", l.custodian}};
}

}  // namespace

std::string labels_json(const Labels& labels) {
  return dump(labels_value(labels));
}

std::string to_json(const PolicyLoadRecord& r) {
  return dump({{"version", r.version},
               {"sha256", r.sha256},
               {"source", r.source},
               {"loaded", format_rfc3339(r.loaded_ns)},
               {"label_overrides", r.label_overrides},
               {"destinations", r.destinations},
               {"routes", r.routes},
               {"consents", r.consents},
               {"transformations", r.transformations}});
}

std::string to_json(const DecisionRecord& r) {
  return dump({{"decision", to_string(r.decision.verdict)},
               {"rule", r.decision.rule},
               {"reason", r.decision.reason},
               {"record", r.decision.record},
               {"destination", r.destination},
               {"purpose", r.purpose},
               {"policy_version", r.policy_version},
               {"policy_sha256", r.policy_sha256},
               {"at", format_rfc3339(r.at_ns)},
               {"series", r.scopes},
               {"cached", r.cached}});
}

std::string to_json(const DerivationRecord& r) {
  return dump({{"inherited", labels_value(r.inherited)},
               {"result", labels_value(r.result)},
               {"transformation", r.transformation_id},
               {"approved_by", r.approved_by},
               {"approval_ref", r.approval_ref},
               {"lowered", r.lowered},
               {"inputs", r.input_count}});
}

BatchingDecisionSink::BatchingDecisionSink(Writer write, std::size_t max_pending,
                                           std::size_t max_batch, int flush_interval_ms)
    : writer_({.max_pending = max_pending, .max_batch = max_batch, .flush_interval_ms = flush_interval_ms},
              [write = std::move(write)](std::vector<Item>& batch) { return write(batch); }) {}

BatchingDecisionSink::~BatchingDecisionSink() = default;  // the writer writes what is pending

void BatchingDecisionSink::record(const DecisionRecord& record) {
  (void)writer_.push(Item{record.at_ns, to_json(record)});  // a full queue counts it in dropped()
}

Status BatchingDecisionSink::flush() { return writer_.flush(); }

std::uint64_t BatchingDecisionSink::dropped() const { return writer_.dropped(); }

std::uint64_t BatchingDecisionSink::write_errors() const { return writer_.write_errors(); }

}  // namespace resonance::governance
