#pragma once
// The ONNX backend: a neural network named in a model manifest (backend "onnx", its "onnx"
// section: docs/formats/model-manifest.md), run through OpenCV DNN on rows of float features or
// on images. OpenCV stays behind this header (it is included in src/models/onnx_model.cc only);
// every OpenCV exception is caught there and comes back as a Status naming the model file.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/models/dataset.h"
#include "resonance/models/manifest.h"

namespace resonance::models {

// A dense float tensor, row-major (the last dimension varies fastest).
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
  std::size_t elements() const;  // product of shape; 0 for an empty shape
};

// "[2, 3, 7, 5]"
std::string shape_text(std::span<const std::int64_t> shape);

// Reads a serialised ONNX TensorProto (the input_N.pb / output_N.pb files of ONNX test data sets)
// as floats.
Result<Tensor> read_onnx_tensor(const std::filesystem::path& file);

class OnnxModel {
 public:
  // Checks the manifest's "onnx" section, re-hashes every listed file under `dir` against the
  // manifest and parses the network from the very bytes that were hashed (no second read the
  // file could change in between).
  static Result<std::unique_ptr<OnnxModel>> load(const ModelManifest& manifest, const std::filesystem::path& dir);
  ~OnnxModel();
  OnnxModel(const OnnxModel&) = delete;
  OnnxModel& operator=(const OnnxModel&) = delete;

  // Runs the network on one input tensor and returns its (first) output. The shape must match the
  // manifest's input_shape, -1 dimensions taking any size; the error names both shapes.
  // Thread-safe: calls are serialised (an OpenCV Net is not safe to share between threads).
  Result<Tensor> run(const Tensor& input) const;

  // `rows` rows of features, row-major (features.size() == rows × the values per row that
  // input_shape implies); returns the output with its first dimension = rows.
  Result<Tensor> predict(std::span<const float> features, std::size_t rows) const;

  // Decodes an image file (PNG, JPEG, BMP, PPM, … as OpenCV reads them), preprocesses it as the
  // manifest's onnx.image says and runs the network on the 1 × C × H × W tensor.
  Result<Tensor> predict_image(const std::filesystem::path& image) const;
  // The preprocessing alone, for checks and tests.
  Result<Tensor> image_tensor(const std::filesystem::path& image) const;

  const ModelManifest& manifest() const;

 private:
  struct Impl;
  explicit OnnxModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One prediction per dataset row, for evaluating a model on a dataset. The dataset's feature
// columns must be the manifest's inputs, same names in the same order (the error names the first
// column that differs). The output per row is one value ([rows, 1] or [rows]); for task "binary"
// an output of [rows, 2] (class scores) gives column 1, the probability of class 1.
Result<std::vector<float>> predict_rows(const OnnxModel& model, const Dataset& dataset);

}  // namespace resonance::models
