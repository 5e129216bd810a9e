// [infomodel] dir with the real binary: a plant narrows the CNC spindle speed range (its own
// cnc.toml laid over the built-in one) and adds a category (grinder.toml) without rebuilding.
// The node validates by the overlay — spindle speeds above the narrowed range go to the
// quarantine as out_of_range, other CNC signals are stored — and serves the added category at
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
  const auto max = cnc.find("max = 60000");  // spindle_speed, the first signal
  ASSERT_NE(max, std::string::npos);
  cnc.replace(max, 11, "max = 10");
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
  std::size_t spindle_out_of_range = 0, other = 0;
  for (const auto& e : q["entries"]) {
    const std::string topic = e.value("topic", "");
    const std::string reason = e["reason"].get<std::string>();
    if (reason.find("spindle_speed") != std::string::npos && reason.find("range") != std::string::npos)
      ++spindle_out_of_range;
    else
      ++other;
  }
  EXPECT_GT(spindle_out_of_range, 0u) << quarantine->body;
  EXPECT_EQ(other, 0u) << quarantine->body;
  // The rest of the CNC's signals are stored as usual.
  const auto acks = read_ack_log(node.dir() / "acks.log");
  std::size_t stored_series = 0;
  for (const auto& [path, samples] : acks)
    if (!path.ends_with("/spindle_speed") && !node.stored(path).empty()) ++stored_series;
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
