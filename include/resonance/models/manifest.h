#pragma once
// The model manifest (docs/formats/model-manifest.md): which AI-model interface contract of the
// information model a model implements, its typed inputs and outputs, backend, files with
// sha256, version and training lineage. Validation against the contract says exactly what does
// not match.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/infomodel/model.h"

namespace resonance::models {

struct ManifestInput {
  std::string name;      // the model's feature name, e.g. "s2_slope"
  std::string category;  // information-model category of the signal, e.g. "cnc"
  std::string signal;    // signal name in that category, e.g. "spindle_load"
  double window_s = 0;   // history used; 0 = the latest value
  double step_s = 0;     // how often a window is evaluated; 0 = on every sample
  std::string feature;   // last | mean | std | slope | value | derived
};

struct ManifestOutput {
  std::string name;  // an output of the interface contract
  infomodel::DataType type = infomodel::DataType::kDouble;
};

struct ManifestFile {
  std::string path;    // relative to the manifest's directory
  std::string sha256;
};

// How an image becomes the input tensor of an image model (backend "onnx"): decoded, resized to
// width × height (bilinear), channels ordered as `color`, then (pixel × scale − mean[c]) / std[c],
// laid out N × C × H × W.
struct ManifestImage {
  int width = 0, height = 0;
  std::string color = "bgr";  // gray | bgr | rgb
  double scale = 1.0;         // applied to the 0..255 pixel first
  std::vector<double> mean;   // one per channel; empty = 0
  std::vector<double> std;    // one per channel; empty = 1
  int channels() const { return color == "gray" ? 1 : 3; }
};

// The ONNX section (backend "onnx"): which listed file is the network and the input tensor shape
// it takes. A dimension of -1 takes any size (the batch). Without `image`, the input is rows of
// features: the product of the shape's other dimensions is the number of inputs.
struct ManifestOnnx {
  std::string file;                       // one of files[].path
  std::vector<std::int64_t> input_shape;  // e.g. [-1, 10] or [1, 3, 224, 224]
  std::optional<ManifestImage> image;
};

// A raw input of the transform mapped to the live signal it is read from.
struct ManifestSignal {
  std::string input;     // a raw input of transform.spec (a column of the imported file)
  std::string category;  // e.g. "cnc"
  std::string signal;    // e.g. "spindle_load"
};

// How the derived inputs are computed (transform.h, docs/formats/transform.md): the transform the
// training dataset recorded in its lineage, copied by `resonance model train`, and which signal
// each of its raw inputs is read from live (`model train --map COLUMN=CATEGORY/SIGNAL`).
struct ManifestTransform {
  std::string spec_json;  // the canonical transform (Transform::canonical_json)
  std::string sha256;     // of spec_json; the dataset's lineage records the same
  std::vector<ManifestSignal> signals;  // in the transform's input order; may be incomplete (then not live)
};

struct ModelManifest {
  std::int64_t manifest_version = 1;
  std::string name;
  std::string version;
  std::string interface_id;
  std::string backend;  // xgboost | onnx | ewma | cusum | linear_trend | threshold
  std::string task;     // regression | binary
  std::vector<ManifestInput> inputs;
  std::vector<ManifestOutput> outputs;
  std::vector<ManifestFile> files;
  std::optional<ManifestOnnx> onnx;  // backend "onnx" only
  std::optional<ManifestTransform> transform;  // derived inputs: how they are computed
  // Training lineage.
  std::string dataset_id;
  std::string params_json = "{}";
  std::string code_version;
  std::string metrics_json = "{}";

  std::string to_json() const;  // pretty-printed, keys in a fixed order
};

// Parses a manifest; errors name the source and the JSON field ("m.json: inputs[2].window_s: …").
Result<ModelManifest> parse_manifest(std::string_view json, std::string_view source);

// Checks the manifest against its interface contract: the interface exists, every output is one
// of the contract's outputs with the same type, every input's signal is one the contract takes
// (with "*" matching any), and no window is longer than the contract allows. All problems are
// listed, one per line.
Status validate_manifest(const ModelManifest& manifest, const infomodel::Model& model, std::string_view source);

// Checks every listed file exists under `dir` and has the recorded sha256.
Status verify_manifest_files(const ModelManifest& manifest, const std::filesystem::path& dir);

}  // namespace resonance::models
