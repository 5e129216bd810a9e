#include "connectors/sim/prng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace resonance::sim {
namespace {

TEST(Prng, SplitMix64MatchesReferenceOutput) {
  // First output of the reference splitmix64.c for state 0.
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
}

TEST(Prng, SameSeedSameStreamDifferentSeedDifferentStream) {
  Rng a(42), b(42), c(43);
  bool any_difference = false;
  for (int i = 0; i < 1000; ++i) {
    const auto va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    any_difference |= va != c.next_u64();
  }
  EXPECT_TRUE(any_difference);
}

TEST(Prng, UniformStaysInRangeAndNormalHasUnitVariance) {
  Rng rng(7);
  double sum = 0, sum_sq = 0;
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const auto k = rng.uniform_int(3, 5);
    ASSERT_GE(k, 3);
    ASSERT_LE(k, 5);
    const double n = rng.normal();
    ASSERT_LE(std::abs(n), 3.5);  // Irwin-Hall(4) is bounded at 2 * sqrt(3)
    sum += n;
    sum_sq += n * n;
  }
  EXPECT_NEAR(sum / kN, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / kN, 1.0, 0.02);
}

TEST(Prng, DerivedSeedsAreDistinct) {
  std::set<std::uint64_t> seeds;
  for (std::uint64_t i = 0; i < 100; ++i) seeds.insert(derive_seed(1, i));
  EXPECT_EQ(seeds.size(), 100u);
  EXPECT_NE(derive_seed(1, 0), derive_seed(2, 0));
}

}  // namespace
}  // namespace resonance::sim
