#include "resonance/models/cv.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

namespace resonance::models {

Result<CvKind> parse_cv_kind(std::string_view text) {
  if (text == "kfold") return CvKind::kKFold;
  if (text == "stratified") return CvKind::kStratified;
  if (text == "group") return CvKind::kGroup;
  return error(StatusCode::kInvalidArgument, fmt::format("unknown cross-validation '{}' (kfold, stratified, group)", text));
}

std::vector<int> kfold_assign(std::size_t rows, int k, std::uint64_t seed) {
  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<int> fold(rows);
  for (std::size_t i = 0; i < rows; ++i) fold[order[i]] = static_cast<int>(i % static_cast<std::size_t>(k));
  return fold;
}

std::vector<int> stratified_assign(std::span<const float> labels, int k, std::uint64_t seed) {
  std::map<float, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(i);
  std::mt19937_64 rng(seed);
  std::vector<int> fold(labels.size());
  std::size_t dealt = 0;  // continue dealing across classes so fold sizes stay even
  for (auto& [label, rows] : by_class) {
    std::shuffle(rows.begin(), rows.end(), rng);
    for (std::size_t row : rows) fold[row] = static_cast<int>(dealt++ % static_cast<std::size_t>(k));
  }
  return fold;
}

std::vector<int> group_assign(std::span<const std::int64_t> groups, int k, std::uint64_t seed) {
  std::vector<std::int64_t> distinct(groups.begin(), groups.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::mt19937_64 rng(seed);
  std::shuffle(distinct.begin(), distinct.end(), rng);
  std::map<std::int64_t, int> fold_of;
  for (std::size_t i = 0; i < distinct.size(); ++i) fold_of[distinct[i]] = static_cast<int>(i % static_cast<std::size_t>(k));
  std::vector<int> fold(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) fold[i] = fold_of[groups[i]];
  return fold;
}

}  // namespace resonance::models
