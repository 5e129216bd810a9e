// A model on a category the plant added through [infomodel] dir: the node's scheduler, `model
// validate` and `model train` judge a manifest by the same overlay the node validates samples by,
// so a threshold model on a grinder's clamping force (grinder.toml laid over the built-in model)
// is accepted, runs live, and stores one output per input sample. Without --infomodel the CLI
// refuses the same manifest naming the unknown category.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <fstream>
#include <regex>

#include "../../unit/models/threshold_manifest.h"
#include "../end_to_end/node_fixture.h"
#include "connectors/mqttsn/client.h"
#include "connectors/mqttsn/payload.h"
#include "resonance/models/inference.h"
#include "resonance/models/manifest.h"

namespace resonance::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEquipment = "plant1/grinding/line2/grinder-03";
constexpr double kMaxForce = 300;

// The built-in fixture category under another id: a category no built-in model has.
void write_grinder_overlay(const fs::path& dir) {
  fs::create_directories(dir / "categories");
  std::string grinder = slurp(fs::path(RESONANCE_SOURCE_DIR) / "infomodel/categories/fixture.toml");
  grinder = std::regex_replace(grinder, std::regex("id = \"fixture\""), "id = \"grinder\"");
  grinder = std::regex_replace(grinder, std::regex("equipment_prefixes = \\[[^\\]]*\\]"),
                               "equipment_prefixes = [\"grinder\"]");
  std::ofstream(dir / "categories" / "grinder.toml") << grinder;
}

// The live-switch tests' threshold model, on the overlay's signal.
models::ModelManifest grinder_threshold() {
  auto m = models::test_support::threshold_manifest("1", kMaxForce);
  m.name = "grinder-force-limit";
  m.inputs = {{"force", "grinder", "clamping_force", 0, 0, "last"}};
  return m;
}

TEST(OverlayModel, AModelOnAnOverlayCategoryIsCheckedByTheOverlayAndRunsLive) {
  NodeProcess node("overlay_model");
  const fs::path overlay = node.dir() / "model";
  write_grinder_overlay(overlay);
  const fs::path model_dir = node.dir() / "grinder-force-limit";
  fs::create_directories(model_dir);
  std::ofstream(model_dir / "manifest.json") << grinder_threshold().to_json();

  // The CLI judges by the built-in model unless told the overlay: then the category is known.
  std::string out;
  const std::string manifest = (model_dir / "manifest.json").string();
  EXPECT_EQ(run_cli(node, {"model", "validate", manifest}, out), 2) << out;
  EXPECT_NE(out.find("grinder"), std::string::npos) << out;
  ASSERT_EQ(run_cli(node, {"model", "--infomodel", overlay.string(), "validate", manifest}, out), 0) << out;
  EXPECT_NE(run_cli(node, {"model", "--infomodel", (node.dir() / "no-such-dir").string(), "validate", manifest}, out), 0);
  EXPECT_NE(out.find("--infomodel"), std::string::npos) << out;

  std::ofstream(node.config_file(), std::ios::app)
      << "[infomodel]\ndir = \"" << overlay.string() << "\"\n"
      << "[inference]\nenabled = true\nmodel_dirs = \"" << model_dir.string() << "\"\n";
  ASSERT_NO_FATAL_FAILURE(node.start());

  mqttsn::ClientOptions options;
  options.port = node.mqttsn_port();
  options.client_id = "grinder-03";
  auto client = mqttsn::Client::connect(options);
  ASSERT_TRUE(client) << client.error().message();
  auto topic = (*client)->register_topic(std::string(kEquipment) + "/clamping_force");
  ASSERT_TRUE(topic) << topic.error().message();
  const TimestampNs base = (unix_now_ns() / 1'000'000'000 - 60) * 1'000'000'000;
  constexpr int kSamples = 40;
  for (int i = 0; i < kSamples; ++i) {
    // Every fourth reading is over the limit.
    const double force = i % 4 == 3 ? kMaxForce + 50 : 100.0 + i;
    const auto payload = mqttsn::encode_single_sample({base + i * 100'000'000LL, force, {}});
    auto sent = (*client)->publish_qos1(*topic, payload);
    ASSERT_TRUE(sent) << sent.error().message();
    ASSERT_EQ(*sent, mqttsn::PublishOutcome::kAccepted) << "sample " << i;
  }
  (void)(*client)->disconnect();

  const std::string anomalous = models::InferenceScheduler::output_path(kEquipment, "anomaly_detection", "anomalous");
  std::vector<AckedSample> outputs;
  for (int i = 0; i < 100 && outputs.size() < kSamples; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    outputs = node.stored_once_created(anomalous);
  }
  ASSERT_EQ(node.stop(), 0);
  ASSERT_EQ(outputs.size(), static_cast<std::size_t>(kSamples)) << "one output per input sample";
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(outputs[i].ts_ns, base + static_cast<TimestampNs>(i) * 100'000'000LL);
    EXPECT_EQ(std::bit_cast<double>(outputs[i].value_bits), i % 4 == 3 ? 1.0 : 0.0) << "sample " << i;
  }
}

}  // namespace
}  // namespace resonance::testing
