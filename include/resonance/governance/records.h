#pragma once
// What governance hands to the audit log (docs/audit.md): canonical JSON bodies for policy loads,
// egress decisions and label derivations, and a DecisionSink that batches decisions off the
// deciding thread (the audit log's append syncs to disk; the gate must not wait for that).

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/batching_writer.h"
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
  BatchingWriter<Item> writer_;
};

}  // namespace resonance::governance
