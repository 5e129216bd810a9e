#include "resonance/models/xgboost_model.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <utility>

namespace resonance::models {

namespace {

Status xgb_error(std::string_view what) {
  return {StatusCode::kInternal, fmt::format("xgboost {}: {}", what, XGBGetLastError())};
}

// Owns a DMatrix for the length of one call.
class DMatrix {
 public:
  ~DMatrix() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  static Result<std::unique_ptr<DMatrix>> from(MatrixView x) {
    auto m = std::unique_ptr<DMatrix>(new DMatrix());
    if (XGDMatrixCreateFromMat(x.data, x.rows, x.cols, std::nanf(""), &m->handle_) != 0) {
      return error(xgb_error("DMatrix"));
    }
    return m;
  }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrix() = default;
  DMatrixHandle handle_ = nullptr;
};

}  // namespace

Result<Task> parse_task(std::string_view text) {
  if (text == "regression") return Task::kRegression;
  if (text == "binary") return Task::kBinary;
  return error(StatusCode::kInvalidArgument, fmt::format("unknown task '{}' (regression, binary)", text));
}

std::string_view to_string(Task task) { return task == Task::kRegression ? "regression" : "binary"; }

std::string TrainParams::to_json() const {
  return fmt::format(
      R"({{"task":"{}","rounds":{},"max_depth":{},"eta":{},"subsample":{},"colsample_bytree":{},)"
      R"("min_child_weight":{},"scale_pos_weight":{},"nthread":{},"seed":{},"tree_method":"{}"}})",
      to_string(task), rounds, max_depth, eta, subsample, colsample_bytree, min_child_weight, scale_pos_weight,
      nthread, seed, tree_method);
}

XgbModel::XgbModel(XgbModel&& o) noexcept
    : handle_(std::exchange(o.handle_, nullptr)), num_features_(o.num_features_) {}

XgbModel& XgbModel::operator=(XgbModel&& o) noexcept {
  if (this != &o) {
    if (handle_ != nullptr) XGBoosterFree(handle_);
    handle_ = std::exchange(o.handle_, nullptr);
    num_features_ = o.num_features_;
  }
  return *this;
}

XgbModel::~XgbModel() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Result<XgbModel> XgbModel::train(MatrixView x, std::span<const float> y, const TrainParams& p,
                                 const ProgressFn& progress) {
  if (x.rows == 0 || x.cols == 0) return error(StatusCode::kInvalidArgument, "training data is empty");
  if (y.size() != x.rows) {
    return error(StatusCode::kInvalidArgument, fmt::format("{} labels for {} rows", y.size(), x.rows));
  }
  if (p.task == Task::kBinary) {
    for (std::size_t i = 0; i < y.size(); ++i) {
      if (y[i] != 0.0f && y[i] != 1.0f) {
        return error(StatusCode::kInvalidArgument, fmt::format("binary label of row {} is {}, not 0 or 1", i + 1, y[i]));
      }
    }
  }
  if (p.rounds <= 0 || p.max_depth <= 0 || p.eta <= 0) {
    return error(StatusCode::kInvalidArgument, "rounds, max_depth and eta must be positive");
  }
  auto dm = DMatrix::from(x);
  if (!dm) return std::unexpected(dm.error());
  if (XGDMatrixSetFloatInfo((*dm)->get(), "label", y.data(), y.size()) != 0) return error(xgb_error("labels"));
  DMatrixHandle mats[] = {(*dm)->get()};
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(mats, 1, &h) != 0) return error(xgb_error("create"));
  XgbModel model(h, x.cols);
  const std::pair<std::string, std::string> params[] = {
      {"objective", p.task == Task::kRegression ? "reg:squarederror" : "binary:logistic"},
      {"max_depth", std::to_string(p.max_depth)},
      {"eta", fmt::format("{}", p.eta)},
      {"subsample", fmt::format("{}", p.subsample)},
      {"colsample_bytree", fmt::format("{}", p.colsample_bytree)},
      {"min_child_weight", fmt::format("{}", p.min_child_weight)},
      {"scale_pos_weight", fmt::format("{}", p.scale_pos_weight)},
      {"nthread", std::to_string(p.nthread)},
      {"seed", std::to_string(p.seed)},
      {"tree_method", p.tree_method},
      {"verbosity", "0"},
  };
  for (const auto& [key, value] : params) {
    if (XGBoosterSetParam(h, key.c_str(), value.c_str()) != 0) return error(xgb_error("parameter " + key));
  }
  for (int round = 0; round < p.rounds; ++round) {
    if (XGBoosterUpdateOneIter(h, round, (*dm)->get()) != 0) return error(xgb_error(fmt::format("round {}", round)));
    if (progress) progress(round + 1, p.rounds);
  }
  return model;
}

Result<XgbModel> XgbModel::load(std::string_view bytes, int nthread) {
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(nullptr, 0, &h) != 0) return error(xgb_error("create"));
  XgbModel model(h, 0);
  if (XGBoosterLoadModelFromBuffer(h, bytes.data(), bytes.size()) != 0) {
    return error(StatusCode::kInvalidArgument, fmt::format("not an XGBoost model: {}", XGBGetLastError()));
  }
  XGBoosterSetParam(h, "nthread", std::to_string(nthread).c_str());
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(h, &features) != 0) return error(xgb_error("feature count"));
  model.num_features_ = features;
  return model;
}

Result<std::vector<float>> XgbModel::predict(MatrixView x) const {
  if (x.cols != num_features_) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("input has {} features, the model expects {}", x.cols, num_features_));
  }
  if (x.rows == 0) return std::vector<float>{};
  auto dm = DMatrix::from(x);
  if (!dm) return std::unexpected(dm.error());
  bst_ulong len = 0;
  const float* out = nullptr;
  if (XGBoosterPredict(handle_, (*dm)->get(), 0, 0, 0, &len, &out) != 0) return error(xgb_error("predict"));
  return std::vector<float>(out, out + len);
}

Result<std::string> XgbModel::save() const {
  bst_ulong len = 0;
  const char* data = nullptr;
  if (XGBoosterSaveModelToBuffer(handle_, R"({"format":"json"})", &len, &data) != 0) return error(xgb_error("save"));
  return std::string(data, len);
}

}  // namespace resonance::models
