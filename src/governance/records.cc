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
    : write_(std::move(write)),
      max_pending_(max_pending),
      max_batch_(max_batch),
      flush_interval_ms_(flush_interval_ms),
      writer_([this] { run(); }) {}

BatchingDecisionSink::~BatchingDecisionSink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  (void)flush();
}

void BatchingDecisionSink::record(const DecisionRecord& record) {
  Item item{record.at_ns, to_json(record)};  // serialise outside the lock
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() >= max_pending_) {
      ++dropped_;
      return;
    }
    pending_.push_back(std::move(item));
    wake = pending_.size() >= max_batch_;
  }
  if (wake) wake_.notify_one();
}

Status BatchingDecisionSink::flush() {
  std::lock_guard flushing(flush_mu_);
  std::vector<Item> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return {};
  Status st = write_(batch);
  if (!st) {
    std::lock_guard lock(mu_);
    ++write_errors_;
    // Keep them, oldest first, so a transient failure loses nothing (the bound still applies).
    batch.insert(batch.end(), std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.end()));
    pending_ = std::move(batch);
  }
  return st;
}

std::uint64_t BatchingDecisionSink::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::uint64_t BatchingDecisionSink::write_errors() const {
  std::lock_guard lock(mu_);
  return write_errors_;
}

void BatchingDecisionSink::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(flush_interval_ms_),
                   [this] { return stopping_ || pending_.size() >= max_batch_; });
    if (stopping_) break;
    lock.unlock();
    (void)flush();
    lock.lock();
  }
}

}  // namespace resonance::governance
