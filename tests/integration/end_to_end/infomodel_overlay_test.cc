// [infomodel] dir with the real binary: a plant narrows the CNC spindle temperature range (its
// own cnc.toml laid over the built-in one) and adds a category (grinder.toml) without rebuilding.
// The node validates by the overlay — spindle temperatures (ambient and up) above the narrowed
// 10 °C go to the quarantine as out_of_range, other CNC signals are stored — and serves the added
// category at
// GET /api/v1/infomodel. A broken overlay file stops the node naming the file and line.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "node_fixture.h"

namespace resonance::testing {
namespace {

std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(RESONANCE_SOURCE_DIR) + "/" + relative, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_overlay(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "categories");
  std::string cnc = read_source("infomodel/categories/cnc.toml");
  const auto signal = cnc.find("name = \"spindle_temperature\"");
  ASSERT_NE(signal, std::string::npos);
  const auto max = cnc.find("max = 150", signal);
  ASSERT_NE(max, std::string::npos);
  cnc.replace(max, 9, "max = 10");
  std::ofstream(dir / "categories" / "cnc.toml") << cnc;
  std::string grinder = read_source("infomodel/categories/fixture.toml");
  grinder = std::regex_replace(grinder, std::regex("id = \"fixture\""), "id = \"grinder\"");
  grinder = std::regex_replace(grinder, std::regex("equipment_prefixes = \\[[^\\]]*\\]"),
                               "equipment_prefixes = [\"grinder\"]");
  std::ofstream(dir / "categories" / "grinder.toml") << grinder;
}

TEST(InfomodelOverlay, NodeValidatesByTheOverlayAndServesTheAddedCategory) {
  NodeProcess node("infomodel_overlay");
  const auto overlay = node.dir() / "model";
  write_overlay(overlay);
  std::ofstream(node.config_file(), std::ios::app) << "[infomodel]\ndir = \"" << overlay.string() << "\"\n";
  node.start();
  auto sim = node.simulator(1, 2.0, 5.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());
  sim->wait();

  auto grinder = http_get(node.api_port(), "/api/v1/infomodel?category=grinder");
  ASSERT_TRUE(grinder);
  EXPECT_EQ(grinder->status, 200) << grinder->body;
  auto quarantine = http_get(node.api_port(), "/api/v1/quarantine?limit=1000");
  ASSERT_TRUE(quarantine && quarantine->status == 200);
  const auto q = nlohmann::json::parse(quarantine->body);
  std::size_t too_warm = 0, other = 0;
  for (const auto& e : q["entries"]) {
    const std::string topic = e.value("topic", "");
    const std::string reason = e["reason"].get<std::string>();
    if (reason.find("spindle_temperature") != std::string::npos && reason.find("out_of_range") != std::string::npos)
      ++too_warm;
    else if (!topic.ends_with("/spindle_temperature"))  // the gateway also records the refused PUBLISH
      ++other;
  }
  EXPECT_GT(too_warm, 0u) << quarantine->body;
  EXPECT_EQ(other, 0u) << quarantine->body;
  // The rest of the CNC's signals are stored as usual.
  const auto acks = read_ack_log(node.dir() / "acks.log");
  std::size_t stored_series = 0;
  for (const auto& [path, samples] : acks)
    if (!path.ends_with("/spindle_temperature") && !node.stored(path).empty()) ++stored_series;
  EXPECT_GT(stored_series, 3u);
  EXPECT_EQ(node.stop(), 0);
}

TEST(InfomodelOverlay, BrokenOverlayFileStopsTheNodeNamingFileAndLine) {
  NodeProcess node("infomodel_overlay_bad");
  const auto overlay = node.dir() / "model";
  std::filesystem::create_directories(overlay / "categories");
  std::ofstream(overlay / "categories" / "cnc.toml")
      << "schema_version = 1\nkind = \"category\"\n[category]\nid = \"cnc\"\nname = 3\n";
  std::ofstream(node.config_file(), std::ios::app) << "[infomodel]\ndir = \"" << overlay.string() << "\"\n";
  ChildProcess serve({RESONANCE_BINARY, "serve", "--config", node.config_file().string()},
                     (node.dir() / "serve.log").string());
  ASSERT_TRUE(serve.started());
  EXPECT_NE(serve.wait(), 0);
  std::ifstream in(node.dir() / "serve.log");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("infomodel.dir"), std::string::npos) << log;
  EXPECT_NE(log.find((overlay / "categories" / "cnc.toml").generic_string() + ":5"), std::string::npos) << log;
}

}  // namespace
}  // namespace resonance::testing
