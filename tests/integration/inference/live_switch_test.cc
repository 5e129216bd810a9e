// A running node follows the registry: while a machine streams, `resonance model promote` and
// `rollback` (another process) switch the deployed version within about a second, with no input
// left without an output and every output by exactly one version; a version whose file is missing
// is refused, counted, and the running one carries on (docs/models.md "Switching versions live").

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../end_to_end/node_fixture.h"
#include "resonance/models/inference.h"
#include "resonance/models/registry.h"

namespace resonance::testing {
namespace {

namespace fs = std::filesystem;



// Version 1 flags every load below 1000 % (always 1), version 2 every load above it (never 1):
// an output says which version produced it.
void write_threshold(const fs::path& dir, const std::string& version, const nlohmann::json& params,
                     nlohmann::json files = nlohmann::json::array()) {
  fs::create_directories(dir);
  nlohmann::json m{{"manifest_version", 1},
                   {"name", "load-limit"},
                   {"version", version},
                   {"interface", "anomaly_detection"},
                   {"backend", "threshold"},
                   {"task", "binary"},
                   {"inputs",
                    {{{"name", "load"},
                      {"category", "cnc"},
                      {"signal", "spindle_load"},
                      {"window_s", 0},
                      {"step_s", 0},
                      {"feature", "last"}}}},
                   {"outputs", {{{"name", "anomalous"}, {"type", "bool"}}}},
                   {"files", std::move(files)},
                   {"lineage", {{"dataset_id", ""}, {"params", params}, {"code_version", "test"}}}};
  std::ofstream(dir / "manifest.json") << m.dump(2);
}

// Entries of the transparency log's entry bundles (u16 big-endian length + entry), each once.
std::set<std::string> log_entries(const fs::path& log_dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(log_dir / "tile" / "entries")) {
    if (!e.is_regular_file()) continue;
    const std::string b = slurp(e.path());
    for (std::size_t at = 0; at + 2 <= b.size();) {
      const std::size_t n =
          (static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]);
      if (at + 2 + n > b.size()) break;
      out.insert(b.substr(at + 2, n));
      at += 2 + n;
    }
  }
  return out;
}

double metric(NodeProcess& node, const std::string& name) {
  auto r = http_get(node.api_port(), "/metrics");
  if (!r || r->status != 200) return -1;
  const auto at = r->body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size() + 2));
}

// The newest record's version through GET /api/v1/inference.
std::string newest_version(NodeProcess& node) {
  auto r = http_get(node.api_port(), "/api/v1/inference?model=load-limit&limit=1");
  if (!r || r->status != 200) return "";
  const auto doc = nlohmann::json::parse(r->body);
  return doc.at("records").empty() ? "" : doc.at("records").back().at("version").get<std::string>();
}

TEST(LiveSwitch, PromoteAndRollbackSwitchTheRunningNodeWithoutAGap) {
  NodeProcess node("live_switch");
  const fs::path store = node.dir() / "store";
  {
    auto registry = models::ModelRegistry::open(store / "registry.sqlite");
    ASSERT_TRUE(registry) << registry.error().message();
    write_threshold(store / "models" / "load-limit" / "1", "1", {{"min", 1000}});
    write_threshold(store / "models" / "load-limit" / "2", "2", {{"max", 1000}});
    write_threshold(
        store / "models" / "load-limit" / "3", "3", {{"max", 1000}},
        {{{"path", "weights.bin"}, {"sha256", std::string(64, 'a')}}});  // never written
    for (const char* v : {"1", "2", "3"})
      ASSERT_TRUE(
          (*registry)
              ->add("load-limit", v, slurp(store / "models" / "load-limit" / v / "manifest.json"))
              .is_ok());
  }
  std::string out;
  ASSERT_EQ(run_cli(node, {"model", "--store", store.string(), "promote", "load-limit", "1"}, out),
            0)
      << out;
  std::ofstream(node.config_file(), std::ios::app)
      << "[inference]\nenabled = true\nregistry = \"" << (store / "registry.sqlite").string()
      << "\"\ndeploy = \"load-limit\"\n";
  ASSERT_NO_FATAL_FAILURE(node.start());
  auto sim = node.simulator(1, 12.0, 20.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());

  // Each step: a registry change through the CLI while data flows, then the version the node runs.
  auto wait_for_version = [&](const std::string& version) {
    for (int i = 0; i < 40; ++i) {
      if (newest_version(node) == version) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  ASSERT_TRUE(wait_for_version("1"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(run_cli(node, {"model", "--store", store.string(), "promote", "load-limit", "2"}, out),
            0)
      << out;
  ASSERT_TRUE(wait_for_version("2")) << "promote did not reach the running node";
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(run_cli(node, {"model", "--store", store.string(), "rollback", "load-limit"}, out), 0)
      << out;
  ASSERT_TRUE(wait_for_version("1")) << "rollback did not reach the running node";
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(run_cli(node, {"model", "--store", store.string(), "promote", "load-limit", "3"}, out),
            0)
      << out;
  for (int i = 0; i < 40 && metric(node, "resonance_inference_refused_versions") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(metric(node, "resonance_inference_refused_versions"), 1);
  EXPECT_EQ(metric(node, "resonance_inference_model_switches"), 2);
  ASSERT_EQ(sim->wait(), 0);

  std::string load_path;
  for (const auto& [path, samples] : read_ack_log(node.dir() / "acks.log"))
    if (path.ends_with("/spindle_load")) load_path = path;
  ASSERT_FALSE(load_path.empty());
  const std::string equipment = load_path.substr(0, load_path.rfind('/'));
  const auto inputs = node.stored(load_path);
  const std::string flag_path =
      models::InferenceScheduler::output_path(equipment, "anomaly_detection", "anomalous");
  std::vector<AckedSample> flags;
  for (int i = 0; i < 50 && flags.size() < inputs.size(); ++i) {
    flags = node.stored_once_created(flag_path);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(slurp(node.dir() / "server.log").find("weights.bin"), std::string::npos)
      << "the refusal names the missing file";
  ASSERT_EQ(node.stop(), 0);

  // No gap: every input has its output. The outputs by time are 1…1 0…0 1…1: version 1, 2, 1.
  ASSERT_GT(inputs.size(), 150u);
  ASSERT_EQ(flags.size(), inputs.size());
  std::map<std::int64_t, double> flag_at;
  for (const auto& f : flags) flag_at[f.ts_ns] = std::bit_cast<double>(f.value_bits);
  std::vector<std::pair<double, std::size_t>> segments;  // output value, samples
  for (const auto& in : inputs) {
    ASSERT_TRUE(flag_at.contains(in.ts_ns)) << "no output at " << in.ts_ns;
    const double v = flag_at[in.ts_ns];
    if (segments.empty() || segments.back().first != v) segments.emplace_back(v, 0);
    ++segments.back().second;
  }
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments[0].first, 1.0);
  EXPECT_EQ(segments[1].first, 0.0);
  EXPECT_EQ(segments[2].first, 1.0);

  // The inference log: records of 1, a switch line, records of 2, a switch line, records of 1;
  // each record's output is its version's rule.
  std::ifstream log(node.dir() / "data" / "inference" / "inference.jsonl");
  std::string line;
  std::getline(log, line);
  std::vector<std::string> sequence;  // "1", "switch 1>2", …, collapsed
  std::size_t records = 0;
  while (std::getline(log, line)) {
    const auto j = nlohmann::json::parse(line);
    std::string item;
    if (j.contains("event")) {
      EXPECT_EQ(j.at("event"), "switch");
      item = "switch " + j.at("from_version").get<std::string>() + ">" +
             j.at("version").get<std::string>();
    } else {
      ++records;
      item = j.at("version").get<std::string>();
      EXPECT_EQ(j.at("outputs").at(0).get<double>(), item == "1" ? 1.0 : 0.0) << line;
    }
    if (sequence.empty() || sequence.back() != item) sequence.push_back(item);
  }
  EXPECT_EQ(records, inputs.size());
  EXPECT_EQ(sequence, (std::vector<std::string>{"1", "switch 1>2", "2", "switch 2>1", "1"}));

  // The transparency log: a model.lifecycle "deployed" entry per switch, in order.
  std::vector<std::pair<std::int64_t, std::string>> deployed;  // entry time, from>to
  for (const auto& e : log_entries(node.dir() / "data" / "audit")) {
    if (e.size() < 10 || e[1] != 5) continue;  // EntryType::kModelLifecycle
    const auto body = nlohmann::json::parse(e.substr(10));
    if (body.at("event") != "deployed") continue;
    std::int64_t ts = 0;
    for (int i = 0; i < 8; ++i) ts = (ts << 8) | static_cast<unsigned char>(e[2 + i]);
    deployed.emplace_back(ts, body.at("from_version").get<std::string>() + ">" +
                                  body.at("version").get<std::string>());
  }
  std::sort(deployed.begin(), deployed.end());
  ASSERT_EQ(deployed.size(), 2u);
  EXPECT_EQ(deployed[0].second, "1>2");
  EXPECT_EQ(deployed[1].second, "2>1");
}

}  // namespace
}  // namespace resonance::testing
