#pragma once
// Gradient-boosted trees through the XGBoost C API (Debian libxgboost-dev). One XgbModel owns one
// booster handle; it is movable, not copyable. Prediction from several threads on one model is
// not promised (XGBoost 1.6 serialises it internally); use one model per thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::models {

enum class Task { kRegression, kBinary };
Result<Task> parse_task(std::string_view text);
std::string_view to_string(Task task);

struct TrainParams {
  Task task = Task::kRegression;
  int rounds = 400;
  int max_depth = 4;
  double eta = 0.05;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double min_child_weight = 1.0;
  double scale_pos_weight = 1.0;  // binary only
  int nthread = 2;
  std::uint64_t seed = 0;
  // "hist" bins each feature into 256 quantiles (fast); "exact" tries every distinct value, which
  // finds sharp physical thresholds that a rare class depends on.
  std::string tree_method = "hist";
  std::string to_json() const;  // the parameters as recorded in a manifest
};

// A dense float matrix view: rows × cols, row-major.
struct MatrixView {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
};

// Called after each boosting round with (round done, rounds total).
using ProgressFn = std::function<void(int, int)>;

class XgbModel {
 public:
  XgbModel(XgbModel&&) noexcept;
  XgbModel& operator=(XgbModel&&) noexcept;
  ~XgbModel();

  static Result<XgbModel> train(MatrixView x, std::span<const float> y, const TrainParams& params,
                                const ProgressFn& progress = {});
  // Loads a model saved by save(); the error says what XGBoost refused.
  static Result<XgbModel> load(std::string_view bytes, int nthread = 1);

  // One output per row: the value (regression) or the probability of class 1 (binary).
  Result<std::vector<float>> predict(MatrixView x) const;
  Result<std::string> save() const;  // XGBoost's JSON model format
  std::size_t num_features() const { return num_features_; }

 private:
  XgbModel(void* handle, std::size_t num_features) : handle_(handle), num_features_(num_features) {}
  void* handle_ = nullptr;  // BoosterHandle
  std::size_t num_features_ = 0;
};

}  // namespace resonance::models
