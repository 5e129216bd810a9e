#include "resonance/models/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace resonance::models {
namespace {

TEST(Metrics, RmseAndPhm08Score) {
  const std::vector<float> truth = {10, 20, 30};
  const std::vector<float> predicted = {13, 20, 26};  // d = +3, 0, -4
  EXPECT_NEAR(rmse(predicted, truth), std::sqrt((9.0 + 0 + 16) / 3), 1e-9);
  // Late (d > 0) costs exp(d/10) - 1, early exp(-d/13) - 1.
  EXPECT_NEAR(phm08_score(predicted, truth), (std::exp(0.3) - 1) + 0 + (std::exp(4.0 / 13) - 1), 1e-9);
}

TEST(Metrics, ConfusionF1PrecisionRecall) {
  const std::vector<float> scores = {0.9f, 0.8f, 0.2f, 0.6f, 0.1f, 0.4f};
  const std::vector<float> labels = {1, 1, 1, 0, 0, 0};
  const Confusion c = confusion(scores, labels);
  EXPECT_EQ(c.to_string(), "tp=2 fp=1 fn=1 tn=2");
  EXPECT_DOUBLE_EQ(c.precision(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.recall(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.f1(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.f1_negative(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.macro_f1(), 2.0 / 3);
  const Confusion none = confusion(std::vector<float>{0.1f}, std::vector<float>{1});
  EXPECT_EQ(none.f1(), 0.0);  // no positive predictions: precision 0, not a division by zero
}

}  // namespace
}  // namespace resonance::models
