#pragma once
// Declarative configuration: each component describes its section as a table of keys (name, type,
// default, help, bounds), and one loader turns a TOML file into checked values. The same tables
// drive `config check`, defaults and the generated reference (docs/configuration.md), so an option
// is described in exactly one place.
//
// Every error names the file, line and column, the key, what was expected and what was found.
// Unknown sections and keys are errors: a misspelt option must never be silently ignored.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "resonance/core/status.h"

namespace resonance {

enum class ConfigType { kString, kInteger, kFloat, kBool };

using ConfigValue = std::variant<std::string, std::int64_t, double, bool>;

struct ConfigKey {
  std::string name;
  ConfigType type = ConfigType::kString;
  ConfigValue default_value;
  std::string help;
  std::optional<std::int64_t> min;        // integers only
  std::optional<std::int64_t> max;        // integers only
  std::vector<std::string> one_of;        // strings only; empty = any
};

struct ConfigSection {
  std::string name;  // top-level TOML table, e.g. "historian"
  std::string help;
  std::vector<ConfigKey> keys;
};

class ConfigSchema {
 public:
  void add(ConfigSection section) { sections_.push_back(std::move(section)); }
  const std::vector<ConfigSection>& sections() const { return sections_; }
  const ConfigKey* find(const std::string& section, const std::string& key) const;
  // Markdown reference of every section and key (docs/configuration.md is generated from this).
  std::string to_markdown() const;
  // A complete TOML file with every key at its default and its help as a comment.
  std::string to_toml() const;

 private:
  std::vector<ConfigSection> sections_;
};

// Checked values with defaults applied. Accessors take "section.key"; asking for a key that the
// schema does not have, or with the wrong type, is a programming error and aborts.
class Config {
 public:
  const std::string& str(const std::string& dotted) const;
  std::int64_t integer(const std::string& dotted) const;
  double real(const std::string& dotted) const;
  bool boolean(const std::string& dotted) const;
  bool was_set(const std::string& dotted) const { return set_.contains(dotted); }
  void set(const std::string& dotted, ConfigValue value) { values_[dotted] = std::move(value); }
  std::filesystem::path source;  // empty when built from defaults

 private:
  friend Result<Config> parse_config(const ConfigSchema&, std::string_view, const std::string&);
  friend Config default_config(const ConfigSchema&);
  const ConfigValue& at(const std::string& dotted) const;
  std::map<std::string, ConfigValue> values_;
  std::map<std::string, bool> set_;
};

Config default_config(const ConfigSchema& schema);
// `source_name` is what error messages call the input (the file path).
Result<Config> parse_config(const ConfigSchema& schema, std::string_view toml_text,
                            const std::string& source_name);
Result<Config> load_config(const ConfigSchema& schema, const std::filesystem::path& file);

}  // namespace resonance
