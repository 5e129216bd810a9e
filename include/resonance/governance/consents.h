#pragma once
// Consent changes for the transparency log (docs/governance.md "Consent changes"). The policy file
// is the consent register; what changed between two loads (granted, amended, withdrawn, expired,
// removed) is derived from the consent state of the previous load, which the node keeps beside
// its data and rewrites only after the changes are durable in the log.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/core/time.h"
#include "resonance/governance/policy.h"

namespace resonance::governance {

struct ConsentChange {
  std::string consent_id;
  std::string action;  // grant | amend | withdraw | expire | remove
  const Consent* consent = nullptr;  // the record in the new policy; null for "remove"
};

// The consent state of `policy` at `now` as canonical JSON (docs/formats/consent-state.md).
std::string consent_state_json(const Policy& policy, TimestampNs now);

// What changed from `previous_state` (a consent_state_json of an earlier load; empty = no earlier
// load, so every consent is a grant) to `policy` at `now`, in policy order, removals last. The
// returned changes point into `policy`. Fails (kCorruption) naming what is wrong with the state.
Result<std::vector<ConsentChange>> consent_changes(std::string_view previous_state, const Policy& policy,
                                                   TimestampNs now);

// The consent.change entry body: canonical JSON with sorted keys (docs/formats/tlog-entry.md).
std::string to_json(const ConsentChange& change, const Policy& policy, TimestampNs at_ns);

}  // namespace resonance::governance
