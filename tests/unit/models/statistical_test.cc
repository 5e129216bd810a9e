#include "resonance/models/statistical.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace resonance::models {
namespace {

TEST(Ewma, FlagsAStepNotTheNoise) {
  auto d = EwmaDetector::create(0.05, 4.0).value();
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 1);
  int false_alarms = 0;
  for (int i = 0; i < 2000; ++i) false_alarms += d.update(10 + noise(rng)).anomalous;
  EXPECT_LT(false_alarms, 5);  // 4 sigma: about 0.006 % of normal samples
  const auto out = d.update(20);
  EXPECT_TRUE(out.anomalous);
  EXPECT_GT(out.score, 7.0);
  EXPECT_FALSE(EwmaDetector::create(0, 3));
  EXPECT_EQ(EwmaDetector::create(1.5, 3).error().message(), "ewma alpha 1.5 is not in (0, 1]");
}

TEST(Cusum, DetectsASmallShiftAfterSomeSamples) {
  auto c = CusumDetector::create(0.0, 0.5, 5.0).value();
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(c.update(i % 2 == 0 ? 0.4 : -0.4).alarm) << i;
  int alarm_at = -1;
  for (int i = 0; i < 20; ++i) {
    if (c.update(1.5).alarm) {
      alarm_at = i;
      break;
    }
  }
  EXPECT_EQ(alarm_at, 5);  // S+ grows by 1.0 per sample and exceeds 5 at the sixth
  EXPECT_FALSE(CusumDetector::create(0, -1, 5));
}

TEST(LinearTrend, FitsAndPredictsCrossing) {
  const std::vector<double> t = {0, 1, 2, 3};
  const std::vector<double> v = {1, 3, 5, 7};
  const auto trend = fit_linear_trend(t, v).value();
  EXPECT_DOUBLE_EQ(trend.slope, 2.0);
  EXPECT_DOUBLE_EQ(trend.intercept, 1.0);
  EXPECT_DOUBLE_EQ(trend.time_to(21, 3).value(), 10.0);
  EXPECT_FALSE(trend.time_to(-5, 3));  // reached in the past
  EXPECT_EQ(fit_linear_trend(std::vector<double>{1, 1}, std::vector<double>{2, 3}).error().message(),
            "a trend needs points at two or more distinct times");
}

TEST(Threshold, Limits) {
  ThresholdRule r{.min = 0.0, .max = 100.0};
  EXPECT_FALSE(r.violated(50));
  EXPECT_TRUE(r.violated(-1));
  EXPECT_TRUE(r.violated(101));
  EXPECT_FALSE(ThresholdRule{}.violated(1e9));
}

}  // namespace
}  // namespace resonance::models
