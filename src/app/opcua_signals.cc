#include "opcua_signals.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cctype>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "connectors/opcua/builtin_types.h"

namespace resonance::app {
namespace {

std::string where(const std::string& source, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", source, r.begin.line, r.begin.column);
}

// `count` non-empty segments separated by '/' (the catalog's ISA-95 path rule has five:
// site/area/line/equipment/signal).
bool has_segments(std::string_view path, int count) {
  int segments = 1;
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    if (i + 1 < path.size() && path[i + 1] == '/') return false;
    ++segments;
  }
  return segments == count;
}

bool is_prefix(std::string_view p) {
  if (p.empty() || !(std::isalpha(static_cast<unsigned char>(p[0])) || p[0] == '_')) return false;
  for (char c : p)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

// The node id forms the connector accepts (opcua_connector.h), checked for syntax only: the
// namespace URI is looked up on the server at each connect.
Status check_node_id(std::string_view text) {
  std::string_view rest = text;
  if (text.starts_with("nsu=")) {
    const auto semi = text.find(';');
    if (semi == std::string_view::npos || semi == 4)
      return Status(StatusCode::kInvalidArgument, "expected nsu=<namespace URI>;<i=|s=|g=|b=...>");
    rest = text.substr(semi + 1);
    if (rest.starts_with("ns="))
      return Status(StatusCode::kInvalidArgument, "nsu= and ns= together");
  }
  if (auto id = opcua::parse_node_id(rest); !id) return id.error();
  return Status::ok();
}

std::string known_prefixes(const std::map<std::string, std::string, std::less<>>& prefixes) {
  std::string out;
  for (const auto& [p, _] : prefixes) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// One parse of a signals file. Every problem is collected, so the user sees all of them at once.
struct FileParser {
  const std::string& source;
  const infomodel::Model& model;
  std::vector<std::string> problems;
  std::map<std::string, std::string, std::less<>> prefixes{{"ua", std::string(kUaNamespaceUri)}};
  std::set<std::string> node_ids, paths, series, equipment, instances;

  // Calls `read(table, where)` for each table of the array `key` ([[key]]).
  template <typename F>
  void each_table(const toml::table& root, std::string_view key, F read) {
    const toml::node* node = root.get(key);
    if (node == nullptr) return;
    const toml::array* arr = node->as_array();
    if (arr == nullptr) {
      problems.push_back(fmt::format("{}: '{}': expected an array of tables ([[{}]])",
                                     where(source, node->source()), key, key));
      return;
    }
    for (const toml::node& item : *arr) {
      const std::string at = where(source, item.source());
      if (const toml::table* t = item.as_table())
        read(*t, at);
      else
        problems.push_back(fmt::format("{}: [[{}]]: expected a table", at, key));
    }
  }

  void read_namespaces(const toml::table& t) {
    for (auto&& [key, value] : t) {
      const std::string at = where(source, value.source());
      const std::string prefix(key.str());
      const auto* uri = value.as_string();
      if (!is_prefix(prefix))
        problems.push_back(fmt::format(
            "{}: [namespaces]: '{}' is not a prefix (letters, digits, _ - .)", at, prefix));
      else if (prefix == "ua")
        problems.push_back(
            fmt::format("{}: [namespaces]: prefix 'ua' is built in ({})", at, kUaNamespaceUri));
      else if (uri == nullptr || uri->get().empty())
        problems.push_back(
            fmt::format("{}: [namespaces] key '{}': expected a namespace URI string", at, prefix));
      else
        prefixes[prefix] = uri->get();
    }
  }

  // A [[signal]] table; nullopt (with the problems recorded) when it is wrong.
  std::optional<OpcuaSignalMapping> read_signal(const toml::table& t, const std::string& at) {
    OpcuaSignalMapping m;
    bool ok = true;
    std::string path_at, start_at;
    for (auto&& [key, value] : t) {
      const std::string k(key.str());
      const std::string vat = where(source, value.source());
      const auto* text = value.as_string();
      if (k != "node_id" && k != "series" && k != "unit" && k != "browse_path" && k != "start") {
        problems.push_back(
            fmt::format("{}: [[signal]]: unknown key '{}' (known: node_id, browse_path, start, "
                        "series, unit)",
                        vat, k));
        ok = false;
      } else if (text == nullptr) {
        problems.push_back(fmt::format("{}: [[signal]] key '{}': expected a string", vat, k));
        ok = false;
      } else if (k == "node_id") {
        m.node_id = text->get();
        if (Status s = check_node_id(m.node_id); !s) {
          problems.push_back(
              fmt::format("{}: [[signal]] key 'node_id': \"{}\": {}", vat, m.node_id, s.message()));
          ok = false;
        }
      } else if (k == "browse_path") {
        m.browse_path_text = text->get();
        path_at = vat;
      } else if (k == "start") {
        m.start = text->get();
        start_at = vat;
        if (Status s = check_node_id(m.start); !s) {
          problems.push_back(
              fmt::format("{}: [[signal]] key 'start': \"{}\": {}", vat, m.start, s.message()));
          ok = false;
        }
      } else if (k == "series") {
        m.series_path = text->get();
      } else {
        m.unit = text->get();
      }
    }
    if (!path_at.empty()) {
      auto parsed = parse_browse_path(m.browse_path_text, prefixes);
      if (!parsed) {
        problems.push_back(fmt::format("{}: [[signal]] key 'browse_path': \"{}\": {}", path_at,
                                       m.browse_path_text, parsed.error().message()));
        ok = false;
      } else {
        m.browse_path = std::move(*parsed);
      }
    }
    if (!m.node_id.empty() && !path_at.empty()) {
      problems.push_back(fmt::format("{}: [[signal]]: give node_id or browse_path, not both", at));
      ok = false;
    } else if (m.node_id.empty() && path_at.empty()) {
      problems.push_back(
          fmt::format("{}: [[signal]]: key 'node_id' or 'browse_path' is required (e.g. "
                      "node_id = \"ns=2;s=Spindle\")",
                      at));
      ok = false;
    } else if (!start_at.empty() && path_at.empty()) {
      problems.push_back(
          fmt::format("{}: [[signal]] key 'start': only with browse_path", start_at));
      ok = false;
    } else if (!m.node_id.empty() && !node_ids.insert(m.node_id).second) {
      problems.push_back(
          fmt::format("{}: [[signal]]: node_id '{}' is mapped twice", at, m.node_id));
      ok = false;
    } else if (ok && !path_at.empty()) {
      std::string key = m.start.empty() ? "i=85" : m.start;
      for (const auto& step : m.browse_path) key += "/" + step.namespace_uri + "\n" + step.name;
      if (!paths.insert(key).second) {
        problems.push_back(fmt::format("{}: [[signal]]: browse_path \"{}\" is mapped twice", at,
                                       m.browse_path_text));
        ok = false;
      }
    }
    if (m.series_path.empty()) {
      problems.push_back(fmt::format("{}: [[signal]]: key 'series' is required", at));
      ok = false;
    } else if (!has_segments(m.series_path, 5)) {
      problems.push_back(fmt::format(
          "{}: [[signal]] key 'series': expected site/area/line/equipment/signal, found \"{}\"", at,
          m.series_path));
      ok = false;
    } else if (!series.insert(m.series_path).second) {
      problems.push_back(
          fmt::format("{}: [[signal]]: series '{}' is fed by two nodes", at, m.series_path));
      ok = false;
    }
    if (!ok) return std::nullopt;
    return m;
  }

  // A [[machine]] table; nullopt (with the problems recorded) when it is wrong.
  std::optional<OpcuaMachineMapping> read_machine(const toml::table& t, const std::string& at) {
    OpcuaMachineMapping m;
    m.profile.clear();
    bool ok = true;
    for (auto&& [key, value] : t) {
      const std::string k(key.str());
      const std::string vat = where(source, value.source());
      const auto* text = value.as_string();
      if (k != "profile" && k != "equipment" && k != "instance") {
        problems.push_back(fmt::format(
            "{}: [[machine]]: unknown key '{}' (known: profile, equipment, instance)", vat, k));
        ok = false;
      } else if (text == nullptr) {
        problems.push_back(fmt::format("{}: [[machine]] key '{}': expected a string", vat, k));
        ok = false;
      } else if (k == "profile") {
        m.profile = text->get();
        if (m.profile != "machine-tool") {
          problems.push_back(
              fmt::format("{}: [[machine]] key 'profile': \"{}\" is not known (known: "
                          "machine-tool, OPC 40501-1)",
                          vat, m.profile));
          ok = false;
        }
      } else if (k == "equipment") {
        m.equipment_path = text->get();
      } else {
        m.instance = text->get();
      }
    }
    if (m.profile.empty()) {
      problems.push_back(fmt::format(
          "{}: [[machine]]: key 'profile' is required (profile = \"machine-tool\")", at));
      ok = false;
    }
    if (m.equipment_path.empty()) {
      problems.push_back(fmt::format(
          "{}: [[machine]]: key 'equipment' is required (site/area/line/equipment)", at));
      ok = false;
    } else if (!has_segments(m.equipment_path, 4)) {
      problems.push_back(fmt::format(
          "{}: [[machine]] key 'equipment': expected site/area/line/equipment, found \"{}\"", at,
          m.equipment_path));
      ok = false;
    } else {
      const std::string name = m.equipment_path.substr(m.equipment_path.rfind('/') + 1);
      m.category = model.category_for_equipment(name);
      bool maps_something = false;
      if (m.category != nullptr)
        for (const auto& s : m.category->signals)
          if (const auto* mp = s.mapping("opc40501"); mp != nullptr && !mp->none())
            maps_something = true;
      if (m.category == nullptr) {
        problems.push_back(
            fmt::format("{}: [[machine]] key 'equipment': \"{}\" matches no information-model "
                        "category (its name must start "
                        "with a category's equipment prefix, e.g. cnc-01)",
                        at, name));
        ok = false;
      } else if (!maps_something) {
        problems.push_back(
            fmt::format("{}: [[machine]] key 'equipment': category {} has no signal with an "
                        "OPC 40501 counterpart to map",
                        at, m.category->id));
        ok = false;
      } else if (!equipment.insert(m.equipment_path).second) {
        problems.push_back(
            fmt::format("{}: [[machine]]: equipment '{}' is mapped twice", at, m.equipment_path));
        ok = false;
      } else if (!instances.insert(m.instance).second) {
        problems.push_back(
            fmt::format("{}: [[machine]]: instance '{}' is mapped twice (with several "
                        "machines, name each one's instance)",
                        at, m.instance));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return m;
  }
};

}  // namespace

Result<std::vector<OpcuaBrowseName>> parse_browse_path(
    std::string_view text, const std::map<std::string, std::string, std::less<>>& prefixes) {
  if (text.empty()) return error(StatusCode::kInvalidArgument, "empty browse path");
  if (text.front() == '/')
    return error(
        StatusCode::kInvalidArgument,
        "starts with '/': write the first browse name directly (the path is relative to `start`)");
  std::vector<OpcuaBrowseName> out;
  std::size_t i = 0;
  while (true) {
    const std::size_t step = out.size() + 1;
    // prefix ':' name, the name up to an unescaped '/'.
    const auto colon = text.find(':', i);
    const auto slash = text.find('/', i);
    if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
      const std::string_view seg =
          text.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i);
      return error(
          StatusCode::kInvalidArgument,
          fmt::format(
              "step {} \"{}\": no namespace prefix: write prefix:Name with a prefix declared in "
              "[namespaces] (or the built-in ua)",
              step, seg));
    }
    const std::string_view prefix = text.substr(i, colon - i);
    if (!is_prefix(prefix))
      return error(StatusCode::kInvalidArgument,
                   fmt::format("step {}: \"{}\" is not a namespace prefix (letters, digits, _ - .)",
                               step, prefix));
    const auto uri = prefixes.find(prefix);
    if (uri == prefixes.end())
      return error(
          StatusCode::kInvalidArgument,
          fmt::format(
              "step {}: namespace prefix '{}' is not declared in [namespaces] (declared: {})", step,
              prefix, known_prefixes(prefixes)));
    std::string name;
    i = colon + 1;
    for (; i < text.size() && text[i] != '/'; ++i) {
      if (text[i] == '&') {
        if (++i == text.size())
          return error(StatusCode::kInvalidArgument,
                       fmt::format("step {}: '&' at the end escapes nothing", step));
      }
      name += text[i];
    }
    if (name.empty())
      return error(StatusCode::kInvalidArgument,
                   fmt::format("step {}: empty browse name after '{}:'", step, prefix));
    out.push_back({uri->second, std::move(name)});
    if (i == text.size()) break;
    if (++i == text.size())
      return error(StatusCode::kInvalidArgument,
                   fmt::format("ends with '/': step {} is missing", step + 1));
  }
  return out;
}

Result<OpcuaMappings> parse_opcua_signals(std::string_view toml_text,
                                          const std::string& source_name,
                                          const infomodel::Model& model) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return error(
        StatusCode::kInvalidArgument,
        fmt::format("{}: TOML syntax error: {}", where(source_name, e.source()), e.description()));
  }
  std::vector<std::string> problems;
  for (auto&& [key, node] : root) {
    if (key.str() != "signal" && key.str() != "machine" && key.str() != "namespaces")
      problems.push_back(fmt::format(
          "{}: unknown key '{}': expected [namespaces], [[signal]] and [[machine]] tables",
          where(source_name, node.source()), key.str()));
  }

  FileParser parse{.source = source_name, .model = model, .problems = std::move(problems)};
  if (const toml::node* ns = root.get("namespaces")) {
    if (const toml::table* t = ns->as_table())
      parse.read_namespaces(*t);
    else
      parse.problems.push_back(
          fmt::format("{}: 'namespaces': expected a table of prefix = \"namespace URI\"",
                      where(source_name, ns->source())));
  }
  OpcuaMappings out;
  parse.each_table(root, "signal", [&](const toml::table& t, const std::string& at) {
    if (auto m = parse.read_signal(t, at)) out.signals.push_back(std::move(*m));
  });
  parse.each_table(root, "machine", [&](const toml::table& t, const std::string& at) {
    if (auto m = parse.read_machine(t, at)) out.machines.push_back(std::move(*m));
  });
  problems = std::move(parse.problems);

  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
    return error(StatusCode::kInvalidArgument, all);
  }
  if (out.signals.empty() && out.machines.empty())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: no [[signal]] or [[machine]] tables: nothing to subscribe to",
                             source_name));
  return out;
}

Result<OpcuaMappings> load_opcua_signals(const std::filesystem::path& file,
                                         const infomodel::Model& model) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return error(StatusCode::kNotFound,
                 fmt::format("opcua.signals_file: cannot open '{}'", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_opcua_signals(text.str(), file.string(), model);
}

}  // namespace resonance::app
