#include "resonance/models/cv.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace resonance::models {
namespace {

TEST(Cv, KFoldBalancedAndDeterministic) {
  const auto a = kfold_assign(103, 5, 7);
  EXPECT_EQ(a, kfold_assign(103, 5, 7));
  EXPECT_NE(a, kfold_assign(103, 5, 8));
  std::map<int, int> sizes;
  for (int f : a) ++sizes[f];
  ASSERT_EQ(sizes.size(), 5u);
  for (auto [f, n] : sizes) EXPECT_TRUE(n == 20 || n == 21) << f << ": " << n;
}

TEST(Cv, StratifiedKeepsClassProportions) {
  std::vector<float> labels(1000, 0.0f);
  for (int i = 0; i < 50; ++i) labels[static_cast<std::size_t>(i * 20)] = 1.0f;
  const auto fold = stratified_assign(labels, 5, 1);
  std::map<int, int> positives;
  for (std::size_t i = 0; i < labels.size(); ++i) positives[fold[i]] += labels[i] == 1.0f;
  for (auto [f, n] : positives) EXPECT_EQ(n, 10) << "fold " << f;
}

TEST(Cv, GroupsNeverSplit) {
  std::vector<std::int64_t> groups;
  for (int g = 0; g < 23; ++g) groups.insert(groups.end(), static_cast<std::size_t>(g % 4 + 1), g);
  const auto fold = group_assign(groups, 5, 3);
  std::map<std::int64_t, std::set<int>> folds_of;
  for (std::size_t i = 0; i < groups.size(); ++i) folds_of[groups[i]].insert(fold[i]);
  for (const auto& [g, f] : folds_of) EXPECT_EQ(f.size(), 1u) << "group " << g;
  std::set<int> used;
  for (int f : fold) used.insert(f);
  EXPECT_EQ(used.size(), 5u);
}

TEST(Cv, ParseKind) {
  EXPECT_EQ(parse_cv_kind("group").value(), CvKind::kGroup);
  EXPECT_EQ(parse_cv_kind("loo").error().message(), "unknown cross-validation 'loo' (kfold, stratified, group)");
}

}  // namespace
}  // namespace resonance::models
