// A malformed model file gets an error naming the file, line, column and field.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "resonance/infomodel/loader.h"

namespace resonance::infomodel {
namespace {

// The built-in files with `name` replaced by `text` (or added when no file has that name).
std::vector<SourceFile> with_file(const std::string& name, const std::string& text) {
  std::vector<SourceFile> files;
  for (const auto& f : builtin_sources())
    if (f.name != name) files.push_back(f);
  files.push_back({name, text});
  return files;
}

std::string builtin_text(const std::string& name) {
  for (const auto& f : builtin_sources())
    if (f.name == name) return f.text;
  ADD_FAILURE() << "no built-in file " << name;
  return {};
}

std::string load_error(const std::vector<SourceFile>& files) {
  auto m = load_model(files);
  EXPECT_FALSE(m) << "expected the model to be refused";
  return m ? std::string() : m.error().message();
}

constexpr const char* kMinimalCategory = R"(schema_version = 1
kind = "category"

[category]
id = "oven"
name = "Oven"
description = "Industrial oven."
equipment_prefixes = ["oven"]
isa95_equipment_class = "Oven"

[[signal]]
name = "zone_temperature"
description = "Zone temperature."
type = "double"
unit = "CEL"
min = 0
max = 400
[signal.mappings]
opc40501 = "none"
euromap77_83 = "none"
vda5050 = "none"
mtconnect = "TEMPERATURE, SAMPLE"
)";

TEST(InfoModelErrors, UnknownUnitNamesFileLineColumnAndField) {
  std::string text = builtin_text("infomodel/categories/cnc.toml");
  const auto pos = text.find("unit = \"RPM\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 12, "unit = \"rpmm\"");
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
  const std::string msg = load_error(with_file("infomodel/categories/cnc.toml", text));
  EXPECT_NE(msg.find(fmt::format("infomodel/categories/cnc.toml:{}:8: signal 'spindle_speed': field "
                                 "'unit': expected a UNECE Rec 20 code", line)),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("found 'rpmm'"), std::string::npos) << msg;
}

TEST(InfoModelErrors, AddingACategoryIsData) {
  auto m = load_model(with_file("infomodel/categories/oven.toml", kMinimalCategory));
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_NE(m->find_category("oven"), nullptr);
  EXPECT_TRUE(lookup_path(*m, "p/a/l/oven-2/zone_temperature"));
  const Signal* s = m->find_category("oven")->find_signal("zone_temperature");
  // The ISA-95 and OPC 10030 mappings default to the generic equipment-property form.
  ASSERT_NE(s->mapping("isa95_b2mml"), nullptr);
  EXPECT_NE(s->mapping("isa95_b2mml")->target.find("EquipmentProperty[ID='zone_temperature']"), std::string::npos);
}

// Line numbers below are those of kMinimalCategory after the mutation.
struct Case {
  const char* name;
  std::string from, to;
  std::string expect;
  int line;  // where the error must point: the offending field, or the table that lacks one
};

// The 1-based line of byte offset `pos` in `text`.
int line_of(const std::string& text, std::size_t pos) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

// A built-in file with `from` replaced by `to` must be refused with an error at the line of the
// replacement naming `field`.
void expect_refused_at(const std::string& name, const std::string& from, const std::string& to,
                       const std::string& field) {
  std::string text = builtin_text(name);
  const auto pos = text.find(from);
  ASSERT_NE(pos, std::string::npos) << from;
  text.replace(pos, from.size(), to);
  const std::string msg = load_error(with_file(name, text));
  EXPECT_NE(msg.find(fmt::format("{}:{}:", name, line_of(text, pos))), std::string::npos)
      << "expected line " << line_of(text, pos) << " in: " << msg;
  EXPECT_NE(msg.find(field), std::string::npos) << msg;
}

class CategoryMutation : public ::testing::TestWithParam<Case> {};

TEST_P(CategoryMutation, IsRefusedWithAPreciseMessage) {
  std::string text = kMinimalCategory;
  const auto& c = GetParam();
  const auto pos = text.find(c.from);
  ASSERT_NE(pos, std::string::npos) << c.from;
  text.replace(pos, c.from.size(), c.to);
  const std::string msg = load_error(with_file("x/oven.toml", text));
  EXPECT_NE(msg.find(fmt::format("x/oven.toml:{}:", c.line)), std::string::npos)
      << "expected line " << c.line << " in: " << msg;
  EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
  // Every message but a TOML syntax error names the field (or the unknown one).
  if (std::string_view(c.name) != "syntax") {
    EXPECT_NE(msg.find("field"), std::string::npos) << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Mutations, CategoryMutation,
    ::testing::Values(
        Case{"typo_field", "unit = ", "uint = ", "unknown field 'uint'", 15},
        Case{"bad_type", "type = \"double\"", "type = \"real\"", "field 'type': expected one of bool", 14},
        Case{"min_above_max", "min = 0", "min = 500", "field 'min' (500) is greater than 'max' (400)", 16},
        Case{"missing_mapping", "vda5050 = \"none\"\n", "", "missing field 'vda5050'", 18},
        Case{"empty_mapping", "vda5050 = \"none\"", "vda5050 = \"\"", "write \"none\"", 21},
        Case{"bad_name", "name = \"zone_temperature\"", "name = \"Zone Temp\"", "lower-case identifier", 12},
        Case{"range_on_bool", "type = \"double\"", "type = \"bool\"", "do not apply to type bool", 16},
        Case{"enum_without_values", "type = \"double\"", "type = \"enum\"", "missing field 'values'", 11},
        Case{"wrong_value_type", "max = 400", "max = \"hot\"", "field 'max': expected a finite number, found the string \"hot\"", 17},
        Case{"newer_schema", "schema_version = 1", "schema_version = 2", "this build reads schema version 1, found 2", 1},
        Case{"bad_kind", "kind = \"category\"", "kind = \"categry\"", "field 'kind': expected one of", 2},
        Case{"syntax", "max = 400", "max = = 400", "TOML syntax", 17},
        Case{"duplicate_prefix", "[\"oven\"]", "[\"cnc\"]", "field 'equipment_prefixes': equipment prefix 'cnc' is also used by category 'cnc'", 8},
        Case{"duplicate_category", "id = \"oven\"", "id = \"cnc\"", "field 'id': category 'cnc' is also defined in", 5},
        Case{"integer_range_not_integral", "type = \"double\"", "type = \"int32\"\nunit2 = 1", "unknown field 'unit2'", 15},
        Case{"bad_grade", "isa95_equipment_class = \"Oven\"",
             "isa95_equipment_class = \"Oven\"\ndefault_labels = { grade = \"secret\" }", "expected core, important or general", 10}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(InfoModelErrors, AiInputMustNameARealSignal) {
  std::string text = builtin_text("infomodel/ai_interfaces.toml");
  const auto pos = text.find("signal = \"spindle_load\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 23, "signal = \"spindle_lod\"");
  const std::string msg = load_error(with_file("infomodel/ai_interfaces.toml", text));
  EXPECT_NE(msg.find("interface 'predictive_maintenance': input: field 'signal': category 'cnc' has no signal 'spindle_lod'"),
            std::string::npos) << msg;
}

// One malformed field per kind of file, each located at its line.
TEST(InfoModelErrors, ModelFileErrorsNameLineAndField) {
  expect_refused_at("infomodel/model.toml", "path_segment = 4", "path_segment = \"four\"",
                    "field 'path_segment'");
  expect_refused_at("infomodel/model.toml", "model_version = ", "model_versoin = ",
                    "unknown field 'model_versoin'");
}

TEST(InfoModelErrors, UnitsFileErrorsNameLineAndField) {
  expect_refused_at("infomodel/units.toml", "code = \"C62\"", "code = \"c62x\"", "field 'code'");
  expect_refused_at("infomodel/units.toml", "symbol = \"mm\"", "symbol = 3", "field 'symbol'");
}

TEST(InfoModelErrors, AiInterfaceFileErrorsNameLineAndField) {
  expect_refused_at("infomodel/ai_interfaces.toml", "signal = \"spindle_load\"",
                    "signal = \"spindle_lod\"", "field 'signal'");
  expect_refused_at("infomodel/ai_interfaces.toml", "window_s = 3600", "window_s = -1",
                    "field 'window_s'");
}

TEST(InfoModelErrors, CategoryFileErrorsNameLineAndField) {
  expect_refused_at("infomodel/categories/robot.toml", "min = -185", "min = \"-185\"", "field 'min'");
  expect_refused_at("infomodel/categories/agv.toml", "values = { 0 = \"idle\"", "values = { x = \"idle\"",
                    "field 'values'");
}

TEST(InfoModelErrors, BadUnitCodeInUnitsFile) {
  std::string text = builtin_text("infomodel/units.toml");
  const auto pos = text.find("code = \"C62\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 12, "code = \"c62x\"");
  const std::string msg = load_error(with_file("infomodel/units.toml", text));
  EXPECT_NE(msg.find("infomodel/units.toml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 or 3 characters"), std::string::npos) << msg;
}

TEST(InfoModelErrors, EveryProblemIsReported) {
  std::string text = kMinimalCategory;
  text.replace(text.find("unit = \"CEL\""), 12, "unit = \"XYZ\"");
  text.replace(text.find("min = 0"), 7, "min = 999");
  const std::string msg = load_error(with_file("x/oven.toml", text));
  EXPECT_NE(msg.find("found 'XYZ'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is greater than 'max'"), std::string::npos) << msg;
}

TEST(InfoModelErrors, ValidatePathReplacesTheBuiltinFileOfTheSameName) {
  const auto dir = std::filesystem::temp_directory_path() / ("resonance_infomodel_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "oven.toml") << kMinimalCategory;
    auto ok = validate_path(dir / "oven.toml");
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->categories.size(), 13u);
  }
  {
    std::string text = builtin_text("infomodel/categories/cnc.toml");
    text.replace(text.find("unit = \"RPM\""), 12, "unit = \"rpmm\"");
    std::ofstream(dir / "cnc.toml") << text;
    auto bad = validate_path(dir / "cnc.toml");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find((dir / "cnc.toml").string() + ":"), std::string::npos)
        << bad.error().message();
  }
  EXPECT_FALSE(validate_path(dir / "missing.toml"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::infomodel
