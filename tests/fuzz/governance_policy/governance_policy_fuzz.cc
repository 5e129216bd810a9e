// Fuzzes the policy file parser (docs/formats/policy.md) and what runs on a parsed policy: label
// resolution, the JSON and text renderings, and one gate decision.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "resonance/governance/gate.h"
#include "resonance/governance/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::governance;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = parse_policy(text, "fuzz.toml");
  if (!policy) return 0;
  auto resolved = resolve_labels(*policy, nullptr, "plant1/area/line/cnc-01/spindle_speed");
  (void)policy_json(*policy);
  (void)policy_text(*policy);
  for (const auto& o : policy->labels) (void)match_path(o.pattern, "a/b/c/d/e");
  Subject subject{resolved.labels, "plant1/area/line/cnc-01/spindle_speed"};
  for (const auto& d : policy->destinations)
    (void)EgressGate::evaluate(*policy, subject, d.id, "monitoring", 1'800'000'000'000'000'000LL);
  return 0;
}
