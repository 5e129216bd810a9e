// Model outputs are derived data: a series ".../<equipment>/ai.<interface>.<output>" carries the
// strictest effective labels of the inputs its AI contract reads on the same equipment (policy
// overrides of those inputs included), and only an override on the output's own path changes it.
#include <gtest/gtest.h>

#include "resonance/governance/policy.h"
#include "resonance/infomodel/loader.h"

namespace resonance::governance {
namespace {

Policy policy_with(std::string_view labels) {
  auto p = parse_policy(std::string(R"(schema_version = 1
kind = "policy"
version = "derived-1"
[node]
jurisdiction = "CN"
)") + std::string(labels),
                        "derived.toml");
  EXPECT_TRUE(p.has_value()) << p.error().to_string();
  return std::move(*p);
}

constexpr std::string_view kToolWear = "plant1/machining/line1/cnc-01/ai.tool_wear.tool_wear_estimate";

TEST(DerivedLabels, ModelOutputInheritsTheStrictestInput) {
  const Policy p = policy_with(R"(
[[label]]
pattern = "plant1/*/*/cnc-01/spindle_load"
grade = "important"
sharing = "amber"
personal = "personal"
)");
  const auto& model = infomodel::builtin_model();
  const ResolvedLabels out = resolve_labels(p, &model, kToolWear);
  EXPECT_EQ(out.labels.grade, Grade::kImportant);
  EXPECT_EQ(out.labels.sharing, Sharing::kAmber);
  EXPECT_EQ(out.labels.personal, Personal::kPersonal);
  ASSERT_FALSE(out.origins.empty());
  EXPECT_NE(out.origins.front().source.find("derived: strictest of the inputs of AI interface 'tool_wear'"),
            std::string::npos)
      << out.origins.front().source;
  // Another machine's inputs are not this output's inputs.
  EXPECT_EQ(resolve_labels(p, &model, "plant1/machining/line1/cnc-02/ai.tool_wear.tool_wear_estimate").labels.grade,
            Grade::kGeneral);
}

TEST(DerivedLabels, OverrideOnTheOutputPathAppliesLast) {
  const Policy p = policy_with(R"(
[[label]]
pattern = "plant1/*/*/cnc-01/spindle_load"
grade = "important"

[[label]]
pattern = "plant1/*/*/cnc-01/ai.tool_wear.tool_wear_estimate"
sharing = "red"
)");
  const auto& model = infomodel::builtin_model();
  const ResolvedLabels out = resolve_labels(p, &model, kToolWear);
  EXPECT_EQ(out.labels.grade, Grade::kImportant);
  EXPECT_EQ(out.labels.sharing, Sharing::kRed);
}

TEST(DerivedLabels, PlainSignalsAndUnknownPathsAreUnchanged) {
  const Policy p = policy_with("");
  const auto& model = infomodel::builtin_model();
  EXPECT_EQ(resolve_labels(p, &model, "plant1/machining/line1/cnc-01/thermal_drift").labels.grade, Grade::kImportant);
  EXPECT_EQ(resolve_labels(p, &model, "plant1/machining/line1/cnc-01/ai.no_such.output").labels.grade,
            Grade::kGeneral);
}

}  // namespace
}  // namespace resonance::governance
