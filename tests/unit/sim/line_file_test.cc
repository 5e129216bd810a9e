// Line files: the examples load, and each kind of mistake is reported with file:line:column.

#include "connectors/sim/line_file.h"

#include <gtest/gtest.h>

#include <set>

#include <string>

#include "connectors/sim/machines.h"

namespace resonance::sim {
namespace {

TEST(LineFile, ExamplesLoad) {
  LineOptions line;
  ASSERT_TRUE(load_line_file(std::string(RESONANCE_SOURCE_DIR) + "/examples/lines/demo.toml", line).is_ok());
  EXPECT_EQ(line.device.area, "production");
  ASSERT_EQ(machine_count(line), 6);
  EXPECT_EQ(line.equipment[2].category, "injection_moulding");
  EXPECT_EQ(line.equipment[2].equipment, "imm-01");

  LineOptions all;
  const Status s = load_line_file(std::string(RESONANCE_SOURCE_DIR) + "/examples/lines/all_categories.toml", all);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::set<std::string> categories;
  for (const auto& m : all.equipment) categories.insert(m.category);
  EXPECT_EQ(categories.size(), machine_kinds().size());
  EXPECT_EQ(all.equipment.back().sample_hz, 5.0);
  EXPECT_EQ(all.equipment.front().seed, 1u);
  EXPECT_EQ(device_options(all, 11).sample_hz, 5.0);
  EXPECT_EQ(device_options(all, 0).sample_hz, 2.0);
  EXPECT_EQ(device_options(all, 0).site, "plant1");
}

TEST(LineFile, DefaultDemoLineMatchesTheExampleFile) {
  LineOptions defaults;
  defaults.device.seed = 42;
  const LineOptions builtin = default_demo_line(defaults);
  LineOptions file = defaults;
  ASSERT_TRUE(load_line_file(std::string(RESONANCE_SOURCE_DIR) + "/examples/lines/demo.toml", file).is_ok());
  ASSERT_EQ(builtin.equipment.size(), file.equipment.size());
  for (std::size_t i = 0; i < file.equipment.size(); ++i) {
    EXPECT_EQ(builtin.equipment[i].category, file.equipment[i].category);
    EXPECT_EQ(builtin.equipment[i].equipment, file.equipment[i].equipment);
    EXPECT_EQ(builtin.equipment[i].seed, file.equipment[i].seed);
  }
  EXPECT_EQ(builtin.device.area, file.device.area);
}

Status parse(const std::string& text) {
  LineOptions line;
  return parse_line_file(text, "line.toml", line);
}

TEST(LineFile, MistakesNameFileLineAndField) {
  const std::string head = "schema_version = 1\n[line]\nsite = \"p\"\n";
  struct Case { std::string text, expected; };
  const Case cases[] = {
      {head + "[[machine]]\ncategory = \"toaster\"\nequipment = \"cnc-01\"\n", "line.toml:5:12: field 'category': no simulator for 'toaster'"},
      {head + "[[machine]]\ncategory = \"agv\"\nequipment = \"cnc-01\"\n", "maps this equipment name to category 'cnc'"},
      {head + "[[machine]]\ncategory = \"agv\"\nequipment = \"agv-01\"\n[[machine]]\ncategory = \"agv\"\nequipment = \"agv-01\"\n", "appears twice"},
      {head + "[[machine]]\ncategory = \"agv\"\nequipment = \"agv-01\"\nspeed = 3\n", "line.toml:7:9: [[machine]]: unknown field 'speed'"},
      {head + "[[machine]]\ncategory = \"agv\"\nequipment = \"agv-01\"\nrate_hz = 0\n", "field 'rate_hz'"},
      {head + "colour = 1\n[[machine]]\ncategory = \"agv\"\nequipment = \"agv-01\"\n", "[line]: unknown field 'colour'"},
      {head, "no [[machine]]"},
      {"[line]\n[[machine]]\ncategory = \"agv\"\nequipment = \"agv-01\"\n", "missing schema_version"},
      {head + "[[machine]\n", "line.toml:4:"},
      {head + "[[machine]]\ncategory = \"agv\"\n", "missing field 'equipment'"},
  };
  for (const auto& c : cases) {
    const Status s = parse(c.text);
    ASSERT_FALSE(s.is_ok()) << c.text;
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace resonance::sim
