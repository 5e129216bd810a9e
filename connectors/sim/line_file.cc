// Line file parsing and the default demo line.

#include "connectors/sim/line_file.h"

#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "connectors/sim/machines.h"
#include "connectors/sim/prng.h"
#include "resonance/infomodel/loader.h"

namespace resonance::sim {
namespace {

std::string where(const std::string& file, const toml::source_region& src) {
  return fmt::format("{}:{}:{}", file, src.begin.line, src.begin.column);
}

class Parser {
 public:
  Parser(const std::string& file, LineOptions& line) : file_(file), line_(line) {}

  void parse(const toml::table& root) {
    for (const auto& [key, node] : root) {
      const std::string k(key.str());
      if (k == "schema_version") {
        const auto v = node.value<std::int64_t>();
        if (!v || *v != 1) problem(node, "field 'schema_version': this build reads 1");
      } else if (k == "line") {
        if (const auto* t = node.as_table()) parse_line(*t); else problem(node, "[line] must be a table");
      } else if (k == "machine") {
        const auto* arr = node.as_array();
        if (arr == nullptr || !arr->is_array_of_tables()) {
          problem(node, "'machine' must be an array of tables [[machine]]");
          continue;
        }
        for (const auto& m : *arr) parse_machine(*m.as_table(), static_cast<int>(line_.equipment.size()));
      } else {
        problem(node, fmt::format("unknown field '{}'; expected schema_version, [line], [[machine]]", k));
      }
    }
    if (!root.contains("schema_version")) problems_.push_back(fmt::format("{}: missing schema_version = 1", file_));
    if (line_.equipment.empty()) problems_.push_back(fmt::format("{}: no [[machine]]", file_));
    if (line_.equipment.size() > 99) problems_.push_back(fmt::format("{}: {} machines; at most 99", file_, line_.equipment.size()));
  }

  Status status() const {
    if (problems_.empty()) return Status::ok();
    std::string text;
    for (const auto& p : problems_) text += (text.empty() ? "" : "\n") + p;
    return Status(StatusCode::kInvalidArgument, text);
  }

 private:
  void problem(const toml::node& node, std::string what) {
    problems_.push_back(fmt::format("{}: {}", where(file_, node.source()), what));
  }
  std::optional<std::string> text(const toml::node& node, std::string_view field) {
    if (auto v = node.value<std::string>(); v && !v->empty()) return v;
    problem(node, fmt::format("field '{}': expected a non-empty string", field));
    return std::nullopt;
  }
  std::optional<double> rate(const toml::node& node, std::string_view field) {
    const auto v = node.value<double>();
    if (v && *v > 0 && *v <= 1000) return v;
    problem(node, fmt::format("field '{}': expected a number in (0, 1000] samples per second", field));
    return std::nullopt;
  }
  std::optional<std::uint64_t> seed(const toml::node& node) {
    const auto v = node.value<std::int64_t>();
    if (v && *v >= 0) return static_cast<std::uint64_t>(*v);
    problem(node, "field 'seed': expected a non-negative integer");
    return std::nullopt;
  }

  void parse_line(const toml::table& t) {
    for (const auto& [key, node] : t) {
      const std::string k(key.str());
      if (k == "site" || k == "area" || k == "line") {
        if (auto v = text(node, k)) (k == "site" ? line_.device.site : k == "area" ? line_.device.area : line_.device.line) = *v;
      } else if (k == "seed") {
        if (auto v = seed(node)) line_.device.seed = *v;
      } else if (k == "sample_hz") {
        if (auto v = rate(node, k)) line_.device.sample_hz = *v;
      } else {
        problem(node, fmt::format("[line]: unknown field '{}'; expected site, area, line, seed, sample_hz", k));
      }
    }
  }

  void parse_machine(const toml::table& t, int index) {
    LineMachine m;
    bool have_seed = false;
    for (const auto& [key, node] : t) {
      const std::string k(key.str());
      if (k == "category") {
        if (auto v = text(node, k)) {
          m.category = *v;
          if (find_machine_kind(m.category) == nullptr) {
            std::string known;
            for (const auto& kind : machine_kinds()) known += fmt::format("{}{}", known.empty() ? "" : ", ", kind.category);
            problem(node, fmt::format("field 'category': no simulator for '{}'; expected one of: {}", m.category, known));
          }
        }
      } else if (k == "equipment") {
        if (auto v = text(node, k)) m.equipment = *v;
      } else if (k == "seed") {
        if (auto v = seed(node)) { m.seed = *v; have_seed = true; }
      } else if (k == "rate_hz") {
        if (auto v = rate(node, k)) m.sample_hz = *v;
      } else {
        problem(node, fmt::format("[[machine]]: unknown field '{}'; expected category, equipment, seed, rate_hz", k));
      }
    }
    if (m.category.empty()) problem(t, "[[machine]]: missing field 'category'");
    if (m.equipment.empty()) problem(t, "[[machine]]: missing field 'equipment'");
    if (!m.equipment.empty()) {
      if (m.equipment.size() > 23) {
        problem(t, fmt::format("[[machine]] '{}': equipment is {} bytes; as the MQTT-SN client id it must be 1..23", m.equipment, m.equipment.size()));
      }
      if (!ids_.insert(m.equipment).second) problem(t, fmt::format("[[machine]]: equipment '{}' appears twice", m.equipment));
      // The series paths must resolve to this category, or the model-validation stage would
      // quarantine every sample.
      const auto* category = infomodel::builtin_model().category_for_equipment(m.equipment);
      const auto* wanted = infomodel::builtin_model().find_category(m.category);
      if (wanted != nullptr && category != wanted) {
        std::string prefixes;
        for (const auto& p : wanted->equipment_prefixes) prefixes += fmt::format("{}{}", prefixes.empty() ? "" : ", ", p);
        problem(t, fmt::format("[[machine]] '{}': the information model maps this equipment name to {}; "
                               "a {} machine's name is one of its prefixes ({}) plus a number, e.g. '{}-01'",
                               m.equipment, category ? fmt::format("category '{}'", category->id) : std::string("no category"),
                               m.category, prefixes, wanted->equipment_prefixes.empty() ? "x" : wanted->equipment_prefixes.front()));
      }
    }
    pending_seeds_.push_back(!have_seed);
    line_.equipment.push_back(std::move(m));
    static_cast<void>(index);
  }

 public:
  // Machines without a seed get one derived from the line's (known only after [line] is read).
  void derive_seeds() {
    for (std::size_t i = 0; i < line_.equipment.size(); ++i) {
      if (pending_seeds_[i]) line_.equipment[i].seed = derive_seed(line_.device.seed, i);
    }
  }

 private:
  const std::string& file_;
  LineOptions& line_;
  std::vector<std::string> problems_;
  std::set<std::string> ids_;
  std::vector<bool> pending_seeds_;
};

}  // namespace

Status parse_line_file(std::string_view toml_text, const std::string& source_name, LineOptions& line) {
  toml::table root;
  try {  // toml++ reports syntax errors by exception; start-up parsing is where we allow it
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return Status(StatusCode::kInvalidArgument, fmt::format("{}: TOML syntax error: {}",
                                                            where(source_name, e.source()), e.description()));
  }
  line.equipment.clear();
  Parser parser(source_name, line);
  parser.parse(root);
  parser.derive_seeds();
  return parser.status();
}

Status load_line_file(const std::filesystem::path& path, LineOptions& line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, fmt::format("line file {}: cannot open", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_line_file(text.str(), path.string(), line);
}

LineOptions default_demo_line(const LineOptions& defaults) {
  LineOptions line = defaults;
  line.device.area = "production";
  const std::pair<const char*, const char*> machines[] = {
      {"cnc", "cnc-01"},   {"cnc", "cnc-02"},     {"injection_moulding", "imm-01"},
      {"agv", "agv-01"},   {"robot", "robot-01"}, {"vision", "vision-01"}};
  line.equipment.clear();
  for (std::size_t i = 0; i < std::size(machines); ++i) {
    line.equipment.push_back({.category = machines[i].first,
                              .equipment = machines[i].second,
                              .seed = derive_seed(defaults.device.seed, i),
                              .sample_hz = 0});
  }
  return line;
}

}  // namespace resonance::sim
