#include "resonance/models/evaluate.h"

#include <fmt/format.h>

namespace resonance::models {

std::string Metrics::to_json() const {
  if (task == Task::kRegression) {
    return fmt::format(R"({{"rows":{},"rmse":{:.6g},"phm08_score":{:.6g}}})", rows, rmse, phm08_score);
  }
  const auto& c = confusion;
  return fmt::format(
      R"({{"rows":{},"f1":{:.6g},"macro_f1":{:.6g},"precision":{:.6g},"recall":{:.6g},"accuracy":{:.6g},)"
      R"("confusion":{{"tp":{},"fp":{},"fn":{},"tn":{}}}}})",
      rows, c.f1(), c.macro_f1(), c.precision(), c.recall(), c.accuracy(), c.tp, c.fp, c.fn, c.tn);
}

std::string Metrics::to_text() const {
  if (task == Task::kRegression) {
    return fmt::format("rows {}  RMSE {:.3f}  PHM08 score {:.1f}", rows, rmse, phm08_score);
  }
  const auto& c = confusion;
  return fmt::format("rows {}  F1(class 1) {:.4f}  macro F1 {:.4f}  precision {:.4f}  recall {:.4f}  [{}]", rows,
                     c.f1(), c.macro_f1(), c.precision(), c.recall(), c.to_string());
}

Metrics evaluate_predictions(Task task, std::span<const float> predicted, std::span<const float> truth,
                             double threshold) {
  Metrics m;
  m.task = task;
  m.rows = truth.size();
  if (task == Task::kRegression) {
    m.rmse = rmse(predicted, truth);
    m.phm08_score = phm08_score(predicted, truth);
  } else {
    m.confusion = confusion(predicted, truth, threshold);
  }
  return m;
}

Subset subset(const Dataset& ds, const std::vector<std::size_t>& keep) {
  Subset s;
  s.rows = keep.size();
  s.x.reserve(keep.size() * ds.cols());
  s.y.reserve(keep.size());
  for (std::size_t r : keep) {
    s.x.insert(s.x.end(), ds.row(r), ds.row(r) + ds.cols());
    s.y.push_back(ds.labels[r]);
  }
  return s;
}

Result<CvResult> cross_validate(const Dataset& ds, const TrainParams& params, const CvOptions& cv,
                                const ProgressFn& progress) {
  if (Status s = ds.validate(); !s) return std::unexpected(s);
  if (cv.folds < 2) return error(StatusCode::kInvalidArgument, fmt::format("{} folds: at least 2 are needed", cv.folds));
  std::vector<int> fold;
  switch (cv.kind) {
    case CvKind::kKFold:
      fold = kfold_assign(ds.rows, cv.folds, cv.seed);
      break;
    case CvKind::kStratified:
      fold = stratified_assign(ds.labels, cv.folds, cv.seed);
      break;
    case CvKind::kGroup:
      if (ds.group_name.empty()) {
        return error(StatusCode::kInvalidArgument, "group-wise cross-validation needs a dataset with a group column");
      }
      fold = group_assign(ds.groups, cv.folds, cv.seed);
      break;
  }
  CvResult result;
  result.out_of_fold.assign(ds.rows, 0.0f);
  for (int k = 0; k < cv.folds; ++k) {
    std::vector<std::size_t> train_rows, test_rows;
    for (std::size_t r = 0; r < ds.rows; ++r) (fold[r] == k ? test_rows : train_rows).push_back(r);
    if (test_rows.empty() || train_rows.empty()) {
      return error(StatusCode::kInvalidArgument,
                   fmt::format("fold {} of {} is empty: too few rows or groups for {} folds", k + 1, cv.folds, cv.folds));
    }
    const Subset train = subset(ds, train_rows);
    const Subset test = subset(ds, test_rows);
    const int done_before = k * params.rounds;
    const int total = cv.folds * params.rounds;
    auto model = XgbModel::train({train.x.data(), train.rows, ds.cols()}, train.y, params,
                                 [&](int round, int) {
                                   if (progress) progress(done_before + round, total);
                                 });
    if (!model) return std::unexpected(model.error());
    auto predicted = model->predict({test.x.data(), test.rows, ds.cols()});
    if (!predicted) return std::unexpected(predicted.error());
    for (std::size_t i = 0; i < test_rows.size(); ++i) result.out_of_fold[test_rows[i]] = (*predicted)[i];
    result.per_fold.push_back(evaluate_predictions(params.task, *predicted, test.y));
  }
  result.pooled = evaluate_predictions(params.task, result.out_of_fold, ds.labels);
  for (const auto& m : result.per_fold) {
    result.mean_f1 += m.confusion.f1() / cv.folds;
    result.mean_macro_f1 += m.confusion.macro_f1() / cv.folds;
    result.mean_rmse += m.rmse / cv.folds;
  }
  return result;
}

}  // namespace resonance::models
