#include "resonance/models/manifest.h"

#include <fmt/format.h>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "resonance/models/dataset.h"
#include "resonance/models/transform.h"

namespace resonance::models {

namespace {

using nlohmann::ordered_json;
using nlohmann::json;

constexpr std::string_view kBackends[] = {"xgboost", "onnx", "ewma", "cusum", "linear_trend", "threshold"};

// Reads a typed field; the error names the JSON path.
template <typename T>
Status get(const json& object, const char* key, std::string_view path, T& out, bool required = true) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return {};
    return {StatusCode::kInvalidArgument, fmt::format("{}.{}: missing", path, key)};
  }
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return {StatusCode::kInvalidArgument, fmt::format("{}.{}: wrong type ({})", path, key, it->type_name())};
  }
  return {};
}

Result<ManifestImage> parse_image(const json& e, const std::string& path) {
  if (!e.is_object()) return error(StatusCode::kInvalidArgument, path + ": not an object");
  ManifestImage im;
  for (Status s : {get(e, "width", path, im.width), get(e, "height", path, im.height), get(e, "color", path, im.color, false),
                   get(e, "scale", path, im.scale, false), get(e, "mean", path, im.mean, false),
                   get(e, "std", path, im.std, false)}) {
    if (!s) return std::unexpected(s);
  }
  if (im.width <= 0 || im.height <= 0) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}: width and height must be > 0 (found {} × {})", path, im.width, im.height));
  }
  if (im.color != "gray" && im.color != "bgr" && im.color != "rgb") {
    return error(StatusCode::kInvalidArgument, fmt::format("{}.color: '{}' is not gray, bgr or rgb", path, im.color));
  }
  const auto channels = static_cast<std::size_t>(im.channels());
  for (auto [key, values] : {std::pair{"mean", &im.mean}, {"std", &im.std}}) {
    if (!values->empty() && values->size() != channels) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}.{}: {} values for {} channel(s) of color '{}'", path, key,
                                                             values->size(), channels, im.color));
    }
  }
  if (std::any_of(im.std.begin(), im.std.end(), [](double v) { return v == 0; })) {
    return error(StatusCode::kInvalidArgument, path + ".std: a value is 0");
  }
  return im;
}

Result<ManifestOnnx> parse_onnx(const json& e, const std::string& path) {
  if (!e.is_object()) return error(StatusCode::kInvalidArgument, path + ": not an object");
  ManifestOnnx onnx;
  for (Status s : {get(e, "file", path, onnx.file), get(e, "input_shape", path, onnx.input_shape)}) {
    if (!s) return std::unexpected(s);
  }
  if (onnx.input_shape.empty()) return error(StatusCode::kInvalidArgument, path + ".input_shape: empty");
  for (std::size_t k = 0; k < onnx.input_shape.size(); ++k) {
    if (onnx.input_shape[k] == 0 || onnx.input_shape[k] < -1) {
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}.input_shape[{}]: {} (a size > 0, or -1 for any)", path, k, onnx.input_shape[k]));
    }
  }
  if (const auto im = e.find("image"); im != e.end()) {
    auto image = parse_image(*im, path + ".image");
    if (!image) return std::unexpected(image.error());
    onnx.image = std::move(*image);
  }
  return onnx;
}

Result<ManifestTransform> parse_transform(const json& e, const std::string& path) {
  if (!e.is_object()) return error(StatusCode::kInvalidArgument, path + ": not an object");
  ManifestTransform mt;
  if (Status s = get(e, "sha256", path, mt.sha256); !s) return std::unexpected(s);
  const auto spec = e.find("spec");
  if (spec == e.end()) return error(StatusCode::kInvalidArgument, path + ".spec: missing");
  auto t = Transform::parse(spec->dump(), path + ".spec");
  if (!t) return std::unexpected(t.error());
  if (t->sha256() != mt.sha256)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}.sha256: {} does not match the spec (its canonical form hashes to {})", path,
                             mt.sha256, t->sha256()));
  mt.spec_json = t->canonical_json();
  const auto signals = e.find("signals");
  if (signals != e.end()) {
    if (!signals->is_array()) return error(StatusCode::kInvalidArgument, path + ".signals: not an array");
    for (std::size_t k = 0; k < signals->size(); ++k) {
      const auto& s = (*signals)[k];
      const std::string at = fmt::format("{}.signals[{}]", path, k);
      if (!s.is_object()) return error(StatusCode::kInvalidArgument, at + ": not an object");
      ManifestSignal sig;
      for (Status st : {get(s, "input", at, sig.input), get(s, "category", at, sig.category),
                        get(s, "signal", at, sig.signal)})
        if (!st) return std::unexpected(st);
      const auto& inputs = t->spec().inputs;
      if (std::ranges::find(inputs, sig.input, &TransformInput::name) == inputs.end())
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}.input: '{}' is not an input of the transform", at, sig.input));
      if (std::ranges::find(mt.signals, sig.input, &ManifestSignal::input) != mt.signals.end())
        return error(StatusCode::kInvalidArgument, fmt::format("{}.input: '{}' is mapped twice", at, sig.input));
      mt.signals.push_back(std::move(sig));
    }
  }
  return mt;
}

}  // namespace

std::string ModelManifest::to_json() const {
  ordered_json j;
  j["manifest_version"] = manifest_version;
  j["name"] = name;
  j["version"] = version;
  j["interface"] = interface_id;
  j["backend"] = backend;
  j["task"] = task;
  j["inputs"] = ordered_json::array();
  for (const auto& i : inputs) {
    j["inputs"].push_back({{"name", i.name}, {"category", i.category}, {"signal", i.signal},
                           {"window_s", i.window_s}, {"step_s", i.step_s}, {"feature", i.feature}});
  }
  j["outputs"] = ordered_json::array();
  for (const auto& o : outputs) j["outputs"].push_back({{"name", o.name}, {"type", infomodel::to_string(o.type)}});
  j["files"] = ordered_json::array();
  for (const auto& f : files) j["files"].push_back({{"path", f.path}, {"sha256", f.sha256}});
  if (onnx) {
    ordered_json o;
    o["file"] = onnx->file;
    o["input_shape"] = onnx->input_shape;
    if (onnx->image) {
      const auto& im = *onnx->image;
      o["image"] = {{"width", im.width}, {"height", im.height}, {"color", im.color}, {"scale", im.scale},
                    {"mean", im.mean}, {"std", im.std}};
    }
    j["onnx"] = std::move(o);
  }
  if (transform) {
    ordered_json t;
    t["sha256"] = transform->sha256;
    t["spec"] = ordered_json::parse(transform->spec_json);
    t["signals"] = ordered_json::array();
    for (const auto& s : transform->signals)
      t["signals"].push_back({{"input", s.input}, {"category", s.category}, {"signal", s.signal}});
    j["transform"] = std::move(t);
  }
  j["lineage"] = {{"dataset_id", dataset_id},
                  {"params", ordered_json::parse(params_json)},
                  {"code_version", code_version},
                  {"metrics", ordered_json::parse(metrics_json)}};
  return j.dump(2) + "\n";
}

Result<ModelManifest> parse_manifest(std::string_view text, std::string_view source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}: not a JSON object", source));
  }
  ModelManifest m;
  const std::string root(source);
  auto fail = [](Status s) { return std::unexpected<Status>(std::move(s)); };
  if (Status s = get(j, "manifest_version", root, m.manifest_version); !s) return fail(s);
  if (m.manifest_version != 1) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}.manifest_version: {} (this build reads 1)", source, m.manifest_version));
  }
  for (auto [key, field] : {std::pair{"name", &m.name}, {"version", &m.version}, {"interface", &m.interface_id},
                            {"backend", &m.backend}, {"task", &m.task}}) {
    if (Status s = get(j, key, root, *field); !s) return fail(s);
  }
  auto array = [&](const char* key) -> Result<const json*> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_array()) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}.{}: missing or not an array", source, key));
    }
    return &*it;
  };
  auto inputs = array("inputs");
  if (!inputs) return fail(inputs.error());
  for (std::size_t k = 0; k < (*inputs)->size(); ++k) {
    const auto& e = (**inputs)[k];
    const std::string path = fmt::format("{}.inputs[{}]", source, k);
    if (!e.is_object()) return error(StatusCode::kInvalidArgument, path + ": not an object");
    ManifestInput in;
    for (Status s : {get(e, "name", path, in.name), get(e, "category", path, in.category), get(e, "signal", path, in.signal),
                     get(e, "window_s", path, in.window_s, false), get(e, "step_s", path, in.step_s, false),
                     get(e, "feature", path, in.feature, false)}) {
      if (!s) return fail(s);
    }
    if (in.window_s < 0 || in.step_s < 0) return error(StatusCode::kInvalidArgument, path + ": window_s and step_s must be >= 0");
    m.inputs.push_back(std::move(in));
  }
  auto outputs = array("outputs");
  if (!outputs) return fail(outputs.error());
  for (std::size_t k = 0; k < (*outputs)->size(); ++k) {
    const auto& e = (**outputs)[k];
    const std::string path = fmt::format("{}.outputs[{}]", source, k);
    if (!e.is_object()) return error(StatusCode::kInvalidArgument, path + ": not an object");
    ManifestOutput out;
    std::string type;
    if (Status s = get(e, "name", path, out.name); !s) return fail(s);
    if (Status s = get(e, "type", path, type); !s) return fail(s);
    const auto parsed = infomodel::parse_data_type(type);
    if (!parsed) return error(StatusCode::kInvalidArgument, fmt::format("{}.type: unknown type '{}'", path, type));
    out.type = *parsed;
    m.outputs.push_back(std::move(out));
  }
  auto files = array("files");
  if (!files) return fail(files.error());
  for (std::size_t k = 0; k < (*files)->size(); ++k) {
    const auto& e = (**files)[k];
    const std::string path = fmt::format("{}.files[{}]", source, k);
    if (!e.is_object()) return error(StatusCode::kInvalidArgument, path + ": not an object");
    ManifestFile f;
    if (Status s = get(e, "path", path, f.path); !s) return fail(s);
    if (Status s = get(e, "sha256", path, f.sha256); !s) return fail(s);
    if (f.path.empty() || f.path.front() == '/' || f.path.find("..") != std::string::npos) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}.path: '{}' must be relative, without '..'", path, f.path));
    }
    if (f.sha256.size() != 64 || f.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}.sha256: not 64 lower-case hex digits", path));
    }
    m.files.push_back(std::move(f));
  }
  if (const auto o = j.find("onnx"); o != j.end()) {
    auto onnx = parse_onnx(*o, root + ".onnx");
    if (!onnx) return fail(onnx.error());
    m.onnx = std::move(*onnx);
  }
  if (const auto t = j.find("transform"); t != j.end()) {
    auto transform = parse_transform(*t, root + ".transform");
    if (!transform) return fail(transform.error());
    m.transform = std::move(*transform);
  }
  const auto lineage = j.find("lineage");
  if (lineage == j.end() || !lineage->is_object()) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}.lineage: missing or not an object", source));
  }
  const std::string lpath = root + ".lineage";
  if (Status s = get(*lineage, "dataset_id", lpath, m.dataset_id); !s) return fail(s);
  if (Status s = get(*lineage, "code_version", lpath, m.code_version); !s) return fail(s);
  if (const auto p = lineage->find("params"); p != lineage->end()) m.params_json = p->dump();
  if (const auto p = lineage->find("metrics"); p != lineage->end()) m.metrics_json = p->dump();
  return m;
}

namespace {

// The ONNX section against the rest of the manifest: the network is a listed (hashed) file, and
// the input shape agrees with the image size or with the number of feature inputs.
void validate_onnx(const ModelManifest& m, std::string_view source, std::vector<std::string>& problems) {
  if (!m.onnx) {
    problems.push_back(fmt::format("{}: backend 'onnx' needs an \"onnx\" section (file, input_shape)", source));
    return;
  }
  const auto& o = *m.onnx;
  if (std::none_of(m.files.begin(), m.files.end(), [&](const ManifestFile& f) { return f.path == o.file; })) {
    problems.push_back(fmt::format("{}: onnx.file '{}' is not one of files[] (it must be hashed)", source, o.file));
  }
  const auto& shape = o.input_shape;
  if (o.image) {
    const auto& im = *o.image;
    const std::vector<std::int64_t> want{im.channels(), im.height, im.width};
    if (shape.size() != 4 || !std::equal(want.begin(), want.end(), shape.begin() + 1)) {
      problems.push_back(fmt::format("{}: onnx.input_shape [{}] does not fit the image: expected [N, {}, {}, {}] "
                                     "(N × channels of '{}' × height × width)",
                                     source, fmt::join(shape, ", "), im.channels(), im.height, im.width, im.color));
    }
    return;
  }
  std::int64_t per_row = 1;
  for (std::size_t k = 1; k < shape.size(); ++k) per_row = shape[k] < 0 ? -1 : per_row * shape[k];
  if (shape.size() < 2 || per_row < 0) {
    problems.push_back(fmt::format("{}: onnx.input_shape [{}]: a feature model takes [N, features…] with fixed sizes after N",
                                   source, fmt::join(shape, ", ")));
  } else if (!m.inputs.empty() && per_row != static_cast<std::int64_t>(m.inputs.size())) {
    problems.push_back(fmt::format("{}: onnx.input_shape [{}] takes {} values per row but inputs[] lists {}", source,
                                   fmt::join(shape, ", "), per_row, m.inputs.size()));
  }
}

}  // namespace

Status validate_manifest(const ModelManifest& m, const infomodel::Model& model, std::string_view source) {
  std::vector<std::string> problems;
  if (std::find(std::begin(kBackends), std::end(kBackends), m.backend) == std::end(kBackends)) {
    problems.push_back(fmt::format("{}: backend '{}' is not one of xgboost, onnx, ewma, cusum, linear_trend, threshold",
                                   source, m.backend));
  }
  const auto* contract = model.find_ai_interface(m.interface_id);
  if (contract == nullptr) {
    std::vector<std::string> ids;
    for (const auto& i : model.ai_interfaces) ids.push_back(i.id);
    problems.push_back(fmt::format("{}: interface '{}' is not in the information model (interfaces: {})", source,
                                   m.interface_id, fmt::join(ids, ", ")));
  } else {
    if (m.outputs.empty()) problems.push_back(fmt::format("{}: no outputs", source));
    for (std::size_t k = 0; k < m.outputs.size(); ++k) {
      const auto& out = m.outputs[k];
      const infomodel::AiOutput* match = nullptr;
      std::vector<std::string> names;
      for (const auto& o : contract->outputs) {
        names.push_back(o.name);
        if (o.name == out.name) match = &o;
      }
      if (match == nullptr) {
        problems.push_back(fmt::format("{}: outputs[{}] '{}': interface '{}' has no such output (outputs: {})", source, k,
                                       out.name, m.interface_id, fmt::join(names, ", ")));
      } else if (match->type != out.type) {
        problems.push_back(fmt::format("{}: outputs[{}] '{}': type {} but the contract says {}", source, k, out.name,
                                       infomodel::to_string(out.type), infomodel::to_string(match->type)));
      }
    }
    std::optional<Transform> transform;
    if (m.transform) {
      auto t = Transform::parse(m.transform->spec_json, fmt::format("{}: transform.spec", source));
      if (t) transform = std::move(*t);
      else problems.push_back(t.error().message());
    }
    // A derived input is read through the transform: its signals are the transform's, checked
    // below with the longest window the transform reads each over.
    for (std::size_t k = 0; transform && k < m.inputs.size(); ++k) {
      if (m.inputs[k].feature != "derived") continue;
      if (std::ranges::find(transform->spec().columns, m.inputs[k].name) == transform->spec().columns.end())
        problems.push_back(fmt::format("{}: inputs[{}] '{}': derived, but the transform has no such column (columns: {})",
                                       source, k, m.inputs[k].name, fmt::join(transform->spec().columns, ", ")));
    }
    // (where, input): inputs[k], or a transform signal with the longest window it is read over.
    std::vector<std::pair<std::string, ManifestInput>> checked;
    for (std::size_t k = 0; k < m.inputs.size(); ++k)
      if (!transform || m.inputs[k].feature != "derived") checked.emplace_back(fmt::format("inputs[{}]", k), m.inputs[k]);
    if (transform)
      for (std::size_t k = 0; k < m.transform->signals.size(); ++k) {
        const auto& s = m.transform->signals[k];
        const auto& inputs = transform->spec().inputs;
        const auto at = static_cast<std::size_t>(std::ranges::find(inputs, s.input, &TransformInput::name) - inputs.begin());
        const double window_s =
            at < inputs.size() ? static_cast<double>(transform->input_windows_ns()[at]) / 1e9 : 0.0;
        checked.emplace_back(fmt::format("transform.signals[{}]", k),
                             ManifestInput{s.input, s.category, s.signal, window_s, 0, "last"});
      }
    for (const auto& [where, in] : checked) {
      const infomodel::AiInput* match = nullptr;
      for (const auto& c : contract->inputs) {
        if ((c.category == "*" || c.category == in.category) && (c.signal == "*" || c.signal == in.signal)) {
          match = &c;
          break;
        }
      }
      if (match == nullptr) {
        problems.push_back(fmt::format("{}: {} '{}': signal {}/{} is not an input of interface '{}'", source, where,
                                       in.name, in.category, in.signal, m.interface_id));
      } else if (match->window_s > 0 && in.window_s > match->window_s) {
        problems.push_back(fmt::format("{}: {} '{}': window {} s exceeds the contract's {} s", source, where, in.name,
                                       in.window_s, match->window_s));
      }
      // A contract input "*" admits any category: the signal must still be one the model has,
      // or the node could never bind it (a category an overlay adds needs that overlay). "*" is
      // a generic model's placeholder, refused only at deployment.
      if (in.category.empty() || in.category == "*") continue;
      const auto* category = model.find_category(in.category);
      if (category == nullptr) {
        std::vector<std::string> ids;
        for (const auto& c : model.categories) ids.push_back(c.id);
        problems.push_back(fmt::format("{}: {} '{}': category '{}' is not in the information model (categories: {})",
                                       source, where, in.name, in.category, fmt::join(ids, ", ")));
      } else if (!in.signal.empty() && in.signal != "*" && category->find_signal(in.signal) == nullptr) {
        problems.push_back(fmt::format("{}: {} '{}': category '{}' has no signal '{}'", source, where, in.name,
                                       in.category, in.signal));
      }
    }
  }
  // A trained model carries its files and the dataset it learnt from; a statistical backend is
  // configured by lineage.params alone, so it may have neither (a dataset it names must be an id).
  const bool trained = m.backend != "ewma" && m.backend != "cusum" && m.backend != "linear_trend" && m.backend != "threshold";
  if (trained && m.files.empty()) problems.push_back(fmt::format("{}: no files", source));
  if (m.backend == "onnx") validate_onnx(m, source, problems);
  if ((trained || !m.dataset_id.empty()) && m.dataset_id.size() != 64)
    problems.push_back(fmt::format("{}: lineage.dataset_id is not a dataset id", source));
  if (problems.empty()) return {};
  return {StatusCode::kInvalidArgument, fmt::format("{}", fmt::join(problems, "\n"))};
}

Status verify_manifest_files(const ModelManifest& m, const std::filesystem::path& dir) {
  for (const auto& f : m.files) {
    auto bytes = read_file_bytes(dir / f.path);
    if (!bytes) return bytes.error();
    if (sha256_hex(*bytes) != f.sha256) {
      return {StatusCode::kCorruption, fmt::format("{}: sha256 differs from the manifest", (dir / f.path).string())};
    }
  }
  return {};
}

}  // namespace resonance::models
