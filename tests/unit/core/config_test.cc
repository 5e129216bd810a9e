#include "resonance/core/config.h"

#include <gtest/gtest.h>

namespace resonance {
namespace {

ConfigSchema schema() {
  ConfigSchema s;
  s.add({"store", "Storage.",
         {{"mode", ConfigType::kString, std::string("sync"), "Durability.", {}, {}, {"sync", "none"}},
          {"bytes", ConfigType::kInteger, std::int64_t{1024}, "Size.", 1, 4096},
          {"ratio", ConfigType::kFloat, 0.5, "Ratio."},
          {"on", ConfigType::kBool, true, "Switch."}}});
  return s;
}

TEST(Config, DefaultsApplyAndValuesOverride) {
  auto c = parse_config(schema(), "[store]\nbytes = 2048\nratio = 2\n", "t.toml").value();
  EXPECT_EQ(c.integer("store.bytes"), 2048);
  EXPECT_EQ(c.real("store.ratio"), 2.0);  // an integer is accepted where a number is expected
  EXPECT_EQ(c.str("store.mode"), "sync");
  EXPECT_TRUE(c.boolean("store.on"));
  EXPECT_TRUE(c.was_set("store.bytes"));
  EXPECT_FALSE(c.was_set("store.mode"));
}

std::string problems(std::string_view text) {
  auto c = parse_config(schema(), text, "node.toml");
  EXPECT_FALSE(c);
  return c ? "" : c.error().message();
}

TEST(Config, ErrorsNameFileLineKeyExpectedAndFound) {
  EXPECT_EQ(problems("[store]\nbytes = \"big\"\n"),
            "1 problem in node.toml:\n  node.toml:2:9: key 'store.bytes': expected an integer, found the string \"big\"");
  EXPECT_NE(problems("[store]\nmode = \"fast\"\n").find("node.toml:2:8: key 'store.mode': expected one of sync, none, found \"fast\""),
            std::string::npos);
  EXPECT_NE(problems("[store]\nbytes = 99999\n").find("expected an integer in 1..4096, found 99999"),
            std::string::npos);
  EXPECT_NE(problems("[store]\non = 1\n").find("key 'store.on': expected true or false, found the integer 1"),
            std::string::npos);
}

TEST(Config, UnknownKeysAndSectionsAreErrors) {
  EXPECT_NE(problems("[store]\nbyte = 5\n").find("unknown key 'byte' in [store]; expected one of: mode, bytes, ratio, on"),
            std::string::npos);
  EXPECT_NE(problems("[stor]\n").find("unknown section [stor]; expected one of: store"), std::string::npos);
  EXPECT_NE(problems("store = 3\n").find("expected a table [store], found the integer 3"), std::string::npos);
}

TEST(Config, ReportsEveryProblemAtOnce) {
  const std::string msg = problems("[store]\nbytes = 0\nmode = 1\nextra = true\n");
  EXPECT_EQ(msg.rfind("3 problems in node.toml:", 0), 0u) << msg;
}

TEST(Config, SyntaxErrorsHaveAPosition) {
  const std::string msg = problems("[store]\nbytes = = 3\n");
  EXPECT_NE(msg.find("node.toml:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("TOML syntax error"), std::string::npos) << msg;
}

TEST(Config, MissingFileIsAClearError) {
  auto c = load_config(schema(), "/nonexistent/node.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("/nonexistent/node.toml: cannot open"), std::string::npos);
}

TEST(Config, SchemaRendersAsTomlThatParsesBack) {
  auto c = parse_config(schema(), schema().to_toml(), "defaults.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->integer("store.bytes"), 1024);
  EXPECT_NE(schema().to_markdown().find("| `mode` | a string | `\"sync\"` |"), std::string::npos);
}

}  // namespace
}  // namespace resonance
