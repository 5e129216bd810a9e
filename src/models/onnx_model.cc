// The ONNX backend over OpenCV DNN. This is the one translation unit that includes OpenCV: its
// headers warn under C++23 (enum arithmetic) and throw cv::Exception, so both stay here, and every
// call into OpenCV is wrapped so that an exception becomes a Status naming the model file.
#include "resonance/models/onnx_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <numeric>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "resonance/models/dataset.h"
#include "resonance/models/table.h"

namespace resonance::models {

namespace {

Tensor from_mat(const cv::Mat& mat) {
  cv::Mat floats;
  if (mat.type() == CV_32F) {
    floats = mat.isContinuous() ? mat : mat.clone();
  } else {
    mat.convertTo(floats, CV_32F);
  }
  Tensor t;
  for (int d = 0; d < floats.dims; ++d) t.shape.push_back(floats.size[d]);
  const auto* begin = floats.ptr<float>();
  t.values.assign(begin, begin + floats.total());
  return t;
}

// Runs `body`, turning any exception into a Status: OpenCV reports bad models, unsupported
// operators and shape mismatches by throwing, and none of that may cross into the caller.
template <typename T>
Result<T> guarded(const std::function<Result<T>()>& body, const std::string& what) {
  try {
    return body();
  } catch (const cv::Exception& e) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}: OpenCV: {}", what, e.what()));
  } catch (const std::exception& e) {
    return error(StatusCode::kInternal, fmt::format("{}: {}", what, e.what()));
  }
}

}  // namespace

std::size_t Tensor::elements() const {
  if (shape.empty()) return 0;
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1},
                         [](std::size_t a, std::int64_t b) { return a * static_cast<std::size_t>(b); });
}

std::string shape_text(std::span<const std::int64_t> shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Result<Tensor> read_onnx_tensor(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return error(StatusCode::kNotFound, fmt::format("{}: no such tensor file", file.string()));
  }
  return guarded<Tensor>([&]() -> Result<Tensor> { return from_mat(cv::dnn::readTensorFromONNX(file.string())); },
                         file.string());
}

struct OnnxModel::Impl {
  ModelManifest manifest;
  std::string where;  // "model 'name' (dir/model.onnx)", the prefix of every error
  mutable std::mutex mu;
  mutable cv::dnn::Net net;  // guarded by mu: forward() mutates the net's buffers
};

OnnxModel::OnnxModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxModel::~OnnxModel() = default;

const ModelManifest& OnnxModel::manifest() const { return impl_->manifest; }

Result<std::unique_ptr<OnnxModel>> OnnxModel::load(const ModelManifest& manifest, const std::filesystem::path& dir) {
  if (manifest.backend != "onnx") {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("model '{}': backend is '{}', not 'onnx'", manifest.name, manifest.backend));
  }
  if (!manifest.onnx) {
    return error(StatusCode::kInvalidArgument, fmt::format("model '{}': the manifest has no \"onnx\" section", manifest.name));
  }
  const ManifestOnnx& spec = *manifest.onnx;
  const auto listed = std::find_if(manifest.files.begin(), manifest.files.end(),
                                   [&](const ManifestFile& f) { return f.path == spec.file; });
  if (listed == manifest.files.end()) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("model '{}': onnx.file '{}' is not one of the manifest's files", manifest.name, spec.file));
  }
  // Every file is checked, not only the network: a model is the set its manifest hashes.
  std::string network;
  for (const auto& f : manifest.files) {
    auto bytes = read_file_bytes(dir / f.path);
    if (!bytes) return error(bytes.error().code(), fmt::format("model '{}': {}", manifest.name, bytes.error().message()));
    const std::string got = sha256_hex(*bytes);
    if (got != f.sha256) {
      return error(StatusCode::kCorruption, fmt::format("model '{}': {}: sha256 {} differs from the manifest's {}",
                                                        manifest.name, (dir / f.path).string(), got, f.sha256));
    }
    if (f.path == spec.file) network = std::move(*bytes);
  }
  auto impl = std::make_unique<Impl>();
  impl->manifest = manifest;
  impl->where = fmt::format("model '{}' ({})", manifest.name, (dir / spec.file).string());
  auto loaded = guarded<bool>(
      [&]() -> Result<bool> {
        impl->net = cv::dnn::readNetFromONNX(network.data(), network.size());
        return !impl->net.empty();
      },
      impl->where + ": cannot load the network");
  if (!loaded) return std::unexpected(loaded.error());
  if (!*loaded) return error(StatusCode::kInvalidArgument, impl->where + ": the network has no layers");
  return std::unique_ptr<OnnxModel>(new OnnxModel(std::move(impl)));
}

Result<Tensor> OnnxModel::run(const Tensor& input) const {
  const auto& want = impl_->manifest.onnx->input_shape;
  bool fits = input.shape.size() == want.size();
  for (std::size_t k = 0; fits && k < want.size(); ++k) fits = want[k] == -1 || want[k] == input.shape[k];
  if (!fits) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}: input shape {} does not match the manifest's input_shape {}",
                                                           impl_->where, shape_text(input.shape), shape_text(want)));
  }
  if (input.values.size() != input.elements()) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}: input of shape {} holds {} values, expected {}", impl_->where,
                                                           shape_text(input.shape), input.values.size(), input.elements()));
  }
  return guarded<Tensor>(
      [&]() -> Result<Tensor> {
        std::vector<int> sizes(input.shape.begin(), input.shape.end());
        // The Net keeps a reference to its input until the next forward: give it its own copy.
        cv::Mat blob = cv::Mat(static_cast<int>(sizes.size()), sizes.data(), CV_32F,
                               const_cast<float*>(input.values.data()))
                           .clone();
        std::lock_guard lock(impl_->mu);
        impl_->net.setInput(blob);
        return from_mat(impl_->net.forward());
      },
      fmt::format("{}: running input {}", impl_->where, shape_text(input.shape)));
}

Result<Tensor> OnnxModel::predict(std::span<const float> features, std::size_t rows) const {
  const ManifestOnnx& spec = *impl_->manifest.onnx;
  if (spec.image) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}: takes images (onnx.image), not feature rows", impl_->where));
  }
  if (rows == 0) return error(StatusCode::kInvalidArgument, fmt::format("{}: no rows to predict", impl_->where));
  Tensor input;
  input.shape = spec.input_shape;
  input.shape[0] = static_cast<std::int64_t>(rows);
  const std::size_t per_row = input.elements() / rows;
  if (features.size() != rows * per_row) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: {} values for {} rows is {} per row; the model takes {} (input_shape {})", impl_->where,
                             features.size(), rows, double(features.size()) / double(rows), per_row,
                             shape_text(spec.input_shape)));
  }
  input.values.assign(features.begin(), features.end());
  return run(input);
}

Result<Tensor> OnnxModel::image_tensor(const std::filesystem::path& image) const {
  const ManifestOnnx& spec = *impl_->manifest.onnx;
  if (!spec.image) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: takes feature rows; the manifest has no onnx.image section", impl_->where));
  }
  const ManifestImage& im = *spec.image;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(image, ec)) {
    return error(StatusCode::kNotFound, fmt::format("{}: no such file", image.string()));
  }
  return guarded<Tensor>(
      [&]() -> Result<Tensor> {
        const int channels = im.channels();
        cv::Mat pixels = cv::imread(image.string(), channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
        if (pixels.empty()) {
          return error(StatusCode::kInvalidArgument, fmt::format("{}: not an image OpenCV can decode", image.string()));
        }
        if (pixels.cols != im.width || pixels.rows != im.height) {
          cv::Mat resized;
          cv::resize(pixels, resized, cv::Size(im.width, im.height), 0, 0, cv::INTER_LINEAR);
          pixels = resized;
        }
        if (im.color == "rgb") cv::cvtColor(pixels, pixels, cv::COLOR_BGR2RGB);
        Tensor t;
        t.shape = {1, channels, im.height, im.width};
        t.values.resize(t.elements());
        const std::size_t plane = static_cast<std::size_t>(im.width) * static_cast<std::size_t>(im.height);
        for (int c = 0; c < channels; ++c) {
          const double mean = im.mean.empty() ? 0.0 : im.mean[static_cast<std::size_t>(c)];
          const double stdev = im.std.empty() ? 1.0 : im.std[static_cast<std::size_t>(c)];
          for (int y = 0; y < im.height; ++y) {
            const std::uint8_t* row = pixels.ptr<std::uint8_t>(y);
            for (int x = 0; x < im.width; ++x) {
              const double v = (row[x * channels + c] * im.scale - mean) / stdev;
              t.values[static_cast<std::size_t>(c) * plane + static_cast<std::size_t>(y * im.width + x)] =
                  static_cast<float>(v);
            }
          }
        }
        return t;
      },
      fmt::format("{}: image {}", impl_->where, image.string()));
}

Result<Tensor> OnnxModel::predict_image(const std::filesystem::path& image) const {
  auto input = image_tensor(image);
  if (!input) return input;
  return run(*input);
}

Result<std::vector<float>> predict_rows(const OnnxModel& model, const Dataset& ds) {
  const ModelManifest& m = model.manifest();
  if (!m.inputs.empty()) {
    if (m.inputs.size() != ds.cols()) {
      return error(StatusCode::kInvalidArgument, fmt::format("model '{}': the dataset has {} feature columns, the manifest's "
                                                             "inputs[] lists {}",
                                                             m.name, ds.cols(), m.inputs.size()));
    }
    for (std::size_t c = 0; c < ds.cols(); ++c) {
      if (ds.feature_names[c] != m.inputs[c].name) {
        return error(StatusCode::kInvalidArgument,
                     fmt::format("model '{}': dataset column {} is '{}' but the manifest's inputs[{}] is '{}'", m.name, c,
                                 ds.feature_names[c], c, m.inputs[c].name));
      }
    }
  }
  if (ds.rows == 0) return error(StatusCode::kInvalidArgument, fmt::format("model '{}': the dataset has no rows", m.name));
  // Batches bound the tensors OpenCV allocates for a large dataset.
  constexpr std::size_t kBatchRows = 4096;
  std::vector<float> out;
  out.reserve(ds.rows);
  for (std::size_t first = 0; first < ds.rows; first += kBatchRows) {
    const std::size_t rows = std::min(kBatchRows, ds.rows - first);
    auto t = model.predict(std::span<const float>(ds.row(first), rows * ds.cols()), rows);
    if (!t) return std::unexpected(t.error());
    const std::size_t per_row = t->values.size() / rows;
    const bool fits = !t->shape.empty() && t->shape[0] == static_cast<std::int64_t>(rows) && t->values.size() == rows * per_row &&
                      (per_row == 1 || (per_row == 2 && m.task == "binary"));
    if (!fits) {
      return error(StatusCode::kInvalidArgument,
                   fmt::format("model '{}': output shape {} for {} rows; expected [{}, 1]{}", m.name, shape_text(t->shape),
                               rows, rows, m.task == "binary" ? fmt::format(" or [{}, 2]", rows) : ""));
    }
    for (std::size_t r = 0; r < rows; ++r) out.push_back(t->values[r * per_row + per_row - 1]);
  }
  return out;
}

}  // namespace resonance::models
