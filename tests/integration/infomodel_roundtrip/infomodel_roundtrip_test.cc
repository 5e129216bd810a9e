// A line with one machine of every category (examples/lines/all_categories.toml) runs through a
// real `resonance serve`: `resonance sim --line` publishes over MQTT-SN on loopback, the node
// stores, and the HTTP API must list every signal of every category of the information model
// with points, while the quarantine stays empty.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "../end_to_end/node_fixture.h"
#include "resonance/infomodel/loader.h"

namespace resonance::testing {
namespace {

// The value of an unlabelled counter in Prometheus text, or -1 if absent.
double metric(const std::string& text, const std::string& name) {
  std::size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const std::size_t after = pos + name.size();
    if (line_start && after < text.size() && text[after] == ' ') return std::stod(text.substr(after + 1));
    pos = after;
  }
  return -1;
}

TEST(InfomodelRoundtrip, EverySignalOfEveryCategoryArrivesAndNothingIsQuarantined) {
  auto model = infomodel::load_model_dir(std::string(RESONANCE_SOURCE_DIR) + "/infomodel");
  ASSERT_TRUE(model.has_value()) << model.error().message();
  const std::string line_file = std::string(RESONANCE_SOURCE_DIR) + "/examples/lines/all_categories.toml";

  NodeProcess node("infomodel_roundtrip");
  node.start();
  if (HasFatalFailure()) return;
  ChildProcess sim({RESONANCE_BINARY, "sim", "--gateway", "127.0.0.1:" + std::to_string(node.mqttsn_port()),
                    "--line", line_file, "--duration-s", "4", "--time-scale", "20"},
                   (node.dir() / "sim.log").string());
  ASSERT_TRUE(sim.started());
  ASSERT_TRUE(sim.wait_for(std::chrono::seconds(30))) << "simulator did not stop; see sim.log";
  EXPECT_EQ(sim.wait(), 0) << "see " << (node.dir() / "sim.log");

  // Every signal the model defines, under the equipment of the line file.
  const std::map<std::string, std::string> equipment_of = {
      {"cnc", "cnc-01"},       {"injection_moulding", "imm-01"}, {"agv", "agv-01"},
      {"robot", "robot-01"},   {"coating", "coat-01"},           {"press", "press-01"},
      {"welding", "weld-01"},  {"laser_cutting", "laser-01"},    {"fixture", "fixture-01"},
      {"additive", "am-01"},   {"vision", "vision-01"},          {"conveyor", "conveyor-01"}};
  std::set<std::string> expected;
  std::map<std::string, std::string> unit_of;  // path -> UNECE code ("" = unitless)
  for (const auto& category : model->categories) {
    ASSERT_TRUE(equipment_of.contains(category.id)) << "the line lacks category " << category.id;
    for (const auto& signal : category.signals) {
      const std::string path = "plant1/hall2/line7/" + equipment_of.at(category.id) + "/" + signal.name;
      expected.insert(path);
      unit_of[path] = signal.unit;
    }
  }
  ASSERT_GE(expected.size(), 12u * 5);

  auto listed = http_get(node.api_port(), "/api/v1/series");
  ASSERT_TRUE(listed && listed->status == 200);
  std::set<std::string> with_data;
  const auto doc = nlohmann::json::parse(listed->body);
  for (const auto& s : doc.at("series")) {
    const auto path = s.at("path").get<std::string>();
    if (!s.at("latest").is_null()) with_data.insert(path);
    // MQTT-SN REGISTER carries no unit: the listing takes it from the model.
    if (!unit_of.contains(path)) continue;
    if (unit_of.at(path).empty()) {
      EXPECT_TRUE(s.at("unit").is_null()) << path << ": " << s.dump();
    } else {
      EXPECT_EQ(s.at("unit"), unit_of.at(path)) << path;
      EXPECT_EQ(s.at("unit_source"), "infomodel") << path;
      EXPECT_TRUE(s.at("unit_symbol").is_string()) << path;
    }
  }
  for (const auto& path : expected) {
    EXPECT_TRUE(with_data.contains(path)) << path << " is not listed with data";
    EXPECT_FALSE(node.stored(path).empty()) << path << " has no points";
  }

  auto metrics = http_get(node.api_port(), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_EQ(metric(metrics->body, "resonance_quarantine_samples_total"), 0) << metrics->body;
  EXPECT_EQ(node.stop(), 0);
}

}  // namespace
}  // namespace resonance::testing
