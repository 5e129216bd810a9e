#pragma once
// The egress gate: the one decision point every path out of the node calls (sinks, API query and
// export endpoints, dataset and package export, remote access). Deny by default, first matching
// rule wins, every decision recorded through a DecisionSink. Rules and reasons: docs/governance.md.

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "resonance/core/time.h"
#include "resonance/governance/labels.h"
#include "resonance/governance/policy.h"

namespace resonance::governance {

enum class Verdict : std::uint8_t { kDeny = 0, kAllow = 1 };
std::string_view to_string(Verdict verdict);

// Rule ids (stable: they appear in logs, the audit log and the API).
namespace rule {
inline constexpr std::string_view kUnknownDestination = "deny.destination.unknown";
inline constexpr std::string_view kCore = "deny.grade.core";
inline constexpr std::string_view kPurposeNotAllowed = "deny.destination.purpose";
inline constexpr std::string_view kSharing = "deny.sharing";
inline constexpr std::string_view kTradeSecret = "deny.trade_secret";
inline constexpr std::string_view kImportantNoRoute = "deny.important.no_route";
inline constexpr std::string_view kImportantRouteExpired = "deny.important.route_expired";
inline constexpr std::string_view kPersonalNoConsent = "deny.personal.no_consent";
inline constexpr std::string_view kPersonalWithdrawn = "deny.personal.consent_withdrawn";
inline constexpr std::string_view kPersonalExpired = "deny.personal.consent_expired";
inline constexpr std::string_view kPersonalCrossBorder = "deny.personal.no_cross_border_consent";
inline constexpr std::string_view kPersonalSensitive =
    "deny.personal.no_separate_sensitive_consent";
inline constexpr std::string_view kEmpty = "deny.request.empty";
inline constexpr std::string_view kAllow = "allow";
}  // namespace rule

// What leaves: the effective labels of one series (or artefact) and the scope consents and routes
// are matched against (the series path, or "dataset:<id>").
struct Subject {
  Labels labels;
  std::string scope;
};

struct Decision {
  Verdict verdict = Verdict::kDeny;
  std::string rule;    // one of rule::k*
  std::string reason;  // human-readable: what was missing or which record allowed it
  std::string record;  // the route or consent id that allowed it, empty otherwise
  bool allowed() const { return verdict == Verdict::kAllow; }
};

// One recorded decision (audit log entry "egress_decision").
struct DecisionRecord {
  Decision decision;
  std::string destination;
  std::string purpose;
  std::string policy_version;
  std::string policy_sha256;
  TimestampNs at_ns = 0;
  std::vector<std::string> scopes;  // what was asked about
  bool cached = false;
};

// Receives every decision. Called on the deciding thread; must not block (the audit log queues:
// BatchingDecisionSink in records.h) and must not call back into an EgressGate. `record` is only
// valid during the call: copy what you keep.
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void record(const DecisionRecord& record) = 0;
};

// Keeps every decision in memory (tests, `policy explain`). Thread-safe.
class MemoryDecisionSink final : public DecisionSink {
 public:
  void record(const DecisionRecord& record) override;
  std::vector<DecisionRecord> records() const;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<DecisionRecord> records_;  // guarded by mu_
};

// The subject for a series path: its effective labels (information model, then the policy's
// overrides) and the path as scope.
Subject make_subject(const Policy& policy, const infomodel::Model* model,
                     std::string_view series_path);

// Memoises make_subject per path for one policy (exits decide per batch; resolving labels walks
// the model and every override pattern). Thread-safe; bounded like the gate's cache.
class SubjectResolver {
 public:
  SubjectResolver(std::shared_ptr<const Policy> policy, const infomodel::Model* model)
      : policy_(std::move(policy)), model_(model) {}
  Subject resolve(std::string_view series_path);

 private:
  std::shared_ptr<const Policy> policy_;
  const infomodel::Model* model_;  // not owned; may be null; outlives the resolver
  std::mutex mu_;
  std::unordered_map<std::string, Subject> subjects_;  // guarded by mu_
};

// Thread-safe. The policy is shared and immutable; replacing it means building a new gate (the
// cache is keyed by policy version anyway).
class EgressGate {
 public:
  EgressGate(std::shared_ptr<const Policy> policy, DecisionSink& sink);

  // Decides for one subject. A decision for the same (label class, destination, purpose, policy
  // version) — plus the scope when consents or scoped routes matter — is served from the cache
  // until the earliest expiry of the records it depended on.
  Decision decide(const Subject& subject, std::string_view destination, std::string_view purpose,
                  TimestampNs now_ns);
  // A set (a dataset, a query over many series): denied if any member is denied (the first denial
  // is returned), allowed otherwise. One record for the whole set.
  Decision decide(std::span<const Subject> subjects, std::string_view destination,
                  std::string_view purpose, TimestampNs now_ns);

  const Policy& policy() const { return *policy_; }
  std::size_t cache_size() const;

  // The rule evaluation without cache or recording (for `explain` and tests).
  static Decision evaluate(const Policy& policy, const Subject& subject,
                           std::string_view destination, std::string_view purpose,
                           TimestampNs now_ns, TimestampNs* valid_until_ns = nullptr);

 private:
  struct Cached {
    Decision decision;
    TimestampNs valid_until_ns;
  };
  // Lets the cache be searched with a string_view key built in a reused buffer (no allocation on
  // the cached path).
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  // Writes into `out` (copy-assignment reuses its buffers on the cached path).
  void decide_one(const Subject& subject, std::string_view destination, std::string_view purpose,
                  TimestampNs now_ns, Decision& out, bool& cached);

  std::shared_ptr<const Policy> policy_;
  DecisionSink& sink_;
  bool scoped_routes_ = false;  // some route names series: important data is decided per scope
  mutable std::mutex mu_;
  std::unordered_map<std::string, Cached, KeyHash, std::equal_to<>> cache_;  // guarded by mu_
};

}  // namespace resonance::governance
