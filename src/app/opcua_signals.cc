#include "opcua_signals.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace resonance::app {
namespace {

std::string where(const std::string& source, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", source, r.begin.line, r.begin.column);
}

// Five non-empty segments: site/area/line/equipment/signal (the catalog's ISA-95 path rule).
bool plausible_series(std::string_view path) {
  int segments = 1;
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    if (i + 1 < path.size() && path[i + 1] == '/') return false;
    ++segments;
  }
  return segments == 5;
}

}  // namespace

Result<std::vector<OpcuaSignalMapping>> parse_opcua_signals(std::string_view toml_text,
                                                            const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: TOML syntax error: {}", where(source_name, e.source()), e.description()));
  }
  std::vector<std::string> problems;
  for (auto&& [key, node] : root) {
    if (key.str() != "signal")
      problems.push_back(fmt::format("{}: unknown key '{}': expected only [[signal]] tables",
                                     where(source_name, node.source()), key.str()));
  }
  std::vector<OpcuaSignalMapping> out;
  std::set<std::string> node_ids, series;
  if (const toml::node* sig = root.get("signal")) {
    const toml::array* arr = sig->as_array();
    if (arr == nullptr) {
      problems.push_back(fmt::format("{}: 'signal': expected an array of tables ([[signal]])",
                                     where(source_name, sig->source())));
    } else {
      for (const toml::node& item : *arr) {
        const toml::table* t = item.as_table();
        const std::string at = where(source_name, item.source());
        if (t == nullptr) {
          problems.push_back(fmt::format("{}: [[signal]]: expected a table", at));
          continue;
        }
        OpcuaSignalMapping m;
        bool ok = true;
        for (auto&& [key, value] : *t) {
          const std::string k(key.str());
          const std::string vat = where(source_name, value.source());
          const auto* text = value.as_string();
          if (k != "node_id" && k != "series" && k != "unit") {
            problems.push_back(fmt::format("{}: [[signal]]: unknown key '{}' (known: node_id, series, unit)", vat, k));
            ok = false;
          } else if (text == nullptr) {
            problems.push_back(fmt::format("{}: [[signal]] key '{}': expected a string", vat, k));
            ok = false;
          } else if (k == "node_id") {
            m.node_id = text->get();
          } else if (k == "series") {
            m.series_path = text->get();
          } else {
            m.unit = text->get();
          }
        }
        if (m.node_id.empty()) {
          problems.push_back(fmt::format("{}: [[signal]]: key 'node_id' is required (e.g. \"ns=2;s=Spindle\")", at));
          ok = false;
        } else if (!node_ids.insert(m.node_id).second) {
          problems.push_back(fmt::format("{}: [[signal]]: node_id '{}' is mapped twice", at, m.node_id));
          ok = false;
        }
        if (m.series_path.empty()) {
          problems.push_back(fmt::format("{}: [[signal]]: key 'series' is required", at));
          ok = false;
        } else if (!plausible_series(m.series_path)) {
          problems.push_back(fmt::format(
              "{}: [[signal]] key 'series': expected site/area/line/equipment/signal, found \"{}\"", at,
              m.series_path));
          ok = false;
        } else if (!series.insert(m.series_path).second) {
          problems.push_back(fmt::format("{}: [[signal]]: series '{}' is fed by two nodes", at, m.series_path));
          ok = false;
        }
        if (ok) out.push_back(std::move(m));
      }
    }
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
    return error(StatusCode::kInvalidArgument, all);
  }
  if (out.empty())
    return error(StatusCode::kInvalidArgument, fmt::format("{}: no [[signal]] tables: nothing to subscribe to", source_name));
  return out;
}

Result<std::vector<OpcuaSignalMapping>> load_opcua_signals(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return error(StatusCode::kNotFound, fmt::format("opcua.signals_file: cannot open '{}'", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_opcua_signals(text.str(), file.string());
}

}  // namespace resonance::app
