#pragma once
// Cross-validation fold assignment. Each function returns, for every row, the fold (0..k-1) in
// which it is held out. Assignments are deterministic for a seed.
//  - kfold: rows shuffled, then dealt into k folds of near-equal size;
//  - stratified: the same within each class, so every fold keeps the class proportions;
//  - group: whole groups (e.g. one engine) stay in one fold, so no group is seen in training
//    and in test at once.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::models {

enum class CvKind { kKFold, kStratified, kGroup };
Result<CvKind> parse_cv_kind(std::string_view text);

std::vector<int> kfold_assign(std::size_t rows, int k, std::uint64_t seed);
std::vector<int> stratified_assign(std::span<const float> labels, int k, std::uint64_t seed);
std::vector<int> group_assign(std::span<const std::int64_t> groups, int k, std::uint64_t seed);

}  // namespace resonance::models
