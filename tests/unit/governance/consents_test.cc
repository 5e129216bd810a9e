// Consent changes between two policy loads: every action (grant, amend, withdraw, expire, remove,
// a grant again after a withdrawal), nothing for an unchanged register, and a damaged state
// refused with what is wrong.
#include "resonance/governance/consents.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace resonance::governance {
namespace {

// 2026-12-01T00:00:00Z
constexpr TimestampNs kNow = 1'796'083'200LL * kNanosPerSecond;

Policy policy_with(std::string_view consents) {
  const std::string text = std::string(R"(schema_version = 1
kind = "policy"
version = "consents-1"
[node]
jurisdiction = "CN"
)") + std::string(consents);
  auto policy = parse_policy(text, "consents.toml");
  EXPECT_TRUE(policy.has_value()) << policy.error().to_string();
  return std::move(*policy);
}

constexpr std::string_view kBadge = R"(
[[consent]]
id = "badge-2026"
subject = "plant1/*/*/*/operator_badge"
purposes = ["maintenance"]
legal_basis = "consent"
expires = 2027-06-01T00:00:00Z
)";

std::vector<std::pair<std::string, std::string>> actions(std::string_view previous, const Policy& p,
                                                         TimestampNs now = kNow) {
  auto changes = consent_changes(previous, p, now);
  EXPECT_TRUE(changes.has_value()) << changes.error().to_string();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : *changes) out.emplace_back(c.consent_id, c.action);
  return out;
}

using Actions = std::vector<std::pair<std::string, std::string>>;

TEST(ConsentChanges, FirstLoadGrantsEveryConsent) {
  const Policy p = policy_with(kBadge);
  EXPECT_EQ(actions("", p), (Actions{{"badge-2026", "grant"}}));
}

TEST(ConsentChanges, UnchangedRegisterGivesNothing) {
  const Policy p = policy_with(kBadge);
  EXPECT_TRUE(actions(consent_state_json(p, kNow), p).empty());
}

TEST(ConsentChanges, WithdrawAmendExpireRemoveAndGrantAgain) {
  const Policy before = policy_with(std::string(kBadge) + R"(
[[consent]]
id = "camera-2026"
subject = "plant1/*/*/*/camera_face"
purposes = ["quality"]
legal_basis = "consent"
expires = 2027-01-01T00:00:00Z
sensitive = true
)");
  const std::string state = consent_state_json(before, kNow);

  const Policy withdrawn = policy_with(std::string(kBadge) + "withdrawn = 2026-11-30T12:00:00Z\n");
  EXPECT_EQ(actions(state, withdrawn), (Actions{{"badge-2026", "withdraw"}, {"camera-2026", "remove"}}));

  const Policy amended = policy_with(R"(
[[consent]]
id = "badge-2026"
subject = "plant1/*/*/*/operator_badge"
purposes = ["maintenance", "safety"]
legal_basis = "consent"
expires = 2027-06-01T00:00:00Z
)");
  EXPECT_EQ(actions(consent_state_json(policy_with(kBadge), kNow), amended), (Actions{{"badge-2026", "amend"}}));

  // Expiry is seen at the first load after it; once recorded it is not repeated.
  const TimestampNs later = kNow + 400LL * 86'400 * kNanosPerSecond;
  const Policy same = policy_with(kBadge);
  EXPECT_EQ(actions(consent_state_json(same, kNow), same, later), (Actions{{"badge-2026", "expire"}}));
  EXPECT_TRUE(actions(consent_state_json(same, later), same, later + 1).empty());

  // Given again after a withdrawal: a new grant.
  EXPECT_EQ(actions(consent_state_json(withdrawn, kNow), same), (Actions{{"badge-2026", "grant"}}));
  EXPECT_TRUE(actions(consent_state_json(withdrawn, kNow), withdrawn).empty());
}

TEST(ConsentChanges, EntryBodyCarriesTheRecordAndThePolicy) {
  const Policy p = policy_with(std::string(kBadge) + "withdrawn = 2026-11-30T12:00:00Z\n");
  auto changes = consent_changes("", p, kNow);
  ASSERT_TRUE(changes.has_value());
  ASSERT_EQ(changes->size(), 2u);  // granted and withdrawn, both first seen now
  const auto body = nlohmann::json::parse(to_json((*changes)[1], p, kNow));
  EXPECT_EQ(body["action"], "withdraw");
  EXPECT_EQ(body["consent_id"], "badge-2026");
  EXPECT_EQ(body["scope"], "plant1/*/*/*/operator_badge");
  EXPECT_EQ(body["purposes"], nlohmann::json::array({"maintenance"}));
  EXPECT_EQ(body["legal_basis"], "consent");
  EXPECT_EQ(body["expiry"], "2027-06-01T00:00:00.000000000Z");
  EXPECT_EQ(body["withdrawn"], "2026-11-30T12:00:00.000000000Z");
  EXPECT_EQ(body["policy_version"], "consents-1");
  EXPECT_EQ(body["at"], "2026-12-01T00:00:00.000000000Z");
}

TEST(ConsentChanges, DamagedStateIsRefusedNamingWhatIsWrong) {
  const Policy p = policy_with(kBadge);
  for (const auto& [state, fragment] : {std::pair{"not json", "expected a JSON object with a 'consents' array"},
                                        std::pair{R"({"consents":[{"id":1}]})", "consents[1] has no string 'id'"}}) {
    auto changes = consent_changes(state, p, kNow);
    ASSERT_FALSE(changes.has_value()) << state;
    EXPECT_EQ(changes.error().code(), StatusCode::kCorruption);
    EXPECT_NE(changes.error().message().find(fragment), std::string::npos) << changes.error().message();
  }
}

}  // namespace
}  // namespace resonance::governance
