#include "resonance/models/xgboost_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "resonance/models/evaluate.h"

namespace resonance::models {
namespace {

// y = 3·x0 − 2·x1 plus a little noise: trees must learn it well above a constant guess.
struct Synthetic {
  std::vector<float> x, y;
  std::size_t rows = 0;
};
Synthetic synthetic(std::size_t rows, bool binary) {
  Synthetic s;
  s.rows = rows;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  for (std::size_t i = 0; i < rows; ++i) {
    const float a = u(rng), b = u(rng);
    s.x.push_back(a);
    s.x.push_back(b);
    const float v = 3 * a - 2 * b + 0.05f * u(rng);
    s.y.push_back(binary ? (v > 0 ? 1.0f : 0.0f) : v);
  }
  return s;
}

TEST(XgbModel, RegressionLearnsAndRoundTripsThroughSave) {
  const auto s = synthetic(2000, false);
  TrainParams p;
  p.nthread = 1;  // no OpenMP spinning against the other tests on a loaded machine
  p.rounds = 100;
  p.max_depth = 4;
  p.eta = 0.2;
  int last_round = 0;
  auto model = XgbModel::train({s.x.data(), s.rows, 2}, s.y, p, [&](int done, int) { last_round = done; });
  ASSERT_TRUE(model) << model.error().message();
  EXPECT_EQ(last_round, 100);
  auto predicted = model->predict({s.x.data(), s.rows, 2});
  ASSERT_TRUE(predicted);
  EXPECT_LT(rmse(*predicted, s.y), 0.2);  // the spread of y is about 2.1

  auto json = model->save();
  ASSERT_TRUE(json);
  auto loaded = XgbModel::load(*json);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->num_features(), 2u);
  auto again = loaded->predict({s.x.data(), s.rows, 2});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *predicted);
}

TEST(XgbModel, BinaryCrossValidationF1) {
  Dataset ds;
  const auto s = synthetic(1500, true);
  ds.feature_names = {"a", "b"};
  ds.label_name = "y";
  ds.rows = s.rows;
  ds.features = s.x;
  ds.labels = s.y;
  TrainParams p;
  p.nthread = 1;
  p.task = Task::kBinary;
  p.rounds = 60;
  p.eta = 0.3;
  auto cv = cross_validate(ds, p, {CvKind::kStratified, 5, 1});
  ASSERT_TRUE(cv) << cv.error().message();
  EXPECT_EQ(cv->per_fold.size(), 5u);
  EXPECT_GT(cv->pooled.confusion.f1(), 0.93);
  EXPECT_EQ(cv->pooled.rows, 1500u);

  auto group_cv = cross_validate(ds, p, {CvKind::kGroup, 5, 1});
  ASSERT_FALSE(group_cv);
  EXPECT_EQ(group_cv.error().message(), "group-wise cross-validation needs a dataset with a group column");
}

TEST(XgbModel, BadInputsAreErrors) {
  const auto s = synthetic(10, false);
  TrainParams p;
  p.nthread = 1;
  p.task = Task::kBinary;
  auto model = XgbModel::train({s.x.data(), s.rows, 2}, s.y, p);
  ASSERT_FALSE(model);
  EXPECT_NE(model.error().message().find("binary label of row 1"), std::string::npos) << model.error().message();
  EXPECT_FALSE(XgbModel::load("{not a model"));
  EXPECT_EQ(parse_task("ranking").error().message(), "unknown task 'ranking' (regression, binary)");

  p.task = Task::kRegression;
  p.rounds = 2;
  auto ok = XgbModel::train({s.x.data(), s.rows, 2}, s.y, p);
  ASSERT_TRUE(ok);
  const std::vector<float> three(3, 0.0f);
  auto wrong = ok->predict({three.data(), 1, 3});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(), "input has 3 features, the model expects 2");
}

}  // namespace
}  // namespace resonance::models
