#pragma once
// What governance hands to the audit log (docs/audit.md): canonical JSON bodies for policy loads,
// egress decisions and label derivations, and a DecisionSink that batches decisions off the
// deciding thread (the audit log's append syncs to disk; the gate must not wait for that).

#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "resonance/governance/gate.h"
#include "resonance/governance/labels.h"
#include "resonance/governance/policy.h"

namespace resonance::governance {

// Compact JSON with keys in sorted order (the same record always gives the same bytes).
// Field lists: docs/governance.md "Records".
std::string to_json(const PolicyLoadRecord& record);  // audit entry type policy.load
std::string to_json(const DecisionRecord& record);    // audit entry type policy.decision
std::string to_json(const DerivationRecord& record);  // part of model/dataset lifecycle entries
std::string labels_json(const Labels& labels);

// Queues decision records (bounded) and hands them, as (at_ns, JSON body) pairs, to `write` from
// its own thread every `flush_interval_ms` or when `max_batch` are waiting. When the queue is full
// the record is dropped and counted (dropped()): deciding never blocks; the count is exported as a
// metric by the caller and a non-zero value is an audit finding.
class BatchingDecisionSink final : public DecisionSink {
 public:
  struct Item {
    TimestampNs at_ns;
    std::string body;
  };
  using Writer = std::function<Status(std::span<const Item>)>;

  explicit BatchingDecisionSink(Writer write, std::size_t max_pending = 100'000,
                                std::size_t max_batch = 4096, int flush_interval_ms = 100);
  ~BatchingDecisionSink() override;  // writes what is pending, then joins

  void record(const DecisionRecord& record) override;
  Status flush();
  std::uint64_t dropped() const;
  std::uint64_t write_errors() const;

 private:
  void run();

  Writer write_;
  const std::size_t max_pending_, max_batch_;
  const int flush_interval_ms_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Item> pending_;       // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::uint64_t dropped_ = 0;       // guarded by mu_
  std::uint64_t write_errors_ = 0;  // guarded by mu_
  std::mutex flush_mu_;             // one writer at a time, in order
  std::thread writer_;
};

}  // namespace resonance::governance
