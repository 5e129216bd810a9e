#include "resonance/infomodel/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace resonance::infomodel {

namespace {

// Collects every problem of one file with its location; the loader reports them all at once.
class FileReader {
 public:
  FileReader(std::string file, std::vector<std::string>& errors)
      : file_(std::move(file)), errors_(errors) {}

  const std::string& file() const { return file_; }

  void fail(const toml::node& at, std::string_view context, std::string_view message) {
    const auto& b = at.source().begin;
    errors_.push_back(fmt::format("{}:{}:{}: {}{}{}", file_, b.line, b.column, context,
                                  context.empty() ? "" : ": ", message));
  }

  SourceLocation where(const toml::node& at) const {
    return {file_, at.source().begin.line, at.source().begin.column};
  }

  // Unknown keys are errors: a typo ("uint" for "unit") must not be silently ignored.
  void check_keys(const toml::table& table, std::string_view context,
                  std::initializer_list<std::string_view> allowed) {
    for (auto&& [key, value] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(value, context, fmt::format("unknown field '{}' (allowed: {})", key.str(), list));
    }
  }

  static std::string describe(const toml::node& node) {
    if (auto s = node.as_string()) return fmt::format("the string \"{}\"", s->get());
    if (auto i = node.as_integer()) return fmt::format("the integer {}", i->get());
    if (auto f = node.as_floating_point()) return fmt::format("the number {}", f->get());
    if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
    if (node.is_table()) return "a table";
    if (node.is_array()) return "an array";
    return "a date/time";
  }

  const toml::node* field(const toml::table& table, std::string_view key, std::string_view context,
                          bool required) {
    const toml::node* node = table.get(key);
    if (node == nullptr && required)
      fail(table, context, fmt::format("missing field '{}'", key));
    return node;
  }

  std::optional<std::string> str(const toml::table& table, std::string_view key,
                                 std::string_view context, bool required = true) {
    const auto* node = field(table, key, context, required);
    if (node == nullptr) return std::nullopt;
    if (auto s = node->as_string()) return s->get();
    fail(*node, context, fmt::format("field '{}': expected a string, found {}", key, describe(*node)));
    return std::nullopt;
  }

  std::optional<double> number(const toml::table& table, std::string_view key,
                               std::string_view context, bool required = true) {
    const auto* node = field(table, key, context, required);
    if (node == nullptr) return std::nullopt;
    if (auto i = node->as_integer()) return static_cast<double>(i->get());
    if (auto f = node->as_floating_point()) {
      if (std::isfinite(f->get())) return f->get();
    }
    fail(*node, context,
         fmt::format("field '{}': expected a finite number, found {}", key, describe(*node)));
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(const toml::table& table, std::string_view key,
                                      std::string_view context, bool required = true) {
    const auto* node = field(table, key, context, required);
    if (node == nullptr) return std::nullopt;
    if (auto i = node->as_integer()) return i->get();
    fail(*node, context, fmt::format("field '{}': expected an integer, found {}", key, describe(*node)));
    return std::nullopt;
  }

  std::optional<bool> boolean(const toml::table& table, std::string_view key,
                              std::string_view context, bool required = true) {
    const auto* node = field(table, key, context, required);
    if (node == nullptr) return std::nullopt;
    if (auto b = node->as_boolean()) return b->get();
    fail(*node, context, fmt::format("field '{}': expected true or false, found {}", key, describe(*node)));
    return std::nullopt;
  }

  const toml::table* table(const toml::table& parent, std::string_view key,
                           std::string_view context, bool required = true) {
    const auto* node = field(parent, key, context, required);
    if (node == nullptr) return nullptr;
    if (auto t = node->as_table()) return t;
    fail(*node, context, fmt::format("field '{}': expected a table, found {}", key, describe(*node)));
    return nullptr;
  }

  // An array of tables ([[key]]); returns the tables, reporting non-table elements.
  std::vector<const toml::table*> tables(const toml::table& parent, std::string_view key,
                                         std::string_view context, bool required = true) {
    std::vector<const toml::table*> out;
    const auto* node = field(parent, key, context, required);
    if (node == nullptr) return out;
    const auto* array = node->as_array();
    if (array == nullptr) {
      fail(*node, context, fmt::format("field '{}': expected an array of tables ([[{}]]), found {}",
                                       key, key, describe(*node)));
      return out;
    }
    for (const auto& element : *array) {
      if (auto t = element.as_table()) out.push_back(t);
      else fail(element, context, fmt::format("field '{}': expected a table, found {}", key, describe(element)));
    }
    return out;
  }

  std::vector<std::string> strings(const toml::table& parent, std::string_view key,
                                   std::string_view context, bool required = true) {
    std::vector<std::string> out;
    const auto* node = field(parent, key, context, required);
    if (node == nullptr) return out;
    const auto* array = node->as_array();
    if (array == nullptr) {
      fail(*node, context, fmt::format("field '{}': expected an array of strings, found {}", key, describe(*node)));
      return out;
    }
    for (const auto& element : *array) {
      if (auto s = element.as_string()) out.push_back(s->get());
      else fail(element, context, fmt::format("field '{}': expected a string, found {}", key, describe(element)));
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<std::string>& errors_;
};

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

void check_identifier(FileReader& r, const toml::table& t, std::string_view key,
                      std::string_view context, const std::string& value) {
  if (!is_identifier(value))
    r.fail(*t.get(key), context,
           fmt::format("field '{}': expected a lower-case identifier [a-z][a-z0-9_]* of at most 64 "
                       "characters, found '{}'", key, value));
}

// The range an integer type can hold, for checking min/max and sample values.
std::pair<double, double> type_bounds(DataType type) {
  switch (type) {
    case DataType::kBool: return {0, 1};
    case DataType::kInt32: return {-2147483648.0, 2147483647.0};
    case DataType::kUInt32: return {0, 4294967295.0};
    case DataType::kInt64: return {-9007199254740992.0, 9007199254740992.0};  // exact in a double
    case DataType::kEnum: return {-2147483648.0, 2147483647.0};
    case DataType::kFloat: return {-3.4028234663852886e38, 3.4028234663852886e38};
    case DataType::kDouble: return {-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  }
  return {0, 0};
}

struct Header {
  std::string kind;
  bool ok = false;
};

Header read_header(FileReader& r, const toml::table& root) {
  Header h;
  const auto version = r.integer(root, "schema_version", "");
  const auto kind = r.str(root, "kind", "");
  if (version && *version != kSchemaVersion) {
    r.fail(*root.get("schema_version"), "",
           fmt::format("field 'schema_version': this build reads schema version {}, found {}",
                       kSchemaVersion, *version));
    return h;
  }
  if (kind && *kind != "model" && *kind != "units" && *kind != "category" && *kind != "ai_interfaces") {
    r.fail(*root.get("kind"), "",
           fmt::format("field 'kind': expected one of model, units, category, ai_interfaces, found '{}'", *kind));
    return h;
  }
  if (!version || !kind) return h;
  h.kind = *kind;
  h.ok = true;
  return h;
}

// Shared by signals and AI outputs: type, unit, range, enum values.
struct TypedValue {
  DataType type = DataType::kDouble;
  std::string unit;
  std::optional<double> min, max;
  std::map<std::int64_t, std::string> values;
};

void read_typed(FileReader& r, const toml::table& t, const std::string& context,
                const std::set<std::string>& unit_codes, TypedValue& out) {
  if (auto type_text = r.str(t, "type", context)) {
    if (auto type = parse_data_type(*type_text)) out.type = *type;
    else r.fail(*t.get("type"), context,
                fmt::format("field 'type': expected one of bool, int32, uint32, int64, float, "
                            "double, enum, found '{}'", *type_text));
  }
  if (auto unit = r.str(t, "unit", context, false)) {
    if (!unit_codes.contains(*unit))
      r.fail(*t.get("unit"), context,
             fmt::format("field 'unit': expected a UNECE Rec 20 code listed in units.toml, found '{}'",
                         *unit));
    out.unit = *unit;
  }
  const bool ranged = out.type != DataType::kBool && out.type != DataType::kEnum;
  out.min = r.number(t, "min", context, ranged);
  out.max = r.number(t, "max", context, ranged);
  if (!ranged && (t.get("min") || t.get("max")))
    r.fail(t.get("min") ? *t.get("min") : *t.get("max"), context,
           fmt::format("fields 'min'/'max' do not apply to type {}", to_string(out.type)));
  if (out.min && out.max && *out.min > *out.max)
    r.fail(*t.get("min"), context, fmt::format("field 'min' ({}) is greater than 'max' ({})", *out.min, *out.max));
  if (ranged && is_integer(out.type)) {
    const auto [lo, hi] = type_bounds(out.type);
    for (const char* key : {"min", "max"}) {
      const auto v = std::string_view(key) == "min" ? out.min : out.max;
      if (v && (*v != std::trunc(*v) || *v < lo || *v > hi))
        r.fail(*t.get(key), context,
               fmt::format("field '{}': {} is not a value of type {}", key, *v, to_string(out.type)));
    }
  }
  const toml::table* values = r.table(t, "values", context, out.type == DataType::kEnum);
  if (values != nullptr && out.type != DataType::kEnum)
    r.fail(*t.get("values"), context, "field 'values' applies only to type enum");
  if (values != nullptr && out.type == DataType::kEnum) {
    for (auto&& [key, value] : *values) {
      std::int64_t number = 0;
      const auto text = key.str();
      const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec != std::errc() || p != text.data() + text.size() || number < INT32_MIN || number > INT32_MAX) {
        r.fail(value, context, fmt::format("field 'values': key '{}' is not an int32 number", text));
        continue;
      }
      if (auto s = value.as_string()) out.values[number] = s->get();
      else r.fail(value, context, fmt::format("field 'values': value of {} must be a string", number));
    }
    if (values->empty()) r.fail(*values, context, "field 'values': an enum needs at least one value");
  }
}

std::vector<Mapping> read_mappings(FileReader& r, const toml::table& parent,
                                   const std::string& context, const std::string& isa95_default,
                                   const std::string& opc10030_default) {
  std::vector<Mapping> out;
  const toml::table* t = r.table(parent, "mappings", context);
  if (t == nullptr) return out;
  const std::string ctx = context + ": mappings";
  r.check_keys(*t, ctx, {"opc40501", "euromap77_83", "vda5050", "mtconnect", "isa95_b2mml", "opc10030", "other"});
  for (auto standard : kStandards) {
    const bool defaulted = standard == "isa95_b2mml" || standard == "opc10030";
    auto target = r.str(*t, standard, ctx, !defaulted);
    if (target && target->empty()) {
      r.fail(*t->get(standard), ctx, fmt::format("field '{}': empty; write \"none\" when the standard "
                                                 "has no counterpart", standard));
      continue;
    }
    if (!target && defaulted) target = standard == "isa95_b2mml" ? isa95_default : opc10030_default;
    if (target) out.push_back({std::string(standard), *target});
  }
  if (auto other = r.str(*t, "other", ctx, false)) out.push_back({"other", *other});
  return out;
}

Labels read_labels(FileReader& r, const toml::table& parent, std::string_view key,
                   const std::string& context, const Labels& defaults) {
  Labels out = defaults;
  const toml::table* t = r.table(parent, key, context, false);
  if (t == nullptr) return out;
  const std::string ctx = context + ": " + std::string(key);
  r.check_keys(*t, ctx, {"grade", "personal", "trade_secret"});
  if (auto g = r.str(*t, "grade", ctx, false)) {
    if (*g != "core" && *g != "important" && *g != "general")
      r.fail(*t->get("grade"), ctx, fmt::format("field 'grade': expected core, important or general, found '{}'", *g));
    out.grade = *g;
  }
  if (auto p = r.str(*t, "personal", ctx, false)) {
    if (*p != "none" && *p != "personal" && *p != "sensitive")
      r.fail(*t->get("personal"), ctx, fmt::format("field 'personal': expected none, personal or sensitive, found '{}'", *p));
    out.personal = *p;
  }
  if (auto s = r.boolean(*t, "trade_secret", ctx, false)) out.trade_secret = *s;
  return out;
}

void read_model_file(FileReader& r, const toml::table& root, Model& model) {
  r.check_keys(root, "", {"schema_version", "kind", "model_version", "name", "level"});
  if (auto v = r.str(root, "model_version", "")) {
    int parts = 0;
    bool ok = !v->empty();
    std::size_t start = 0;
    while (ok && start <= v->size()) {
      const auto dot = v->find('.', start);
      const auto part = std::string_view(*v).substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      ok = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      ++parts;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!ok || parts != 3)
      r.fail(*root.get("model_version"), "", fmt::format("field 'model_version': expected MAJOR.MINOR.PATCH, found '{}'", *v));
    model.model_version = *v;
  }
  if (auto n = r.str(root, "name", "")) model.name = *n;
  std::set<std::string> ids;
  for (const toml::table* t : r.tables(root, "level", "")) {
    HierarchyLevel level;
    const std::string ctx = "level";
    r.check_keys(*t, ctx, {"id", "name", "isa95", "opc10030_level", "path_segment", "description"});
    if (auto id = r.str(*t, "id", ctx)) {
      check_identifier(r, *t, "id", ctx, *id);
      if (!ids.insert(*id).second) r.fail(*t->get("id"), ctx, fmt::format("level '{}' defined twice", *id));
      level.id = *id;
    }
    const std::string lctx = fmt::format("level '{}'", level.id);
    if (auto v = r.str(*t, "name", lctx)) level.name = *v;
    if (auto v = r.str(*t, "isa95", lctx)) level.isa95 = *v;
    if (auto v = r.integer(*t, "opc10030_level", lctx)) {
      if (*v < 0 || *v > 14)
        r.fail(*t->get("opc10030_level"), lctx, fmt::format("field 'opc10030_level': ISA95EquipmentElementLevelEnum has values 0..14, found {}", *v));
      level.opc10030_level = *v;
    }
    if (auto v = r.integer(*t, "path_segment", lctx)) {
      if (*v < 0 || *v > 5)
        r.fail(*t->get("path_segment"), lctx, fmt::format("field 'path_segment': expected 0..5, found {}", *v));
      level.path_segment = *v;
    }
    if (auto v = r.str(*t, "description", lctx, false)) level.description = *v;
    model.hierarchy.push_back(std::move(level));
  }
  if (model.hierarchy.empty()) r.fail(root, "", "the model needs at least one [[level]]");
}

void read_units_file(FileReader& r, const toml::table& root, Model& model) {
  r.check_keys(root, "", {"schema_version", "kind", "unit"});
  std::set<std::string> codes;
  for (const toml::table* t : r.tables(root, "unit", "")) {
    r.check_keys(*t, "unit", {"code", "symbol", "name"});
    Unit unit;
    if (auto code = r.str(*t, "code", "unit")) {
      // Rec 20 common codes are two or three upper-case letters or digits.
      const bool ok = code->size() >= 2 && code->size() <= 3 &&
                      std::all_of(code->begin(), code->end(), [](char c) {
                        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                      });
      if (!ok)
        r.fail(*t->get("code"), "unit", fmt::format("field 'code': a UNECE Rec 20 common code is 2 or 3 "
                                                    "characters A-Z 0-9, found '{}'", *code));
      if (!codes.insert(*code).second) r.fail(*t->get("code"), "unit", fmt::format("unit '{}' defined twice", *code));
      unit.code = *code;
      unit.unit_id = unece_unit_id(*code);
    }
    const std::string ctx = fmt::format("unit '{}'", unit.code);
    if (auto v = r.str(*t, "symbol", ctx)) unit.symbol = *v;
    if (auto v = r.str(*t, "name", ctx)) unit.name = *v;
    model.units.push_back(std::move(unit));
  }
}

void read_category_file(FileReader& r, const toml::table& root, const std::set<std::string>& units,
                        Model& model) {
  r.check_keys(root, "", {"schema_version", "kind", "category", "signal", "event"});
  Category cat;
  cat.file = r.file();
  Labels default_labels;
  double default_rate = 1.0;
  if (const toml::table* t = r.table(root, "category", "")) {
    r.check_keys(*t, "category", {"id", "name", "description", "equipment_prefixes",
                                  "isa95_equipment_class", "default_rate_hz", "default_labels",
                                  "companion_types"});
    if (auto id = r.str(*t, "id", "category")) {
      check_identifier(r, *t, "id", "category", *id);
      cat.id = *id;
      cat.id_where = r.where(*t->get("id"));
    }
    const std::string ctx = fmt::format("category '{}'", cat.id);
    if (auto v = r.str(*t, "name", ctx)) cat.name = *v;
    if (auto v = r.str(*t, "description", ctx)) cat.description = *v;
    cat.equipment_prefixes = r.strings(*t, "equipment_prefixes", ctx);
    if (const auto* node = t->get("equipment_prefixes")) cat.prefixes_where = r.where(*node);
    for (const auto& p : cat.equipment_prefixes)
      if (!is_identifier(p) || std::isdigit(static_cast<unsigned char>(p.back())))
        r.fail(*t->get("equipment_prefixes"), ctx,
               fmt::format("field 'equipment_prefixes': '{}' must be a lower-case identifier not "
                           "ending in a digit (the instance number follows it)", p));
    if (cat.equipment_prefixes.empty() && t->get("equipment_prefixes"))
      r.fail(*t->get("equipment_prefixes"), ctx, "field 'equipment_prefixes': needs at least one prefix");
    if (auto v = r.str(*t, "isa95_equipment_class", ctx)) cat.isa95_equipment_class = *v;
    cat.companion_types = r.strings(*t, "companion_types", ctx, false);
    if (auto v = r.number(*t, "default_rate_hz", ctx, false)) {
      if (*v <= 0 || *v > 100000) r.fail(*t->get("default_rate_hz"), ctx, fmt::format("field 'default_rate_hz': expected 0 < rate <= 100000, found {}", *v));
      default_rate = *v;
    }
    default_labels = read_labels(r, *t, "default_labels", ctx, Labels{});
  }
  for (const toml::table* t : r.tables(root, "signal", "")) {
    Signal s;
    s.where = r.where(*t);
    r.check_keys(*t, "signal", {"name", "description", "type", "unit", "min", "max", "values",
                                "rate_hz", "labels", "mappings"});
    if (auto name = r.str(*t, "name", "signal")) {
      check_identifier(r, *t, "name", "signal", *name);
      if (cat.find_signal(*name)) r.fail(*t->get("name"), "signal", fmt::format("signal '{}' defined twice in category '{}'", *name, cat.id));
      s.name = *name;
    }
    const std::string ctx = fmt::format("signal '{}'", s.name);
    if (auto v = r.str(*t, "description", ctx)) s.description = *v;
    TypedValue typed;
    read_typed(r, *t, ctx, units, typed);
    s.type = typed.type;
    s.unit = typed.unit;
    s.min = typed.min;
    s.max = typed.max;
    s.values = std::move(typed.values);
    s.rate_hz = default_rate;
    if (auto v = r.number(*t, "rate_hz", ctx, false)) {
      if (*v <= 0 || *v > 100000) r.fail(*t->get("rate_hz"), ctx, fmt::format("field 'rate_hz': expected 0 < rate <= 100000, found {}", *v));
      s.rate_hz = *v;
    }
    s.labels = read_labels(r, *t, "labels", ctx, default_labels);
    s.mappings = read_mappings(
        r, *t, ctx,
        fmt::format("Equipment/EquipmentProperty[ID='{}'] (B2MML-Equipment.xsd); EquipmentClassProperty of '{}'",
                    s.name, cat.isa95_equipment_class),
        fmt::format("ISA95EquipmentType instance, HasISA95Property -> '{}'", s.name));
    cat.signals.push_back(std::move(s));
  }
  if (cat.signals.empty()) r.fail(root, fmt::format("category '{}'", cat.id), "a category needs at least one [[signal]]");
  for (const toml::table* t : r.tables(root, "event", "", false)) {
    Event e;
    e.where = r.where(*t);
    r.check_keys(*t, "event", {"name", "kind", "description", "signal", "mappings"});
    if (auto name = r.str(*t, "name", "event")) {
      check_identifier(r, *t, "name", "event", *name);
      e.name = *name;
    }
    const std::string ctx = fmt::format("event '{}'", e.name);
    if (auto v = r.str(*t, "kind", ctx)) {
      static constexpr std::string_view kKinds[] = {"alarm", "program_change", "tool_change", "job_start",
                                                    "job_end", "cycle", "state_change", "quality_result"};
      if (std::find(std::begin(kKinds), std::end(kKinds), *v) == std::end(kKinds))
        r.fail(*t->get("kind"), ctx, fmt::format("field 'kind': expected one of alarm, program_change, tool_change, "
                                                 "job_start, job_end, cycle, state_change, quality_result, found '{}'", *v));
      e.kind = *v;
    }
    if (auto v = r.str(*t, "description", ctx)) e.description = *v;
    if (auto v = r.str(*t, "signal", ctx, false)) {
      if (!cat.find_signal(*v))
        r.fail(*t->get("signal"), ctx, fmt::format("field 'signal': category '{}' has no signal '{}'", cat.id, *v));
      e.signal = *v;
    }
    e.mappings = read_mappings(r, *t, ctx, "OperationsEvent (B2MML-OperationsEvent.xsd)",
                               "none: OPC 10030 defines no event types");
    cat.events.push_back(std::move(e));
  }
  model.categories.push_back(std::move(cat));
}

void read_ai_file(FileReader& r, const toml::table& root, const std::set<std::string>& units,
                  const Model& model, std::vector<AiInterface>& out) {
  r.check_keys(root, "", {"schema_version", "kind", "interface"});
  std::set<std::string> ids;
  for (const toml::table* t : r.tables(root, "interface", "")) {
    AiInterface ai;
    r.check_keys(*t, "interface", {"id", "name", "operations_category", "description", "input", "output", "delivery"});
    if (auto id = r.str(*t, "id", "interface")) {
      check_identifier(r, *t, "id", "interface", *id);
      if (!ids.insert(*id).second) r.fail(*t->get("id"), "interface", fmt::format("interface '{}' defined twice", *id));
      ai.id = *id;
    }
    const std::string ctx = fmt::format("interface '{}'", ai.id);
    if (auto v = r.str(*t, "name", ctx)) ai.name = *v;
    if (auto v = r.str(*t, "description", ctx)) ai.description = *v;
    if (auto v = r.str(*t, "operations_category", ctx)) {
      if (*v != "production" && *v != "maintenance" && *v != "quality" && *v != "inventory")
        r.fail(*t->get("operations_category"), ctx,
               fmt::format("field 'operations_category': expected production, maintenance, quality or "
                           "inventory (IEC 62264-3), found '{}'", *v));
      ai.operations_category = *v;
    }
    for (const toml::table* in : r.tables(*t, "input", ctx)) {
      AiInput input;
      const std::string ictx = ctx + ": input";
      r.check_keys(*in, ictx, {"category", "signal", "window_s"});
      if (auto v = r.str(*in, "category", ictx)) input.category = *v;
      if (auto v = r.str(*in, "signal", ictx)) input.signal = *v;
      if (auto v = r.number(*in, "window_s", ictx)) {
        if (*v < 0) r.fail(*in->get("window_s"), ictx, fmt::format("field 'window_s': must be >= 0, found {}", *v));
        input.window_s = *v;
      }
      if (input.category == "*") {
        if (!input.signal.empty() && input.signal != "*")
          r.fail(*in->get("signal"), ictx, "field 'signal': with category \"*\" the signal must be \"*\"");
      } else if (!input.category.empty()) {
        const Category* c = model.find_category(input.category);
        if (c == nullptr)
          r.fail(*in->get("category"), ictx, fmt::format("field 'category': no category '{}'", input.category));
        else if (!input.signal.empty() && input.signal != "*" && !c->find_signal(input.signal))
          r.fail(*in->get("signal"), ictx, fmt::format("field 'signal': category '{}' has no signal '{}'",
                                                       input.category, input.signal));
      }
      ai.inputs.push_back(std::move(input));
    }
    if (ai.inputs.empty() && t->get("input")) r.fail(*t, ctx, "an interface needs at least one input");
    for (const toml::table* o : r.tables(*t, "output", ctx)) {
      AiOutput output;
      r.check_keys(*o, ctx + ": output", {"name", "type", "unit", "min", "max", "values", "description"});
      if (auto v = r.str(*o, "name", ctx + ": output")) {
        check_identifier(r, *o, "name", ctx + ": output", *v);
        output.name = *v;
      }
      const std::string octx = fmt::format("{}: output '{}'", ctx, output.name);
      TypedValue typed;
      read_typed(r, *o, octx, units, typed);
      output.type = typed.type;
      output.unit = typed.unit;
      output.min = typed.min;
      output.max = typed.max;
      output.values = std::move(typed.values);
      if (auto v = r.str(*o, "description", octx)) output.description = *v;
      ai.outputs.push_back(std::move(output));
    }
    if (ai.outputs.empty() && t->get("output")) r.fail(*t, ctx, "an interface needs at least one output");
    if (const toml::table* d = r.table(*t, "delivery", ctx)) {
      const std::string dctx = ctx + ": delivery";
      r.check_keys(*d, dctx, {"isa95_object", "b2mml", "opcua", "mqtt"});
      if (auto v = r.str(*d, "isa95_object", dctx)) ai.delivery.isa95_object = *v;
      if (auto v = r.str(*d, "b2mml", dctx)) ai.delivery.b2mml = *v;
      if (auto v = r.str(*d, "opcua", dctx)) ai.delivery.opcua = *v;
      if (auto v = r.str(*d, "mqtt", dctx)) ai.delivery.mqtt = *v;
    }
    out.push_back(std::move(ai));
  }
}

struct Parsed {
  const SourceFile* source;
  toml::table root;
  std::string kind;
};

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

Result<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error(StatusCode::kIoError, fmt::format("{}: cannot open for reading", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return error(StatusCode::kIoError, fmt::format("{}: read failed", path.string()));
  return ss.str();
}

}  // namespace

Result<Model> load_model(std::span<const SourceFile> files) {
  std::vector<std::string> errors;
  std::vector<Parsed> parsed;
  for (const auto& f : files) {
    FileReader r(f.name, errors);
    toml::table root;
    try {  // toml++ reports syntax errors by exception; model loading is start-up/CLI only
      root = toml::parse(f.text, f.name);
    } catch (const toml::parse_error& e) {
      errors.push_back(fmt::format("{}:{}:{}: TOML syntax: {}", f.name, e.source().begin.line,
                                   e.source().begin.column, e.description()));
      continue;
    }
    const Header h = read_header(r, root);
    if (h.ok) parsed.push_back({&f, std::move(root), h.kind});
  }
  auto count = [&](std::string_view kind) {
    return std::count_if(parsed.begin(), parsed.end(), [&](const Parsed& p) { return p.kind == kind; });
  };
  if (errors.empty()) {
    if (count("model") != 1) errors.push_back(fmt::format("model: expected exactly one file of kind \"model\", found {}", count("model")));
    if (count("units") != 1) errors.push_back(fmt::format("model: expected exactly one file of kind \"units\", found {}", count("units")));
    if (count("ai_interfaces") > 1) errors.push_back("model: more than one file of kind \"ai_interfaces\"");
  }
  Model model;
  // Order matters: units before categories (units are referenced), categories before AI
  // interfaces (their inputs reference signals).
  for (const auto* kind : {"model", "units", "category", "ai_interfaces"}) {
    std::set<std::string> unit_codes;
    for (const auto& u : model.units) unit_codes.insert(u.code);
    for (const auto& p : parsed) {
      if (p.kind != kind) continue;
      FileReader r(p.source->name, errors);
      if (p.kind == "model") read_model_file(r, p.root, model);
      else if (p.kind == "units") read_units_file(r, p.root, model);
      else if (p.kind == "category") {
        read_category_file(r, p.root, unit_codes, model);
        const auto& added = model.categories.back();
        for (std::size_t i = 0; i + 1 < model.categories.size(); ++i) {
          const auto& other = model.categories[i];
          // Found across files, so reported here with the location the reader kept.
          if (!added.id.empty() && other.id == added.id)
            errors.push_back(fmt::format("{}:{}:{}: category '{}': field 'id': category '{}' is also defined in {}",
                                         added.file, added.id_where.line, added.id_where.column,
                                         added.id, added.id, other.file));
          for (const auto& p1 : added.equipment_prefixes)
            for (const auto& p2 : other.equipment_prefixes)
              if (p1 == p2)
                errors.push_back(fmt::format(
                    "{}:{}:{}: category '{}': field 'equipment_prefixes': equipment prefix '{}' is "
                    "also used by category '{}' ({})",
                    added.file, added.prefixes_where.line, added.prefixes_where.column, added.id, p1,
                    other.id, other.file));
        }
      } else read_ai_file(r, p.root, unit_codes, model, model.ai_interfaces);
    }
    if (std::string_view(kind) == "category")
      std::sort(model.categories.begin(), model.categories.end(),
                [](const Category& a, const Category& b) { return a.id < b.id; });
  }
  if (!errors.empty()) return error(StatusCode::kInvalidArgument, join_lines(errors));
  return model;
}

Result<std::vector<SourceFile>> read_model_dir(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  for (const char* name : {"model.toml", "units.toml", "ai_interfaces.toml"})
    if (std::filesystem::exists(dir / name)) paths.push_back(dir / name);
  std::error_code ec;
  std::vector<std::filesystem::path> categories;
  for (std::filesystem::directory_iterator it(dir / "categories", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".toml") categories.push_back(it->path());
  if (ec) return error(StatusCode::kIoError, fmt::format("{}: cannot list: {}", (dir / "categories").string(), ec.message()));
  std::sort(categories.begin(), categories.end());
  paths.insert(paths.end(), categories.begin(), categories.end());
  std::vector<SourceFile> files;
  for (const auto& p : paths) {
    auto text = read_text(p);
    if (!text) return error(text.error());
    files.push_back({p.generic_string(), std::move(*text)});
  }
  return files;
}

Result<Model> load_model_dir(const std::filesystem::path& dir) {
  auto files = read_model_dir(dir);
  if (!files) return error(files.error());
  return load_model(*files);
}

const Model& builtin_model() {
  static const Model model = [] {
    auto loaded = load_model(builtin_sources());
    if (!loaded) {
      std::fprintf(stderr, "built-in information model is invalid (a build defect):\n%s\n",
                   loaded.error().message().c_str());
      std::abort();
    }
    return std::move(*loaded);
  }();
  return model;
}

Result<Model> load_model_overlay(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    return error(StatusCode::kInvalidArgument, fmt::format("{}: not a directory of model files", dir.string()));
  // Relative name ("categories/cnc.toml") → file; the built-in ones first, then DIR's over them.
  std::vector<std::pair<std::string, SourceFile>> files;
  constexpr std::string_view kBuiltinPrefix = "infomodel/";
  for (const auto& f : builtin_sources()) {
    std::string rel = f.name;
    if (rel.starts_with(kBuiltinPrefix)) rel.erase(0, kBuiltinPrefix.size());
    files.emplace_back(std::move(rel), f);
  }
  std::vector<std::string> relative;
  for (const char* name : {"model.toml", "units.toml", "ai_interfaces.toml"})
    if (std::filesystem::exists(dir / name)) relative.emplace_back(name);
  std::error_code ec;
  if (std::filesystem::is_directory(dir / "categories")) {
    std::vector<std::string> categories;
    for (std::filesystem::directory_iterator it(dir / "categories", ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".toml") categories.push_back("categories/" + it->path().filename().string());
    if (ec)
      return error(StatusCode::kIoError, fmt::format("{}: cannot list: {}", (dir / "categories").string(), ec.message()));
    std::sort(categories.begin(), categories.end());
    relative.insert(relative.end(), categories.begin(), categories.end());
  }
  if (relative.empty())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: no model files (expected model.toml, units.toml, ai_interfaces.toml or "
                             "categories/*.toml)",
                             dir.string()));
  for (const auto& rel : relative) {
    const auto path = dir / rel;
    auto text = read_text(path);
    if (!text) return error(text.error());
    SourceFile file{path.generic_string(), std::move(*text)};
    const auto same = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.first == rel; });
    if (same != files.end()) same->second = std::move(file);
    else files.emplace_back(rel, std::move(file));
  }
  std::vector<SourceFile> sources;
  sources.reserve(files.size());
  for (auto& [rel, file] : files) sources.push_back(std::move(file));
  return load_model(sources);
}

Result<Model> validate_path(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) return load_model_dir(path);
  auto text = read_text(path);
  if (!text) return error(text.error());
  std::vector<SourceFile> files;
  const std::string base = path.filename().string();
  for (const auto& f : builtin_sources())
    if (std::filesystem::path(f.name).filename().string() != base) files.push_back(f);
  files.push_back({path.string(), std::move(*text)});
  return load_model(files);
}

}  // namespace resonance::infomodel
