// Query helpers: folding a chunk's columns straight into buckets must give exactly what folding
// its samples one by one gives (the engine uses the first for a chunk no other source overlaps).
#include "historian/reads.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace resonance::historian {
namespace {

void expect_same(const std::vector<AggregateBucket>& a, const std::vector<AggregateBucket>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].count, b[i].count);
    EXPECT_EQ(a[i].value_count, b[i].value_count);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].first), std::bit_cast<std::uint64_t>(b[i].first));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].last), std::bit_cast<std::uint64_t>(b[i].last));
    if (a[i].value_count == 0) continue;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].min), std::bit_cast<std::uint64_t>(b[i].min));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].max), std::bit_cast<std::uint64_t>(b[i].max));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].sum), std::bit_cast<std::uint64_t>(b[i].sum));
  }
}

TEST(HistorianReads, ColumnsFoldLikeSamplesWithNaNSignedZeroAndBucketEdges) {
  std::mt19937_64 rng(11);
  std::vector<TimestampNs> ts;
  std::vector<double> values;
  std::vector<Sample> samples;
  TimestampNs t = 995;
  for (int i = 0; i < 3000; ++i) {
    t += 1 + static_cast<TimestampNs>(rng() % 7);
    double v = static_cast<double>(rng() % 1000) / 10.0 - 50.0;
    if (i % 97 == 0) v = std::numeric_limits<double>::quiet_NaN();
    if (i % 89 == 0) v = -0.0;
    if (i % 83 == 0) v = 0.0;
    if (i >= 2000 && i < 2100)
      v = std::numeric_limits<double>::quiet_NaN();  // a bucket of NaN only
    ts.push_back(t);
    values.push_back(v);
    samples.push_back(Sample{1, t, v, {}});
  }
  for (const auto [from, to, step] :
       {std::tuple<TimestampNs, TimestampNs, std::int64_t>{1000, 20000, 100},
        {0, 100000, 1},
        {1500, 9000, 333},
        {ts.back(), ts.back() + 1, 1000},
        {-5, std::numeric_limits<TimestampNs>::max(), 1'000'000'000}}) {
    SCOPED_TRACE(testing::Message() << from << ".." << to << " step " << step);
    std::vector<AggregateBucket> by_columns, by_samples;
    aggregate_columns(ts, values, from, to, step, by_columns);
    aggregate_samples(samples, from, to, step, by_samples);
    ASSERT_FALSE(by_samples.empty());
    expect_same(by_columns, by_samples);
  }
}

}  // namespace
}  // namespace resonance::historian
