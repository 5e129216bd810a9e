// A node with a deployed model (a threshold detector on the CNC spindle load) while a simulated
// machine streams over MQTT-SN: every stored input sample yields one sample of each model output,
// readable through GET /api/v1/query like any signal; the threshold's outputs are
// exactly the rule applied to the stored inputs; every run is in the inference log with the hash of
// its window, and in inference.batch entries of a transparency log that `resonance audit verify`
// accepts offline.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../end_to_end/node_fixture.h"
#include "resonance/models/dataset.h"
#include "resonance/models/inference.h"

namespace resonance::testing {
namespace {

constexpr double kLoadLimit = 20.0;

void write_model(const std::filesystem::path& dir, const std::string& name, const std::string& backend,
                 const std::string& params) {
  std::filesystem::create_directories(dir);
  nlohmann::json m{{"manifest_version", 1},
                   {"name", name},
                   {"version", "1"},
                   {"interface", "anomaly_detection"},
                   {"backend", backend},
                   {"task", "binary"},
                   {"inputs", {{{"name", "load"}, {"category", "cnc"}, {"signal", "spindle_load"},
                                {"window_s", 0}, {"step_s", 0}, {"feature", "last"}}}},
                   {"outputs", {{{"name", "anomaly_score"}, {"type", "double"}}, {{"name", "anomalous"}, {"type", "bool"}}}},
                   {"files", nlohmann::json::array()},
                   {"lineage", {{"dataset_id", ""}, {"params", nlohmann::json::parse(params)}, {"code_version", "test"}}}};
  std::ofstream(dir / "manifest.json") << m.dump(2);
}

// Entries of the log's entry bundles (C2SP tlog-tiles: u16 big-endian length + entry), partial
// bundles included, each entry once.
std::set<std::string> log_entries(const std::filesystem::path& log_dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(log_dir / "tile" / "entries")) {
    if (!e.is_regular_file()) continue;
    const std::string b = slurp(e.path());
    for (std::size_t at = 0; at + 2 <= b.size();) {
      const std::size_t n = (static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]);
      if (at + 2 + n > b.size()) break;
      out.insert(b.substr(at + 2, n));
      at += 2 + n;
    }
  }
  return out;
}

// The threshold model on the spindle load, deployed from a model directory by the node's config.
void deploy_load_limit(NodeProcess& node) {
  write_model(node.dir() / "limit", "load-limit", "threshold", "{\"max\": " + std::to_string(kLoadLimit) + "}");
  std::ofstream(node.config_file(), std::ios::app)
      << "[inference]\nenabled = true\nmodel_dirs = \"" << (node.dir() / "limit").string() << "\"\n";
}

TEST(LiveInference, ModelsRunOnStreamedDataAndLeaveVerifiableRecords) {
  NodeProcess node("inference");
  deploy_load_limit(node);
  node.start();
  auto sim = node.simulator(1, 3.0, 20.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());
  EXPECT_EQ(sim->wait(), 0);

  std::string load_path;
  for (const auto& [path, samples] : read_ack_log(node.dir() / "acks.log"))
    if (path.ends_with("/spindle_load")) load_path = path;
  ASSERT_FALSE(load_path.empty()) << "the simulated machine published no spindle_load";
  const std::string equipment = load_path.substr(0, load_path.rfind('/'));
  const auto inputs = node.stored(load_path);
  ASSERT_GT(inputs.size(), 20u);

  // Outputs arrive shortly after their inputs are durable: wait until every input has its output.
  const std::string flag_path = models::InferenceScheduler::output_path(equipment, "anomaly_detection", "anomalous");
  const std::string score_path = equipment + "/ai.anomaly_detection.anomaly_score";
  std::vector<AckedSample> flags;
  for (int i = 0; i < 100; ++i) {
    flags = node.stored_once_created(flag_path);
    if (flags.size() >= inputs.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(flags.size(), inputs.size());
  std::map<std::int64_t, double> flag_at;
  for (const auto& f : flags) flag_at[f.ts_ns] = std::bit_cast<double>(f.value_bits);
  std::size_t over_limit = 0;
  double lo = 1e300, hi = -1e300;
  for (const auto& in : inputs) {
    lo = std::min(lo, std::bit_cast<double>(in.value_bits));
    hi = std::max(hi, std::bit_cast<double>(in.value_bits));
    const double v = std::bit_cast<double>(in.value_bits);
    const double want = v > kLoadLimit ? 1.0 : 0.0;
    over_limit += want > 0;
    ASSERT_TRUE(flag_at.contains(in.ts_ns)) << "no output at ts " << in.ts_ns;
    EXPECT_EQ(flag_at[in.ts_ns], want) << "threshold output at ts " << in.ts_ns << " for load " << v;
  }
  EXPECT_EQ(node.stored(score_path).size(), inputs.size());

  auto metrics = http_get(node.api_port(), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_NE(metrics->body.find("resonance_inference_runs " + std::to_string(inputs.size())), std::string::npos)
      << metrics->body.substr(metrics->body.find("resonance_inference"), 400);
  EXPECT_EQ(node.stop(), 0);

  // The inference log: one record per run, each with the hash of its (one-sample) window.
  std::ifstream log(node.dir() / "data" / "inference" / "inference.jsonl");
  std::string line;
  std::getline(log, line);
  EXPECT_EQ(nlohmann::json::parse(line).at("format"), "resonance.inference-log");
  std::map<std::int64_t, double> load_at;
  for (const auto& in : inputs) load_at[in.ts_ns] = std::bit_cast<double>(in.value_bits);
  std::size_t records = 0;
  while (std::getline(log, line)) {
    const auto r = nlohmann::json::parse(line);
    ++records;
    const std::int64_t to = r.at("to_ns");
    ASSERT_TRUE(load_at.contains(to)) << line;
    const models::WindowInput window[] = {{{to}, {load_at[to]}}};
    EXPECT_EQ(r.at("input_sha256"), models::sha256_hex(models::canonical_window_encoding(window))) << line;
    EXPECT_EQ(r.at("equipment"), equipment);
  }
  EXPECT_EQ(records, inputs.size());

  // The transparency log verifies offline and holds every record in inference.batch entries.
  const auto copy = node.dir() / "audit-copy";
  std::filesystem::copy(node.dir() / "data" / "audit", copy, std::filesystem::copy_options::recursive);
  std::filesystem::remove(copy / "LOCK");
  ChildProcess verify({RESONANCE_BINARY, "audit", "verify", "--key",
                       "@" + (node.dir() / "data" / "audit-key" / "node.vkey").string(), copy.string()},
                      (node.dir() / "verify.log").string());
  ASSERT_TRUE(verify.started());
  EXPECT_EQ(verify.wait(), 0) << slurp(node.dir() / "verify.log");
  std::size_t logged = 0, entries = 0;
  std::set<std::string> models_seen;
  for (const auto& e : log_entries(copy)) {
    ASSERT_GE(e.size(), 10u);
    if (e[1] != 6) continue;  // EntryType::kInferenceBatch
    ++entries;
    const auto body = nlohmann::json::parse(e.substr(10));
    models_seen.insert(body.at("model").get<std::string>());
    logged += body.at("records").size();
  }
  EXPECT_GT(entries, 0u);
  EXPECT_EQ(logged, inputs.size());
  EXPECT_EQ(models_seen, (std::set<std::string>{"load-limit"}));
  std::fprintf(stderr, "inputs %zu (load %.1f..%.1f), over the limit %zu, inference.batch entries %zu\n",
               inputs.size(), lo, hi, over_limit, entries);
}

// Models run on samples the store has accepted but not yet synced; a record is logged only once
// its outputs are durable, which proves its inputs durable (they are earlier in the same log).
// kill -9 the node twice while a machine streams: every record in the inference log still names a
// window whose input is stored with the logged hash, and whose output is stored.
TEST(LiveInference, AfterKillNineEveryLoggedRecordHasItsInputAndOutputStored) {
  NodeProcess node("inference_crash");
  deploy_load_limit(node);
  node.start();
  auto sim = node.simulator(1, 7.0, 50.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());
  for (int kill = 0; kill < 2; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + 300 * kill));
    ASSERT_TRUE(node.running()) << "the node died on its own before kill " << kill;
    node.kill9();
    ASSERT_NO_FATAL_FAILURE(node.start());
  }
  ASSERT_TRUE(sim->wait_for(std::chrono::seconds(60))) << "simulator did not finish";
  std::string load_path;
  for (const auto& [path, samples] : read_ack_log(node.dir() / "acks.log"))
    if (path.ends_with("/spindle_load")) load_path = path;
  ASSERT_FALSE(load_path.empty());
  const std::string equipment = load_path.substr(0, load_path.rfind('/'));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last records reach the file
  std::map<std::int64_t, double> load_at, flag_at;
  for (const auto& in : node.stored(load_path)) load_at[in.ts_ns] = std::bit_cast<double>(in.value_bits);
  for (const auto& f : node.stored(models::InferenceScheduler::output_path(equipment, "anomaly_detection", "anomalous")))
    flag_at[f.ts_ns] = std::bit_cast<double>(f.value_bits);
  EXPECT_EQ(node.stop(), 0);

  std::ifstream log(node.dir() / "data" / "inference" / "inference.jsonl");
  std::string line;
  std::size_t records = 0, torn = 0;
  std::getline(log, line);  // the header
  while (std::getline(log, line)) {
    // A kill can cut the line being written; the restarted writer cuts it off before appending.
    const auto r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded()) {
      ++torn;
      ADD_FAILURE() << "a line of the inference log does not parse: " << line;
      continue;
    }
    ++records;
    const std::int64_t to = r.at("to_ns");
    ASSERT_TRUE(load_at.contains(to)) << "a logged record's input is not stored: " << line;
    const models::WindowInput window[] = {{{to}, {load_at[to]}}};
    EXPECT_EQ(r.at("input_sha256"), models::sha256_hex(models::canonical_window_encoding(window))) << line;
    ASSERT_TRUE(flag_at.contains(to)) << "a logged record's output is not stored: " << line;
    EXPECT_EQ(flag_at[to], load_at[to] > kLoadLimit ? 1.0 : 0.0) << line;
  }
  EXPECT_EQ(torn, 0u);
  // Most runs are logged: the lost ones are those in flight at a kill (the simulator sends a
  // spindle_load sample about every 80 ms; 7 s, less two restarts).
  EXPECT_GT(records, 40u);
  EXPECT_GT(records, load_at.size() * 3 / 4);
  std::fprintf(stderr, "records %zu checked after 2 kills (torn lines %zu), inputs stored %zu\n", records, torn,
               load_at.size());
}

}  // namespace
}  // namespace resonance::testing
