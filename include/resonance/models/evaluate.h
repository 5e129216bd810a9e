#pragma once
// Training and cross-validated evaluation of a dataset with XGBoost.

#include <cstdint>
#include <string>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/models/cv.h"
#include "resonance/models/dataset.h"
#include "resonance/models/metrics.h"
#include "resonance/models/xgboost_model.h"

namespace resonance::models {

// The figures of one evaluation. Regression fills rmse/score; binary fills the confusion matrix.
struct Metrics {
  Task task = Task::kRegression;
  std::size_t rows = 0;
  double rmse = 0;
  double phm08_score = 0;
  Confusion confusion;
  std::string to_json() const;
  std::string to_text() const;  // one line for people
};

Metrics evaluate_predictions(Task task, std::span<const float> predicted, std::span<const float> truth,
                             double threshold = 0.5);

struct CvOptions {
  CvKind kind = CvKind::kKFold;
  int folds = 5;
  std::uint64_t seed = 42;
};

struct CvResult {
  std::vector<float> out_of_fold;  // each row's prediction by the model that did not see it
  std::vector<Metrics> per_fold;
  Metrics pooled;                  // over all out-of-fold predictions
  double mean_f1 = 0;              // binary: the mean of the folds' positive-class F1
  double mean_macro_f1 = 0;
  double mean_rmse = 0;            // regression: the mean of the folds' RMSE
};

// Called with (units done, units total) — a unit is one boosting round of one fold.
Result<CvResult> cross_validate(const Dataset& ds, const TrainParams& params, const CvOptions& cv,
                                const ProgressFn& progress = {});

// Rows `keep` of a dataset's features and labels.
struct Subset {
  std::vector<float> x;
  std::vector<float> y;
  std::size_t rows = 0;
};
Subset subset(const Dataset& ds, const std::vector<std::size_t>& keep);

}  // namespace resonance::models
