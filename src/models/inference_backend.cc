// The backends live inference runs: the statistical detectors (parameters in the manifest's
// lineage.params) and XGBoost (the model file listed in the manifest). Output conventions per
// backend are in docs/formats/model-manifest.md "Live inference".

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "resonance/models/inference.h"
#include "resonance/models/onnx_model.h"
#include "resonance/models/statistical.h"
#include "resonance/models/table.h"
#include "resonance/models/xgboost_model.h"

namespace resonance::models {

Result<std::vector<double>> InferenceBackend::run_row(std::span<const double>) {
  return error(StatusCode::kInvalidArgument, "this backend reads raw windows, not rows of derived inputs");
}

bool backend_takes_rows(std::string_view backend) { return backend != "linear_trend"; }

namespace {

using nlohmann::json;

// A number from lineage.params; `fallback` when absent, an error naming the key when not a number.
Result<std::optional<double>> param(const json& params, const ModelManifest& m, const char* key) {
  const auto it = params.find(key);
  if (it == params.end() || it->is_null()) return std::optional<double>{};
  if (!it->is_number())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("model '{}': lineage.params.{}: expected a number, found {}", m.name, key, it->type_name()));
  return std::optional<double>(it->get<double>());
}

Result<double> required(const json& params, const ModelManifest& m, const char* key) {
  auto v = param(params, m, key);
  if (!v) return error(v.error());
  if (!*v)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("model '{}': backend {} needs lineage.params.{}", m.name, m.backend, key));
  return **v;
}

// Maps an unbounded statistic s ≥ 0 to [0, 1) so that the alarm level sits at 0.5: the
// anomaly_detection contract wants a score between 0 (normal) and 1.
double squash(double s, double level) { return s <= 0 ? 0.0 : s / (s + level); }

class EwmaBackend final : public InferenceBackend {
 public:
  EwmaBackend(EwmaDetector d, std::string feature, double threshold)
      : detector_(d), feature_(std::move(feature)), threshold_(threshold) {}
  Result<std::vector<double>> run(std::span<const WindowInput> in) override {
    auto x = window_feature(feature_, in[0]);
    if (!x) return error(x.error());
    return step(*x);
  }
  Result<std::vector<double>> run_row(std::span<const double> row) override { return step(row[0]); }
  std::vector<double> step(double x) {
    const auto out = detector_.update(x);
    return std::vector<double>{squash(out.score, threshold_), out.anomalous ? 1.0 : 0.0};
  }

 private:
  EwmaDetector detector_;
  std::string feature_;
  double threshold_;
};

class CusumBackend final : public InferenceBackend {
 public:
  CusumBackend(CusumDetector d, std::string feature, double h) : detector_(d), feature_(std::move(feature)), h_(h) {}
  Result<std::vector<double>> run(std::span<const WindowInput> in) override {
    auto x = window_feature(feature_, in[0]);
    if (!x) return error(x.error());
    return step(*x);
  }
  Result<std::vector<double>> run_row(std::span<const double> row) override { return step(row[0]); }
  std::vector<double> step(double x) {
    const auto out = detector_.update(x);
    return std::vector<double>{squash(std::max(out.high, out.low), h_), out.alarm ? 1.0 : 0.0};
  }

 private:
  CusumDetector detector_;
  std::string feature_;
  double h_;
};

class ThresholdBackend final : public InferenceBackend {
 public:
  ThresholdBackend(ThresholdRule rule, std::string feature) : rule_(rule), feature_(std::move(feature)) {}
  Result<std::vector<double>> run(std::span<const WindowInput> in) override {
    auto x = window_feature(feature_, in[0]);
    if (!x) return error(x.error());
    return run_row(std::span<const double>(&*x, 1));
  }
  Result<std::vector<double>> run_row(std::span<const double> row) override {
    const double v = rule_.violated(row[0]) ? 1.0 : 0.0;
    return std::vector<double>{v, v};
  }

 private:
  ThresholdRule rule_;
  std::string feature_;
};

// Fits a line through the first input's window and reports when it reaches `level`.
class TrendBackend final : public InferenceBackend {
 public:
  explicit TrendBackend(double level) : level_(level) {}
  Result<std::vector<double>> run(std::span<const WindowInput> in) override {
    const auto& w = in[0];
    if (w.values.size() < 2) return std::vector<double>{};
    std::vector<double> t_h(w.ts_ns.size());
    const TimestampNs t_end = w.ts_ns.back();
    for (std::size_t i = 0; i < t_h.size(); ++i) t_h[i] = static_cast<double>(w.ts_ns[i] - t_end) / 3.6e12;
    auto trend = fit_linear_trend(t_h, w.values);
    if (!trend) return std::vector<double>{};  // all timestamps equal: nothing to say
    const auto hours = trend->time_to(level_, 0.0);
    if (!hours) return std::vector<double>{};
    return std::vector<double>{*hours, trend->slope};
  }

 private:
  double level_;
};

class XgbBackend final : public InferenceBackend {
 public:
  XgbBackend(XgbModel model, std::vector<std::string> features) : model_(std::move(model)), features_(std::move(features)) {
    row_.resize(features_.size());
  }
  Result<std::vector<double>> run(std::span<const WindowInput> in) override {
    for (std::size_t k = 0; k < features_.size(); ++k) {
      auto x = window_feature(features_[k], in[k]);
      if (!x) return error(x.error());
      row_[k] = static_cast<float>(*x);  // XGBoost trains and predicts on float32, as training did
    }
    return predict();
  }
  Result<std::vector<double>> run_row(std::span<const double> row) override {
    for (std::size_t k = 0; k < row_.size(); ++k) row_[k] = static_cast<float>(row[k]);  // as the dataset holds it
    return predict();
  }
  Result<std::vector<double>> predict() {
    auto p = model_.predict(MatrixView{row_.data(), 1, row_.size()});
    if (!p) return error(p.error());
    return std::vector<double>{static_cast<double>((*p)[0])};
  }

 private:
  XgbModel model_;
  std::vector<std::string> features_;
  std::vector<float> row_;
};

// A network through OpenCV DNN (onnx_model.h) on one row of window features. The network is
// loaded once per deployment and shared by the instances of every equipment: they all run on the
// scheduler's one worker, and OnnxModel serialises its calls anyway.
class OnnxBackend final : public InferenceBackend {
 public:
  OnnxBackend(std::shared_ptr<const OnnxModel> model, std::vector<std::string> features, std::size_t outputs)
      : model_(std::move(model)), features_(std::move(features)), outputs_(outputs) {
    row_.resize(features_.size());
  }
  Result<std::vector<double>> run(std::span<const WindowInput> in) override {
    for (std::size_t k = 0; k < features_.size(); ++k) {
      auto x = window_feature(features_[k], in[k]);
      if (!x) return error(x.error());
      row_[k] = static_cast<float>(*x);  // the network takes float32, as predict_rows gives it
    }
    return predict();
  }
  Result<std::vector<double>> run_row(std::span<const double> row) override {
    for (std::size_t k = 0; k < row_.size(); ++k) row_[k] = static_cast<float>(row[k]);
    return predict();
  }
  Result<std::vector<double>> predict() {
    auto t = model_->predict(row_, 1);
    if (!t) return error(t.error());
    return onnx_outputs(model_->manifest(), t->values, outputs_);
  }
  // One row of the network's output → the manifest's outputs: a binary model's two class scores
  // give the probability of class 1 (as predict_rows reads them); otherwise one value per output,
  // in order. Any other width is refused rather than guessed at.
  static Result<std::vector<double>> onnx_outputs(const ModelManifest& m, std::span<const float> row, std::size_t outputs) {
    if (m.task == "binary" && outputs == 1 && row.size() == 2) return std::vector<double>{row[1]};
    if (row.size() != outputs)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("model '{}': the network gives {} value(s) per row, the manifest lists {} output(s){}",
                               m.name, row.size(), outputs,
                               m.task == "binary" ? " (a binary model may also give 2 class scores for 1 output)" : ""));
    return std::vector<double>(row.begin(), row.end());
  }

 private:
  std::shared_ptr<const OnnxModel> model_;
  std::vector<std::string> features_;
  std::size_t outputs_;
  std::vector<float> row_;
};

Status one_input(const ModelManifest& m) {
  if (m.inputs.size() != 1)
    return {StatusCode::kInvalidArgument,
            fmt::format("model '{}': backend {} takes exactly one input, the manifest lists {}", m.name, m.backend,
                        m.inputs.size())};
  return {};
}

}  // namespace

Result<BackendFactory> make_backend_factory(const ModelManifest& m, const std::filesystem::path& dir) {
  json params = json::parse(m.params_json, nullptr, false);
  if (params.is_discarded() || !params.is_object()) params = json::object();
  const std::size_t produced = m.backend == "xgboost" ? 1 : 2;
  if (m.backend != "onnx" && m.outputs.size() > produced)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("model '{}': backend {} produces {} output(s), the manifest lists {}", m.name, m.backend,
                             produced, m.outputs.size()));
  if (m.backend == "ewma") {
    if (Status s = one_input(m); !s) return error(s);
    auto alpha = param(params, m, "alpha"), threshold = param(params, m, "threshold"), warmup = param(params, m, "warmup");
    for (auto* r : {&alpha, &threshold, &warmup})
      if (!*r) return error(r->error());
    const double a = alpha->value_or(0.1), t = threshold->value_or(3.0), w = warmup->value_or(10.0);
    if (auto probe = EwmaDetector::create(a, t, static_cast<std::size_t>(w)); !probe)
      return error(StatusCode::kInvalidArgument, fmt::format("model '{}': {}", m.name, probe.error().message()));
    return BackendFactory([a, t, w, feature = m.inputs[0].feature]() -> Result<std::unique_ptr<InferenceBackend>> {
      return std::make_unique<EwmaBackend>(*EwmaDetector::create(a, t, static_cast<std::size_t>(w)), feature, t);
    });
  }
  if (m.backend == "cusum") {
    if (Status s = one_input(m); !s) return error(s);
    auto target = required(params, m, "target"), k = required(params, m, "k"), h = required(params, m, "h");
    for (auto* r : {&target, &k, &h})
      if (!*r) return error(r->error());
    if (auto probe = CusumDetector::create(*target, *k, *h); !probe)
      return error(StatusCode::kInvalidArgument, fmt::format("model '{}': {}", m.name, probe.error().message()));
    return BackendFactory([t = *target, k = *k, h = *h, feature = m.inputs[0].feature]()
                              -> Result<std::unique_ptr<InferenceBackend>> {
      return std::make_unique<CusumBackend>(*CusumDetector::create(t, k, h), feature, h);
    });
  }
  if (m.backend == "threshold") {
    if (Status s = one_input(m); !s) return error(s);
    auto lo = param(params, m, "min"), hi = param(params, m, "max");
    if (!lo) return error(lo.error());
    if (!hi) return error(hi.error());
    if (!*lo && !*hi)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("model '{}': backend threshold needs lineage.params.min or .max", m.name));
    ThresholdRule rule{*lo, *hi};
    return BackendFactory([rule, feature = m.inputs[0].feature]() -> Result<std::unique_ptr<InferenceBackend>> {
      return std::make_unique<ThresholdBackend>(rule, feature);
    });
  }
  if (m.backend == "linear_trend") {
    if (Status s = one_input(m); !s) return error(s);
    auto level = required(params, m, "level");
    if (!level) return error(level.error());
    return BackendFactory([l = *level]() -> Result<std::unique_ptr<InferenceBackend>> {
      return std::make_unique<TrendBackend>(l);
    });
  }
  if (m.backend == "xgboost") {
    if (m.files.empty())
      return error(StatusCode::kInvalidArgument, fmt::format("model '{}': backend xgboost needs a model file", m.name));
    if (Status s = verify_manifest_files(m, dir); !s) return error(s);
    auto bytes = read_file_bytes(dir / m.files[0].path);
    if (!bytes) return error(bytes.error());
    std::vector<std::string> features;
    for (const auto& in : m.inputs) features.push_back(in.feature);
    auto probe = XgbModel::load(*bytes, 1);
    if (!probe) return error(probe.error());
    if (probe->num_features() != features.size())
      return error(StatusCode::kInvalidArgument,
                   fmt::format("model '{}': the XGBoost model takes {} features, the manifest lists {} inputs", m.name,
                               probe->num_features(), features.size()));
    auto shared_bytes = std::make_shared<const std::string>(std::move(*bytes));
    return BackendFactory([shared_bytes, features]() -> Result<std::unique_ptr<InferenceBackend>> {
      auto model = XgbModel::load(*shared_bytes, 1);
      if (!model) return error(model.error());
      return std::make_unique<XgbBackend>(std::move(*model), features);
    });
  }
  if (m.backend == "onnx") {
    if (m.onnx && m.onnx->image)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("model '{}': an image model (onnx.image) takes pictures, not signal windows; it cannot "
                               "run on live series",
                               m.name));
    if (m.outputs.empty())
      return error(StatusCode::kInvalidArgument, fmt::format("model '{}': backend onnx needs at least one output", m.name));
    auto loaded = OnnxModel::load(m, dir);  // checks the onnx section and every file's sha256
    if (!loaded) return error(loaded.error());
    std::shared_ptr<const OnnxModel> model = std::move(*loaded);
    std::vector<std::string> features;
    for (const auto& in : m.inputs) features.push_back(in.feature);
    // One run on zeros at deployment: a network whose output does not fit the manifest's outputs
    // is refused now, naming both, not on every live window.
    const std::vector<float> zeros(features.size(), 0.0f);
    auto probe = model->predict(zeros, 1);
    if (!probe) return error(probe.error());
    if (auto fits = OnnxBackend::onnx_outputs(m, probe->values, m.outputs.size()); !fits) return error(fits.error());
    return BackendFactory([model, features, n = m.outputs.size()]() -> Result<std::unique_ptr<InferenceBackend>> {
      return std::make_unique<OnnxBackend>(model, features, n);
    });
  }
  return error(StatusCode::kInvalidArgument,
               fmt::format("model '{}': backend '{}' cannot run live (live backends: xgboost, onnx, ewma, cusum, "
                           "linear_trend, threshold)",
                           m.name, m.backend));
}

}  // namespace resonance::models
