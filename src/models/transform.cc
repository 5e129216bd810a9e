// Column transforms (transform.h, docs/formats/transform.md): parsing with precise errors, the
// canonical form and its hash, and the one evaluation offline and live share.

#include "resonance/models/transform.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

namespace resonance::models {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kLineageTag = "transform_v1 sha256=";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr std::string_view kOps[] = {"sum", "difference", "product", "ratio", "min",
                                     "max", "linear", "lookup", "window"};

Status fail(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }

// Unknown keys are refused so that a misspelt field ("arg", "windows_s") is not silently ignored.
Status only_keys(const json& object, std::initializer_list<std::string_view> keys, const std::string& path) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return fail(fmt::format("{}: unknown key '{}' (keys: {})", path, key, fmt::join(keys, ", ")));
  }
  return {};
}

Result<std::string> string_field(const json& object, const char* key, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end()) return error(StatusCode::kInvalidArgument, fmt::format("{}.{}: missing", path, key));
  if (!it->is_string() || it->get<std::string>().empty())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}.{}: expected a non-empty string, found {}", path, key, it->dump()));
  return it->get<std::string>();
}

Result<double> number_field(const json& object, const char* key, const std::string& path, double fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_number() || !std::isfinite(it->get<double>()))
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}.{}: expected a finite number, found {}", path, key, it->dump()));
  return it->get<double>();
}

// {"label": number, …} sorted by label.
Result<std::vector<std::pair<std::string, double>>> label_map(const json& object, const std::string& path) {
  if (!object.is_object() || object.empty())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: expected an object of label: number, found {}", path, object.dump()));
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [label, value] : object.items()) {
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}.{}: expected a finite number, found {}", path, label, value.dump()));
    out.emplace_back(label, value.get<double>());
  }
  std::ranges::sort(out);
  return out;
}

std::string labels_of(const std::vector<std::pair<std::string, double>>& map) {
  std::string out;
  for (const auto& [label, value] : map) out += fmt::format("{}{}", out.empty() ? "" : ", ", label);
  return out;
}

// Causes, kept per node while evaluating; the text is built only for a row that is reported.
enum Cause : std::uint8_t { kFine, kEmptyWindow, kDivisionByZero, kUnknownCode, kNotFinite, kFromArgument };

}  // namespace

std::string TransformGap::message() const {
  return step.empty() ? fmt::format("column '{}': {}", column, cause)
                      : fmt::format("column '{}': '{}': {}", column, step, cause);
}

Result<Transform> Transform::parse(std::string_view text, std::string_view source) {
  const json j = json::parse(text, nullptr, false);
  const std::string root(source);
  if (j.is_discarded() || !j.is_object())
    return error(StatusCode::kInvalidArgument, fmt::format("{}: not a JSON object", source));
  if (Status s = only_keys(j, {"transform_version", "inputs", "define", "columns", "time", "group"}, root); !s)
    return error(s);
  Transform t;
  TransformSpec& spec = t.spec_;
  const auto version = j.find("transform_version");
  if (version == j.end() || !version->is_number_integer() || version->get<std::int64_t>() != 1)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}.transform_version: {} (this build reads 1)", source,
                             version == j.end() ? "missing" : version->dump()));

  std::map<std::string, int, std::less<>> index;  // name → node
  auto declare = [&](const std::string& name, const std::string& path) -> Status {
    if (!index.emplace(name, static_cast<int>(index.size())).second)
      return fail(fmt::format("{}: '{}' is already an input or a definition", path, name));
    return {};
  };

  const auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array() || inputs->empty())
    return error(StatusCode::kInvalidArgument, fmt::format("{}.inputs: missing or not a non-empty array", source));
  for (std::size_t k = 0; k < inputs->size(); ++k) {
    const auto& e = (*inputs)[k];
    const std::string path = fmt::format("{}.inputs[{}]", source, k);
    TransformInput in;
    if (e.is_string()) {
      in.name = e.get<std::string>();
    } else if (e.is_object()) {
      if (Status s = only_keys(e, {"name", "type", "codes"}, path); !s) return error(s);
      auto name = string_field(e, "name", path);
      if (!name) return error(name.error());
      in.name = *name;
      std::string type = "number";
      if (e.contains("type")) {
        auto given = string_field(e, "type", path);  // a non-string type is an error, not an exception
        if (!given) return error(given.error());
        type = std::move(*given);
      }
      if (type != "number" && type != "code")
        return error(StatusCode::kInvalidArgument, fmt::format("{}.type: '{}' (number or code)", path, type));
      in.is_code = type == "code";
      const auto codes = e.find("codes");
      if (in.is_code != (codes != e.end()))
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{} '{}': a code input has \"codes\" ({{\"H\": 0, …}}), a number input none", path,
                                 in.name));
      if (in.is_code) {
        auto map = label_map(*codes, path + ".codes");
        if (!map) return error(map.error());
        in.codes = std::move(*map);
      }
    } else {
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: expected a column name or {{\"name\": …}}, found {}", path, e.dump()));
    }
    if (in.name.empty()) return error(StatusCode::kInvalidArgument, path + ": empty name");
    if (Status s = declare(in.name, path); !s) return error(s);
    spec.inputs.push_back(std::move(in));
  }

  const auto define = j.find("define");
  if (define != j.end() && !define->is_array())
    return error(StatusCode::kInvalidArgument, fmt::format("{}.define: not an array", source));
  const json no_steps = json::array();
  const json& steps = define == j.end() ? no_steps : *define;
  std::vector<std::string> step_paths;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const auto& e = steps[k];
    std::string path = fmt::format("{}.define[{}]", source, k);
    if (!e.is_object()) return error(StatusCode::kInvalidArgument, path + ": not an object");
    TransformStep step;
    auto name = string_field(e, "name", path);
    if (!name) return error(name.error());
    step.name = *name;
    path += fmt::format(" '{}'", step.name);
    auto op = string_field(e, "op", path);
    if (!op) return error(op.error());
    step.op = *op;
    if (std::ranges::find(kOps, step.op) == std::end(kOps))
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}.op: '{}' is not an operation ({})", path, step.op, fmt::join(kOps, ", ")));
    Status keys;
    if (step.op == "linear") keys = only_keys(e, {"name", "op", "args", "scale", "offset"}, path);
    else if (step.op == "lookup") keys = only_keys(e, {"name", "op", "args", "table"}, path);
    else if (step.op == "window") keys = only_keys(e, {"name", "op", "args", "feature", "window_s"}, path);
    else keys = only_keys(e, {"name", "op", "args"}, path);
    if (!keys) return error(keys);
    const auto args = e.find("args");
    if (args == e.end() || !args->is_array())
      return error(StatusCode::kInvalidArgument, fmt::format("{}.args: missing or not an array", path));
    for (std::size_t a = 0; a < args->size(); ++a) {
      const auto& arg = (*args)[a];
      if (arg.is_string() && !arg.get<std::string>().empty()) step.args.push_back({arg.get<std::string>(), 0});
      else if (arg.is_number() && std::isfinite(arg.get<double>())) step.args.push_back({"", arg.get<double>()});
      else
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}.args[{}]: expected an input or definition name or a finite number, found {}",
                                 path, a, arg.dump()));
    }
    const std::size_t n = step.args.size();
    const bool nary = step.op == "sum" || step.op == "product" || step.op == "min" || step.op == "max";
    const bool binary = step.op == "difference" || step.op == "ratio";
    if ((nary && n < 2) || (binary && n != 2) || (!nary && !binary && n != 1))
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}.args: {} takes {}, found {}", path, step.op,
                               nary ? "two or more arguments" : binary ? "two arguments" : "one argument", n));
    if (step.op == "linear") {
      auto scale = number_field(e, "scale", path, 1.0);
      if (!scale) return error(scale.error());
      auto offset = number_field(e, "offset", path, 0.0);
      if (!offset) return error(offset.error());
      step.scale = *scale;
      step.offset = *offset;
    } else if (step.op == "lookup") {
      const auto table = e.find("table");
      if (table == e.end()) return error(StatusCode::kInvalidArgument, fmt::format("{}.table: missing", path));
      auto map = label_map(*table, path + ".table");
      if (!map) return error(map.error());
      step.table = std::move(*map);
    } else if (step.op == "window") {
      auto feature = string_field(e, "feature", path);
      if (!feature) return error(feature.error());
      if (!is_window_feature(*feature))
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}.feature: '{}' is not a window feature (last, value, mean, std, slope, min, max)",
                                 path, *feature));
      step.feature = *feature;
      auto window = number_field(e, "window_s", path, -1);
      if (!window) return error(window.error());
      if (*window < 0)
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}.window_s: missing or negative (seconds; 0 = the newest sample)", path));
      step.window_s = *window;
    }
    if (Status s = declare(step.name, path); !s) return error(s);
    spec.define.push_back(std::move(step));
    step_paths.push_back(std::move(path));
  }

  if (const auto time = j.find("time"); time != j.end()) {
    const std::string path = root + ".time";
    if (!time->is_object()) return error(StatusCode::kInvalidArgument, path + ": expected {\"column\": …, \"unit_s\": …}");
    if (Status s = only_keys(*time, {"column", "unit_s"}, path); !s) return error(s);
    auto column = string_field(*time, "column", path);
    if (!column) return error(column.error());
    auto unit = number_field(*time, "unit_s", path, 1.0);
    if (!unit) return error(unit.error());
    if (*unit <= 0) return error(StatusCode::kInvalidArgument, fmt::format("{}.unit_s: {} (> 0)", path, *unit));
    spec.time_column = *column;
    spec.time_unit_s = *unit;
  }
  if (const auto group = j.find("group"); group != j.end()) {
    if (!group->is_string() || group->get<std::string>().empty())
      return error(StatusCode::kInvalidArgument, fmt::format("{}.group: expected a column name", source));
    spec.group_column = group->get<std::string>();
  }

  // Resolve names and check types: a code only feeds a lookup, a window reads a number input.
  const int n_inputs = static_cast<int>(spec.inputs.size());
  t.nodes_.resize(index.size());
  auto known = [&] {
    std::vector<std::string> names;
    for (const auto& in : spec.inputs) names.push_back(in.name);
    for (const auto& s : spec.define) names.push_back(s.name);
    return fmt::format("{}", fmt::join(names, ", "));
  };
  t.input_window_ns_.assign(spec.inputs.size(), 0);
  for (std::size_t k = 0; k < spec.define.size(); ++k) {
    const TransformStep& step = spec.define[k];
    const std::string& path = step_paths[k];
    auto& node = t.nodes_[static_cast<std::size_t>(n_inputs) + k];
    for (std::size_t a = 0; a < step.args.size(); ++a) {
      const auto& arg = step.args[a];
      if (arg.name.empty()) {
        if (step.op == "lookup" || step.op == "window")
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}.args[{}]: type mismatch: {} takes a{} input, found the constant {}", path, a,
                                   step.op, step.op == "lookup" ? " code" : " number", arg.constant));
        node.args.push_back(-1);
        continue;
      }
      const auto it = index.find(arg.name);
      if (it == index.end())
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}.args[{}]: no input or definition '{}' (names: {})", path, a, arg.name, known()));
      const int ref = it->second;
      const bool is_input = ref < n_inputs;
      const bool is_code = is_input && spec.inputs[static_cast<std::size_t>(ref)].is_code;
      if (step.op == "lookup") {
        if (!is_code)
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}.args[{}]: type mismatch: lookup takes a code input, '{}' is a number", path, a,
                                   arg.name));
        const auto& codes = spec.inputs[static_cast<std::size_t>(ref)].codes;
        for (const auto& [label, value] : step.table)
          if (std::ranges::find(codes, label, &std::pair<std::string, double>::first) == codes.end())
            return error(StatusCode::kInvalidArgument,
                         fmt::format("{}.table: '{}' is not a code of '{}' (codes: {})", path, label, arg.name,
                                     labels_of(codes)));
        for (const auto& [label, value] : codes)
          if (std::ranges::find(step.table, label, &std::pair<std::string, double>::first) == step.table.end())
            return error(StatusCode::kInvalidArgument,
                         fmt::format("{}.table: no entry for code '{}' of '{}'", path, label, arg.name));
      } else if (is_code) {
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}.args[{}]: type mismatch: '{}' is a code (a category), {} takes numbers (map codes "
                                 "to numbers with lookup)",
                                 path, a, arg.name, step.op));
      } else if (step.op == "window") {
        if (!is_input)
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}.args[{}]: type mismatch: a window reads a raw input's samples, '{}' is a "
                                   "definition",
                                   path, a, arg.name));
        if (spec.time_column.empty())
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}: a window needs the transform's \"time\" ({{\"column\": …}}: the column giving "
                                   "each row's time)",
                                   path));
        auto& w = t.input_window_ns_[static_cast<std::size_t>(ref)];
        w = std::max(w, static_cast<std::int64_t>(std::llround(step.window_s * 1e9)));
      }
      node.args.push_back(ref);
    }
  }

  // Evaluation order: depth-first from every definition; a name met again on the current path is
  // a cycle, named in full.
  std::vector<int> state(index.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<int> path_stack;
  auto name_of = [&](int node) -> const std::string& {
    return node < n_inputs ? spec.inputs[static_cast<std::size_t>(node)].name
                           : spec.define[static_cast<std::size_t>(node - n_inputs)].name;
  };
  std::function<Status(int)> visit = [&](int node) -> Status {
    if (node < n_inputs || state[static_cast<std::size_t>(node)] == 2) return {};
    if (state[static_cast<std::size_t>(node)] == 1) {
      std::string cycle;
      const auto from = std::ranges::find(path_stack, node);
      for (auto it = from; it != path_stack.end(); ++it) cycle += fmt::format("'{}' → ", name_of(*it));
      return fail(fmt::format("{}.define: cycle: {}'{}'", source, cycle, name_of(node)));
    }
    state[static_cast<std::size_t>(node)] = 1;
    path_stack.push_back(node);
    for (int arg : t.nodes_[static_cast<std::size_t>(node)].args)
      if (arg >= 0)
        if (Status s = visit(arg); !s) return s;
    path_stack.pop_back();
    state[static_cast<std::size_t>(node)] = 2;
    t.order_.push_back(node);
    return {};
  };
  for (std::size_t k = 0; k < spec.define.size(); ++k)
    if (Status s = visit(n_inputs + static_cast<int>(k)); !s) return error(s);

  const auto columns = j.find("columns");
  if (columns == j.end() || !columns->is_array() || columns->empty())
    return error(StatusCode::kInvalidArgument, fmt::format("{}.columns: missing or not a non-empty array", source));
  for (std::size_t c = 0; c < columns->size(); ++c) {
    const auto& e = (*columns)[c];
    const std::string path = fmt::format("{}.columns[{}]", source, c);
    if (!e.is_string())
      return error(StatusCode::kInvalidArgument, fmt::format("{}: expected a name, found {}", path, e.dump()));
    const auto name = e.get<std::string>();
    const auto it = index.find(name);
    if (it == index.end())
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: no input or definition '{}' (names: {})", path, name, known()));
    if (std::ranges::find(spec.columns, name) != spec.columns.end())
      return error(StatusCode::kInvalidArgument, fmt::format("{}: '{}' is listed twice", path, name));
    spec.columns.push_back(name);
    t.columns_.push_back(it->second);
  }

  // The canonical form: fixed key order, labels sorted, every input as an object.
  ordered_json c;
  c["transform_version"] = 1;
  c["inputs"] = ordered_json::array();
  for (const auto& in : spec.inputs) {
    ordered_json e{{"name", in.name}, {"type", in.is_code ? "code" : "number"}};
    if (in.is_code) {
      ordered_json codes = ordered_json::object();
      for (const auto& [label, value] : in.codes) codes[label] = value;
      e["codes"] = std::move(codes);
    }
    c["inputs"].push_back(std::move(e));
  }
  c["define"] = ordered_json::array();
  for (const auto& step : spec.define) {
    ordered_json e{{"name", step.name}, {"op", step.op}, {"args", ordered_json::array()}};
    for (const auto& arg : step.args) {
      if (arg.name.empty()) e["args"].push_back(arg.constant);
      else e["args"].push_back(arg.name);
    }
    if (step.op == "linear") {
      e["scale"] = step.scale;
      e["offset"] = step.offset;
    } else if (step.op == "lookup") {
      ordered_json table = ordered_json::object();
      for (const auto& [label, value] : step.table) table[label] = value;
      e["table"] = std::move(table);
    } else if (step.op == "window") {
      e["feature"] = step.feature;
      e["window_s"] = step.window_s;
    }
    c["define"].push_back(std::move(e));
  }
  c["columns"] = spec.columns;
  if (!spec.time_column.empty()) c["time"] = {{"column", spec.time_column}, {"unit_s", spec.time_unit_s}};
  if (!spec.group_column.empty()) c["group"] = spec.group_column;
  t.canonical_ = c.dump();
  t.sha256_ = sha256_hex(t.canonical_);
  return t;
}

bool Transform::uses_windows() const {
  return std::ranges::any_of(spec_.define, [](const TransformStep& s) { return s.op == "window"; });
}

bool Transform::column_is_input(std::size_t c) const {
  return columns_[c] < static_cast<int>(spec_.inputs.size());
}

std::vector<std::string> Transform::column_inputs(std::size_t c) const {
  const int n_inputs = static_cast<int>(spec_.inputs.size());
  std::vector<bool> seen(nodes_.size(), false);
  std::vector<int> todo{columns_[c]};
  while (!todo.empty()) {
    const int node = todo.back();
    todo.pop_back();
    if (seen[static_cast<std::size_t>(node)]) continue;
    seen[static_cast<std::size_t>(node)] = true;
    for (int arg : nodes_[static_cast<std::size_t>(node)].args)
      if (arg >= 0) todo.push_back(arg);
  }
  std::vector<std::string> out;
  for (int k = 0; k < n_inputs; ++k)
    if (seen[static_cast<std::size_t>(k)]) out.push_back(spec_.inputs[static_cast<std::size_t>(k)].name);
  return out;
}

bool Transform::evaluate(std::span<const WindowInput> windows, TimestampNs t, std::span<double> columns,
                         Scratch& scratch, TransformGap* gap) const {
  const std::size_t n_inputs = spec_.inputs.size();
  auto& v = scratch.values;
  v.resize(nodes_.size());
  // Why a node is not finite, and the node where that began (for the report only).
  std::vector<std::pair<Cause, int>> why;
  auto origin = [&](int node, Cause cause) {
    if (gap == nullptr) return;
    if (why.empty()) why.assign(nodes_.size(), {kFine, -1});
    why[static_cast<std::size_t>(node)] = {cause, node};
  };
  for (std::size_t k = 0; k < n_inputs; ++k) {
    v[k] = windows[k].values.empty() ? kNaN : windows[k].values.back();
    if (windows[k].values.empty()) origin(static_cast<int>(k), kEmptyWindow);
  }
  for (int node : order_) {
    const auto& step = spec_.define[static_cast<std::size_t>(node) - n_inputs];
    const auto& args = nodes_[static_cast<std::size_t>(node)].args;
    auto arg = [&](std::size_t i) { return args[i] < 0 ? step.args[i].constant : v[static_cast<std::size_t>(args[i])]; };
    double r = arg(0);
    Cause cause = kNotFinite;
    const std::string& op = step.op;
    if (op == "sum") {
      for (std::size_t i = 1; i < args.size(); ++i) r = r + arg(i);
    } else if (op == "product") {
      for (std::size_t i = 1; i < args.size(); ++i) r = r * arg(i);
    } else if (op == "difference") {
      r = r - arg(1);
    } else if (op == "ratio") {
      const double d = arg(1);
      if (d == 0) {
        r = kNaN;
        cause = kDivisionByZero;
      } else {
        r = r / d;
      }
    } else if (op == "min") {
      for (std::size_t i = 1; i < args.size(); ++i) r = arg(i) < r ? arg(i) : r;  // std::min(r, x)
    } else if (op == "max") {
      for (std::size_t i = 1; i < args.size(); ++i) r = r < arg(i) ? arg(i) : r;  // std::max(r, x)
    } else if (op == "linear") {
      r = r * step.scale + step.offset;
    } else if (op == "lookup") {
      const auto& codes = spec_.inputs[static_cast<std::size_t>(args[0])].codes;
      const auto code = std::ranges::find(codes, r, &std::pair<std::string, double>::second);
      if (code == codes.end()) {
        r = kNaN;
        cause = kUnknownCode;
      } else {
        r = std::ranges::find(step.table, code->first, &std::pair<std::string, double>::first)->second;
      }
    } else {  // window
      const auto k = static_cast<std::size_t>(args[0]);
      const auto window_ns = static_cast<std::int64_t>(std::llround(step.window_s * 1e9));
      const WindowInput* w = &windows[k];
      if (window_ns != input_window_ns_[k]) {
        select_window(windows[k], t, window_ns, scratch.window);
        w = &scratch.window;
      }
      auto x = window_feature(step.feature, *w);
      r = x ? *x : kNaN;
      if (!x) cause = kEmptyWindow;
    }
    v[static_cast<std::size_t>(node)] = r;
    if (!std::isfinite(r) && gap != nullptr) {
      int from = -1;
      for (std::size_t i = 0; i < args.size() && from < 0; ++i)
        if (args[i] >= 0 && !std::isfinite(v[static_cast<std::size_t>(args[i])])) from = args[i];
      if (from >= 0 && !why.empty()) why[static_cast<std::size_t>(node)] = {kFromArgument, why[static_cast<std::size_t>(from)].second};
      else origin(node, cause);
    }
  }
  bool ok = true;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    columns[c] = v[static_cast<std::size_t>(columns_[c])];
    if (std::isfinite(columns[c]) || !ok) continue;
    ok = false;
    if (gap == nullptr) continue;
    gap->column = spec_.columns[c];
    const int at = why.empty() ? -1 : why[static_cast<std::size_t>(columns_[c])].second;
    if (at < 0) {
      gap->step.clear();
      gap->cause = "not a finite number";
      continue;
    }
    const auto& [cause, node] = why[static_cast<std::size_t>(at)];
    if (static_cast<std::size_t>(node) < n_inputs) {
      gap->step = spec_.inputs[static_cast<std::size_t>(node)].name;
      gap->cause = "no sample in its window";
      continue;
    }
    const auto& step = spec_.define[static_cast<std::size_t>(node) - n_inputs];
    gap->step = step.name;
    const auto& args = nodes_[static_cast<std::size_t>(node)].args;
    switch (cause) {
      case kDivisionByZero:
        gap->cause = args[1] >= 0 ? fmt::format("division by zero ('{}' is 0)", step.args[1].name)
                                  : "division by zero";
        break;
      case kUnknownCode:
        gap->cause = fmt::format("'{}' is {}, not one of its codes", step.args[0].name,
                                 v[static_cast<std::size_t>(args[0])]);
        break;
      case kEmptyWindow:
        gap->cause = fmt::format("no sample of '{}' in its {} s window", step.args[0].name, step.window_s);
        break;
      default:
        gap->cause = fmt::format("{} gave {}", step.op, v[static_cast<std::size_t>(node)]);
    }
  }
  return ok;
}

std::string transform_lineage(const Transform& transform) {
  return fmt::format("{}{} {}", kLineageTag, transform.sha256(), transform.canonical_json());
}

Result<std::optional<Transform>> transform_of(const Lineage& lineage) {
  const std::string_view text = lineage.transform;
  if (!text.starts_with(kLineageTag)) return std::optional<Transform>{};
  const std::string_view rest = text.substr(kLineageTag.size());
  if (rest.size() < 66 || rest[64] != ' ')
    return error(StatusCode::kCorruption, "dataset lineage: a transform_v1 without its sha256 and text");
  auto t = Transform::parse(rest.substr(65), "dataset lineage transform");
  if (!t) return error(t.error());
  if (t->sha256() != rest.substr(0, 64) || t->canonical_json() != rest.substr(65))
    return error(StatusCode::kCorruption,
                 fmt::format("dataset lineage: the transform's text does not match its sha256 {}", rest.substr(0, 64)));
  return std::optional<Transform>(std::move(*t));
}

namespace {

// The first cell of a text column that is not a number, for a type mismatch message.
std::size_t first_text_row(const Column& column) {
  for (std::size_t r = 0; r < column.texts.size(); ++r) {
    const auto& s = column.texts[r];
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return r;
  }
  return 0;
}

}  // namespace

Result<DerivedRows> derive_rows(const Table& table, const Transform& transform) {
  const TransformSpec& spec = transform.spec();
  const std::size_t n_inputs = spec.inputs.size();
  // Every input as doubles: numbers as read, codes through the transform's labels.
  std::vector<std::vector<double>> values(n_inputs);
  for (std::size_t k = 0; k < n_inputs; ++k) {
    const TransformInput& in = spec.inputs[k];
    auto column = table.column(in.name);
    if (!column)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("transform inputs[{}] '{}': {}", k, in.name, column.error().message()));
    const Column& c = **column;
    if (!in.is_code) {
      if (c.type != ColumnType::kNumber) {
        const std::size_t r = first_text_row(c);
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}: transform inputs[{}] '{}': type mismatch: the input is a number, the column "
                                 "holds text (row {}: '{}'); declare it {{\"type\": \"code\", \"codes\": …}}",
                                 table.source, k, in.name, r + 1, c.texts[r]));
      }
      values[k] = c.numbers;
      continue;
    }
    values[k].resize(table.rows);
    for (std::size_t r = 0; r < table.rows; ++r) {
      if (c.type == ColumnType::kText) {
        const auto code = std::ranges::find(in.codes, c.texts[r], &std::pair<std::string, double>::first);
        if (code == in.codes.end())
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}: row {}: column '{}' is '{}', not one of its codes {}", table.source, r + 1,
                                   in.name, c.texts[r], labels_of(in.codes)));
        values[k][r] = code->second;
      } else {
        const double x = c.numbers[r];
        if (std::ranges::find(in.codes, x, &std::pair<std::string, double>::second) == in.codes.end())
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}: row {}: column '{}' is {}, not one of its codes' values", table.source, r + 1,
                                   in.name, x));
        values[k][r] = x;
      }
    }
  }
  // Windows need each row's time and its history: the rows of its group, in time order.
  const bool windows = transform.uses_windows();
  std::vector<TimestampNs> ts(table.rows, 0);
  std::map<double, std::vector<WindowInput>> history;  // group value → per input
  std::vector<double> row_group(table.rows, 0);
  if (windows) {
    auto time = table.number_column(spec.time_column);
    if (!time) return error(StatusCode::kInvalidArgument, fmt::format("transform time: {}", time.error().message()));
    const Column* by = nullptr;
    if (!spec.group_column.empty()) {
      auto g = table.number_column(spec.group_column);
      if (!g) return error(StatusCode::kInvalidArgument, fmt::format("transform group: {}", g.error().message()));
      by = *g;
    }
    std::vector<std::size_t> order(table.rows);
    for (std::size_t r = 0; r < table.rows; ++r) {
      order[r] = r;
      ts[r] = static_cast<TimestampNs>(std::llround((*time)->numbers[r] * spec.time_unit_s * 1e9));
      row_group[r] = by ? by->numbers[r] : 0;
    }
    std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) { return ts[a] < ts[b]; });
    for (std::size_t r : order) {
      auto& h = history[row_group[r]];
      h.resize(n_inputs);
      for (std::size_t k = 0; k < n_inputs; ++k) {
        h[k].ts_ns.push_back(ts[r]);
        h[k].values.push_back(values[k][r]);
      }
    }
  }

  DerivedRows out;
  std::vector<WindowInput> in(n_inputs);
  std::vector<double> row(spec.columns.size());
  Transform::Scratch scratch;
  TransformReport& rep = out.report;
  for (std::size_t r = 0; r < table.rows; ++r) {
    for (std::size_t k = 0; k < n_inputs; ++k) {
      if (windows) {
        select_window(history[row_group[r]][k], ts[r], transform.input_windows_ns()[k], in[k]);
      } else {
        in[k].ts_ns.assign(1, 0);
        in[k].values.assign(1, values[k][r]);
      }
    }
    TransformGap gap;
    if (!transform.evaluate(in, ts[r], row, scratch, rep.skipped_rows == 0 ? &gap : nullptr)) {
      if (rep.skipped_rows++ == 0) {
        rep.first_skipped_row = r + 1;
        rep.first_gap = gap;
      }
      continue;
    }
    out.values.insert(out.values.end(), row.begin(), row.end());
    out.rows.push_back(r);
  }
  return out;
}

Result<Dataset> derive_dataset(const Table& table, const Transform& transform, std::string_view label,
                               std::string_view group, std::vector<SourceRef> sources, TransformReport* report) {
  auto label_col = table.number_column(label);
  if (!label_col) return error(label_col.error());
  const Column* group_col = nullptr;
  if (!group.empty()) {
    auto g = table.number_column(group);
    if (!g) return error(g.error());
    group_col = *g;
  }
  auto derived = derive_rows(table, transform);
  if (!derived) return error(derived.error());
  if (report) *report = derived->report;
  const TransformReport& rep = derived->report;
  if (derived->rows.empty())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: the transform gave no row: row {}: {}", table.source, rep.first_skipped_row,
                             rep.first_gap.message()));
  Dataset ds;
  ds.label_name = std::string(label);
  ds.group_name = std::string(group);
  ds.feature_names = transform.spec().columns;
  ds.features.reserve(derived->values.size());
  for (double x : derived->values) ds.features.push_back(static_cast<float>(x));
  for (std::size_t r : derived->rows) {
    ds.labels.push_back(static_cast<float>((*label_col)->numbers[r]));
    if (group_col) {
      const double g = group_col->numbers[r];
      if (g != std::floor(g))  // as dataset_from_table: 1.5 and 1.7 must not become one group
        return error(StatusCode::kInvalidArgument, fmt::format("{}: group column '{}' holds a non-integer {} (row {})",
                                                               table.source, group, g, r + 1));
      ds.groups.push_back(static_cast<std::int64_t>(g));
    }
  }
  ds.rows = derived->rows.size();
  ds.lineage.sources = std::move(sources);
  ds.lineage.transform = transform_lineage(transform);
  if (Status s = ds.validate(); !s) return error(s.code(), fmt::format("{}: {}", table.source, s.message()));
  return ds;
}

Result<std::vector<ManifestSignal>> series_signals(const Transform& transform, const infomodel::Model& model) {
  std::vector<ManifestSignal> out;
  for (const auto& in : transform.spec().inputs) {
    auto ref = infomodel::lookup_path(model, in.name);
    if (!ref)
      return error(ref.error().code(), fmt::format("transform input '{}': {}", in.name, ref.error().message()));
    out.push_back({in.name, ref->category->id, ref->signal->name});
  }
  return out;
}

}  // namespace resonance::models
