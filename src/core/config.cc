#include "resonance/core/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace resonance {

namespace {

std::string_view type_name(ConfigType type) {
  switch (type) {
    case ConfigType::kString: return "a string";
    case ConfigType::kInteger: return "an integer";
    case ConfigType::kFloat: return "a number";
    case ConfigType::kBool: return "true or false";
  }
  return "?";
}

std::string describe(const toml::node& node) {
  if (auto s = node.as_string()) return fmt::format("the string \"{}\"", s->get());
  if (auto i = node.as_integer()) return fmt::format("the integer {}", i->get());
  if (auto f = node.as_floating_point()) return fmt::format("the number {}", f->get());
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  return "a date/time";
}

std::string value_text(const ConfigValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) return fmt::format("\"{}\"", x);
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else return fmt::format("{}", x);
      },
      v);
}

std::string where(const std::string& source, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", source, region.begin.line, region.begin.column);
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

const ConfigKey* ConfigSchema::find(const std::string& section, const std::string& key) const {
  for (const auto& s : sections_)
    if (s.name == section)
      for (const auto& k : s.keys)
        if (k.name == key) return &k;
  return nullptr;
}

std::string ConfigSchema::to_markdown() const {
  std::string out;
  for (const auto& s : sections_) {
    out += fmt::format("## [{}]\n\n{}\n\n| key | type | default | meaning |\n|---|---|---|---|\n", s.name, s.help);
    for (const auto& k : s.keys) {
      std::string help = k.help;
      if (!k.one_of.empty()) help += fmt::format(" One of: {}.", join_list(k.one_of));
      if (k.min || k.max)
        help += fmt::format(" Range: {}..{}.", k.min ? std::to_string(*k.min) : "",
                            k.max ? std::to_string(*k.max) : "");
      out += fmt::format("| `{}` | {} | `{}` | {} |\n", k.name, type_name(k.type),
                         value_text(k.default_value), help);
    }
    out += "\n";
  }
  return out;
}

std::string ConfigSchema::to_toml() const {
  std::string out;
  for (const auto& s : sections_) {
    out += fmt::format("# {}\n[{}]\n", s.help, s.name);
    for (const auto& k : s.keys)
      out += fmt::format("# {}\n{} = {}\n", k.help, k.name, value_text(k.default_value));
    out += "\n";
  }
  return out;
}

const ConfigValue& Config::at(const std::string& dotted) const {
  auto it = values_.find(dotted);
  if (it == values_.end()) {
    std::fprintf(stderr, "internal error: config key '%s' is not in the schema\n", dotted.c_str());
    std::abort();
  }
  return it->second;
}
const std::string& Config::str(const std::string& dotted) const { return std::get<std::string>(at(dotted)); }
std::int64_t Config::integer(const std::string& dotted) const { return std::get<std::int64_t>(at(dotted)); }
double Config::real(const std::string& dotted) const { return std::get<double>(at(dotted)); }
bool Config::boolean(const std::string& dotted) const { return std::get<bool>(at(dotted)); }

Config default_config(const ConfigSchema& schema) {
  Config config;
  for (const auto& s : schema.sections())
    for (const auto& k : s.keys) config.values_[s.name + "." + k.name] = k.default_value;
  return config;
}

Result<Config> parse_config(const ConfigSchema& schema, std::string_view toml_text,
                            const std::string& source_name) {
  toml::table root;
  try {  // toml++ reports syntax errors by exception; config loading is the one place we allow it
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: TOML syntax error: {}", where(source_name, e.source()), e.description()));
  }
  Config config = default_config(schema);
  config.source = source_name;
  std::vector<std::string> problems;
  for (const auto& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    const ConfigSection* section_schema = nullptr;
    for (const auto& s : schema.sections())
      if (s.name == section) section_schema = &s;
    if (!section_schema) {
      std::vector<std::string> names;
      for (const auto& s : schema.sections()) names.push_back(s.name);
      problems.push_back(fmt::format("{}: unknown section [{}]; expected one of: {}",
                                     where(source_name, section_node.source()), section, join_list(names)));
      continue;
    }
    const toml::table* table = section_node.as_table();
    if (!table) {
      problems.push_back(fmt::format("{}: key '{}': expected a table [{}], found {}",
                                     where(source_name, section_node.source()), section, section,
                                     describe(section_node)));
      continue;
    }
    for (const auto& [key_name, node] : *table) {
      const std::string key(key_name.str());
      const std::string dotted = section + "." + key;
      const ConfigKey* k = schema.find(section, key);
      const std::string at = where(source_name, node.source());
      if (!k) {
        std::vector<std::string> names;
        for (const auto& candidate : section_schema->keys) names.push_back(candidate.name);
        problems.push_back(fmt::format("{}: unknown key '{}' in [{}]; expected one of: {}", at, key,
                                       section, join_list(names)));
        continue;
      }
      auto mismatch = [&] {
        problems.push_back(fmt::format("{}: key '{}': expected {}, found {}", at, dotted,
                                       type_name(k->type), describe(node)));
      };
      switch (k->type) {
        case ConfigType::kString: {
          auto v = node.as_string();
          if (!v) { mismatch(); break; }
          if (!k->one_of.empty() &&
              std::find(k->one_of.begin(), k->one_of.end(), v->get()) == k->one_of.end()) {
            problems.push_back(fmt::format("{}: key '{}': expected one of {}, found \"{}\"", at, dotted,
                                           join_list(k->one_of), v->get()));
            break;
          }
          config.values_[dotted] = v->get();
          config.set_[dotted] = true;
          break;
        }
        case ConfigType::kInteger: {
          auto v = node.as_integer();
          if (!v) { mismatch(); break; }
          const std::int64_t x = v->get();
          if ((k->min && x < *k->min) || (k->max && x > *k->max)) {
            problems.push_back(fmt::format("{}: key '{}': expected an integer in {}..{}, found {}", at,
                                           dotted, k->min ? std::to_string(*k->min) : "",
                                           k->max ? std::to_string(*k->max) : "", x));
            break;
          }
          config.values_[dotted] = x;
          config.set_[dotted] = true;
          break;
        }
        case ConfigType::kFloat: {
          std::optional<double> x;
          if (auto f = node.as_floating_point()) x = f->get();
          else if (auto i = node.as_integer()) x = static_cast<double>(i->get());
          if (!x) { mismatch(); break; }
          config.values_[dotted] = *x;
          config.set_[dotted] = true;
          break;
        }
        case ConfigType::kBool: {
          auto v = node.as_boolean();
          if (!v) { mismatch(); break; }
          config.values_[dotted] = v->get();
          config.set_[dotted] = true;
          break;
        }
      }
    }
  }
  if (!problems.empty()) {
    std::string message = fmt::format("{} problem{} in {}:", problems.size(),
                                      problems.size() == 1 ? "" : "s", source_name);
    for (const auto& p : problems) message += "\n  " + p;
    return error(StatusCode::kInvalidArgument, std::move(message));
  }
  return config;
}

Result<Config> load_config(const ConfigSchema& schema, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return error(StatusCode::kNotFound,
                 fmt::format("{}: cannot open configuration file: {}", file.string(), std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(schema, buffer.str(), file.string());
}

}  // namespace resonance
