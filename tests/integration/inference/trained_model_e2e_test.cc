// The loop as a user runs it, through the real binary: a machine streams into a node; the node's
// history becomes a window dataset (`dataset create --from-historian --window`); `model train`
// trains and registers a model; `model promote` puts it in production; a node deploys it from the
// registry ([inference] deploy) and runs it live. Every live output must equal what the offline
// evaluation of the same windows (same samples from the historian, same feature code, the same
// model file) answers, and every record must carry the hash of exactly those windows. The records
// are read through GET /api/v1/inference.
//
// Then the registry drives deployment: promotion and rollback decide which version the next start
// runs, and each record names that version. Last, an ONNX network runs live in the node.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../end_to_end/node_fixture.h"
#include "resonance/models/dataset.h"
#include "resonance/models/inference.h"
#include "resonance/models/manifest.h"
#include "resonance/models/registry.h"
#include "resonance/models/window_dataset.h"
#include "resonance/models/xgboost_model.h"

namespace resonance::testing {
namespace {

namespace fs = std::filesystem;



// The dataset id: the line of 64 hex characters `dataset create` prints on stdout.
std::string dataset_id_in(const std::string& output) {
  std::istringstream lines(output);
  std::string line, id;
  while (std::getline(lines, line))
    if (line.size() == 64 && line.find_first_not_of("0123456789abcdef") == std::string::npos)
      id = line;
  return id;
}

nlohmann::json inference_records(NodeProcess& node, const std::string& query) {
  auto r = http_get(node.api_port(), "/api/v1/inference?" + query);
  EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no connection");
  return r && r->status == 200 ? nlohmann::json::parse(r->body) : nlohmann::json::object();
}

models::WindowInput history_of(const std::vector<AckedSample>& samples) {
  models::WindowInput h;
  for (const auto& s : samples) {
    h.ts_ns.push_back(s.ts_ns);
    h.values.push_back(std::bit_cast<double>(s.value_bits));
  }
  return h;
}

TEST(TrainedModel, CliTrainedWindowModelRunsLiveAsOfflineEvaluationSays) {
  ::setenv("OMP_WAIT_POLICY", "passive", 1);  // XGBoost training on the shared machine
  NodeProcess node("trained_model");
  const fs::path store = node.dir() / "store";

  // 1. History: one CNC streams for 15 s at 4 samples/s.
  ASSERT_NO_FATAL_FAILURE(node.start());
  auto sim = node.simulator(1, 15.0, 4.0, node.dir() / "acks-a.log");
  ASSERT_TRUE(sim->started());
  ASSERT_EQ(sim->wait(), 0);
  // The spindle is still at rest in the first seconds (load 0); the temperatures move.
  std::string input_path, x_path, label_path;
  for (const auto& [path, samples] : read_ack_log(node.dir() / "acks-a.log")) {
    if (path.ends_with("/spindle_temperature")) input_path = path;
    if (path.ends_with("/x_axis_temperature")) x_path = path;
    if (path.ends_with("/thermal_drift")) label_path = path;
  }
  ASSERT_FALSE(input_path.empty());
  ASSERT_FALSE(x_path.empty());
  ASSERT_FALSE(label_path.empty());
  const auto first_run = read_ack_log(node.dir() / "acks-a.log").at(input_path);
  ASSERT_GT(first_run.size(), 40u);
  ASSERT_EQ(node.stop(), 0);

  // 2. A window dataset: standard deviation and slope of the spindle and X axis temperatures over
  //    2 s every 500 ms, the label the thermal drift. Level features (mean, max) would put the
  //    second stream, warmer than anything trained on, in one leaf: a constant proves little.
  std::string out;
  ASSERT_EQ(run_cli(node,
                    {"dataset",
                     "--store",
                     (store / "datasets").string(),
                     "create",
                     "--from-historian",
                     (node.dir() / "data").string(),
                     "--series",
                     input_path,
                     "--series",
                     x_path,
                     "--label",
                     label_path,
                     "--from",
                     std::to_string(first_run.front().ts_ns),
                     "--to",
                     std::to_string(first_run.back().ts_ns),
                     "--step",
                     "500ms",
                     "--max-staleness",
                     "2s",
                     "--window",
                     "2s",
                     "--window-features",
                     "std,slope"},
                    out),
            0)
      << out;
  const std::string id = dataset_id_in(out);
  ASSERT_FALSE(id.empty()) << out;

  // 3. Train, register, promote: files where the registry deployment looks for them.
  const fs::path model_dir = store / "models" / "drift" / "1";
  ASSERT_EQ(
      run_cli(node,
              {"model", "--store", store.string(), "train", "--dataset", id, "--out",
               model_dir.string(), "--name", "drift", "--interface", "thermal_drift_compensation",
               "--output", "predicted_drift", "--rounds", "30", "--nthread", "1", "--register"},
              out),
      0)
      << out;
  ASSERT_EQ(run_cli(node, {"model", "--store", store.string(), "promote", "drift", "1"}, out), 0)
      << out;
  auto manifest = models::parse_manifest(slurp(model_dir / "manifest.json"), "manifest.json");
  ASSERT_TRUE(manifest) << manifest.error().message();
  ASSERT_EQ(manifest->inputs.size(), 4u);
  for (const auto& in : manifest->inputs) {
    EXPECT_EQ(in.window_s, 2.0);
    EXPECT_EQ(in.step_s, 0.5);
  }
  EXPECT_EQ(manifest->inputs[1].signal, "spindle_temperature");
  EXPECT_EQ(manifest->inputs[1].feature, "slope");
  EXPECT_EQ(manifest->inputs[2].signal, "x_axis_temperature");
  EXPECT_EQ(manifest->inputs[2].feature, "std");

  // 4. Deploy from the registry by stage and stream again. Live windows fill from live data: a node
  //    that starts within a window of older stored samples runs its first windows without them, so
  //    the second stream starts more than a window after the first.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  std::ofstream(node.config_file(), std::ios::app)
      << "[inference]\nenabled = true\nregistry = \"" << (store / "registry.sqlite").string()
      << "\"\ndeploy = \"drift\"\n";
  ASSERT_NO_FATAL_FAILURE(node.start());
  auto sim2 = node.simulator(1, 8.0, 4.0, node.dir() / "acks-b.log");
  ASSERT_TRUE(sim2->started());
  ASSERT_EQ(sim2->wait(), 0);
  const std::string equipment = input_path.substr(0, input_path.rfind('/'));
  const std::string output_path = models::InferenceScheduler::output_path(
      equipment, "thermal_drift_compensation", "predicted_drift");
  nlohmann::json records;
  for (int i = 0; i < 100;
       ++i) {  // outputs are written a little after their inputs; records every 200 ms
    records = inference_records(node, "model=drift&limit=1000");
    if (records.value("count", 0) >= 12 &&
        node.stored_once_created(output_path).size() == records.value("count", 0u))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(records.value("count", 0), 12) << records.dump();
  models::SeriesHistory by_path;
  by_path[input_path] = history_of(node.stored(input_path));
  by_path[x_path] = history_of(node.stored(x_path));
  std::map<std::int64_t, double> stored_output;
  for (const auto& s : node.stored(output_path))
    stored_output[s.ts_ns] = std::bit_cast<double>(s.value_bits);
  ASSERT_EQ(node.stop(), 0);

  // 5. Offline: the same windows from the stored history, the same feature code, the model file.
  std::vector<models::WindowColumn> columns;
  for (const auto& in : manifest->inputs) {
    auto c = models::parse_window_column(in.name);
    ASSERT_TRUE(c) << in.name;
    columns.push_back(*c);
  }
  std::vector<TimestampNs> times;
  for (const auto& r : records.at("records")) times.push_back(r.at("to_ns").get<std::int64_t>());
  auto rows = models::window_rows(columns, by_path, times);
  ASSERT_TRUE(rows) << rows.error().message();
  auto model = models::XgbModel::load(slurp(model_dir / "model.json"), 1);
  ASSERT_TRUE(model) << model.error().message();
  std::size_t i = 0, different = 0;
  for (const auto& r : records.at("records")) {
    SCOPED_TRACE(r.dump());
    EXPECT_EQ(r.at("version"), "1");  // the registry's production version
    ASSERT_TRUE((*rows)[i]);
    std::vector<float> x((*rows)[i]->begin(), (*rows)[i]->end());
    auto offline = model->predict({x.data(), 1, x.size()});
    ASSERT_TRUE(offline);
    const double live = r.at("outputs").at(0).get<double>();
    EXPECT_EQ(live, static_cast<double>((*offline)[0]));
    EXPECT_EQ(stored_output.at(times[i]), live);
    // The record's hash is of exactly these windows, one per input in manifest order.
    std::vector<models::WindowInput> windows(columns.size());
    for (std::size_t k = 0; k < columns.size(); ++k)
      models::select_window(by_path.at(columns[k].series), times[i], columns[k].window_ns,
                            windows[k]);
    EXPECT_EQ(r.at("input_sha256"), models::sha256_hex(models::canonical_window_encoding(windows)));
    different += i > 0 && live != records.at("records")[i - 1].at("outputs").at(0).get<double>();
    ++i;
  }
  EXPECT_GT(different, 0u) << "the model answered one constant: the comparison would prove little";
  std::fprintf(stderr, "%zu live runs compared with offline evaluation; %zu changes of output\n", i,
               different);
}

void write_threshold(const fs::path& dir, const std::string& version,
                     const nlohmann::json& params) {
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
                   {"files", nlohmann::json::array()},
                   {"lineage", {{"dataset_id", ""}, {"params", params}, {"code_version", "test"}}}};
  std::ofstream(dir / "manifest.json") << m.dump(2);
}

TEST(TrainedModel, RegistryStageDecidesTheDeployedVersionAcrossPromotionAndRollback) {
  NodeProcess node("registry_deploy");
  const fs::path store = node.dir() / "store";
  // Version 1 flags every load below 1000 % (always 1), version 2 every load above it (never): the
  // outputs say which version ran as clearly as the records do.
  {
    auto registry = models::ModelRegistry::open(store / "registry.sqlite");
    ASSERT_TRUE(registry) << registry.error().message();
    for (const auto& [version, params] :
         {std::pair{"1", R"({"min": 1000})"}, {"2", R"({"max": 1000})"}}) {
      write_threshold(store / "models" / "load-limit" / version, version,
                      nlohmann::json::parse(params));
      ASSERT_TRUE((*registry)
                      ->add("load-limit", version,
                            slurp(store / "models" / "load-limit" / version / "manifest.json"))
                      .is_ok());
    }
  }
  std::ofstream(node.config_file(), std::ios::app)
      << "[inference]\nenabled = true\nregistry = \"" << (store / "registry.sqlite").string()
      << "\"\ndeploy = \"load-limit\"\n";
  std::string out;
  // Nothing in production yet: the node refuses to start, naming the model.
  {
    ChildProcess serve({RESONANCE_BINARY, "serve", "--config", node.config_file().string()},
                       (node.dir() / "refused.log").string());
    ASSERT_TRUE(serve.started());
    EXPECT_NE(serve.wait(), 0);
    EXPECT_NE(slurp(node.dir() / "refused.log").find("inference.deploy 'load-limit'"),
              std::string::npos)
        << slurp(node.dir() / "refused.log");
  }

  std::int64_t after_ns = 0;
  // Each step: a registry change through the CLI, a start, a short stream, the records' version.
  const std::vector<std::tuple<std::vector<std::string>, std::string, double>> steps = {
      {{"promote", "load-limit", "1"}, "1", 1.0},
      {{"promote", "load-limit", "2"}, "2", 0.0},
      {{"rollback", "load-limit"}, "1", 1.0}};
  int round = 0;
  for (const auto& [command, version, flag] : steps) {
    SCOPED_TRACE("after model " + command[0] + ": expect version " + version);
    std::vector<std::string> args = {"model", "--store", store.string()};
    args.insert(args.end(), command.begin(), command.end());
    ASSERT_EQ(run_cli(node, args, out), 0) << out;
    ASSERT_NO_FATAL_FAILURE(node.start());
    auto sim = node.simulator(1, 2.0, 5.0, node.dir() / fmt::format("acks-{}.log", round++));
    ASSERT_TRUE(sim->started());
    ASSERT_EQ(sim->wait(), 0);
    nlohmann::json records = nlohmann::json::object();
    for (int i = 0; i < 50 && records.value("count", 0) < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      records =
          inference_records(node, fmt::format("model=load-limit&from={}&limit=1000", after_ns + 1));
    }
    ASSERT_GE(records.value("count", 0), 5) << records.dump();
    for (const auto& r : records.at("records")) {
      EXPECT_EQ(r.at("version"), version) << r.dump();
      EXPECT_EQ(r.at("outputs").at(0).get<double>(), flag) << r.dump();
      after_ns = std::max(after_ns, r.at("to_ns").get<std::int64_t>());
    }
    ASSERT_EQ(node.stop(), 0);
  }
}

TEST(TrainedModel, OnnxNetworkRunsLiveInTheNode) {
  // ONNX's own Sigmoid test network (Debian's libonnx-testdata) on two window features of the
  // spindle: every stored output is the sigmoid of the features of its window in the historian.
  // The temperature's slope (not its level, ~21 °C, whose sigmoid is 1 to 9 digits) makes the
  // outputs differ from run to run.
  const fs::path net = "/usr/share/libonnx-testdata/data/pytorch-converted/test_Sigmoid/model.onnx";
  ASSERT_TRUE(fs::exists(net)) << net
                               << " is missing: install libonnx-testdata (scripts/setup --test)";
  NodeProcess node("onnx_live");
  const fs::path dir = node.dir() / "sigmoid";
  fs::create_directories(dir);
  fs::copy_file(net, dir / "model.onnx");
  const nlohmann::json m{
      {"manifest_version", 1},
      {"name", "sigmoid"},
      {"version", "1"},
      {"interface", "predictive_maintenance"},
      {"backend", "onnx"},
      {"task", "regression"},
      {"inputs",
       {{{"name", "temp_slope"},
         {"category", "cnc"},
         {"signal", "spindle_temperature"},
         {"window_s", 2},
         {"step_s", 0},
         {"feature", "slope"}},
        {{"name", "load"},
         {"category", "cnc"},
         {"signal", "spindle_load"},
         {"window_s", 0},
         {"step_s", 0},
         {"feature", "last"}}}},
      {"outputs",
       {{{"name", "remaining_useful_life"}, {"type", "double"}},
        {{"name", "failure_probability_7d"}, {"type", "double"}}}},
      {"files",
       {{{"path", "model.onnx"}, {"sha256", models::sha256_hex(slurp(dir / "model.onnx"))}}}},
      {"onnx", {{"file", "model.onnx"}, {"input_shape", {-1, 2}}}},
      {"lineage",
       {{"dataset_id", std::string(64, 'a')},
        {"params", nlohmann::json::object()},
        {"code_version", "test"}}}};
  std::ofstream(dir / "manifest.json") << m.dump(2);
  std::ofstream(node.config_file(), std::ios::app)
      << "[inference]\nenabled = true\nmodel_dirs = \"" << dir.string() << "\"\n";
  ASSERT_NO_FATAL_FAILURE(node.start());
  auto sim = node.simulator(1, 3.0, 4.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());
  ASSERT_EQ(sim->wait(), 0);
  std::string temp_path, load_path;
  for (const auto& [path, samples] : read_ack_log(node.dir() / "acks.log")) {
    if (path.ends_with("/spindle_temperature")) temp_path = path;
    if (path.ends_with("/spindle_load")) load_path = path;
  }
  ASSERT_FALSE(temp_path.empty());
  const std::string equipment = temp_path.substr(0, temp_path.rfind('/'));
  const std::string rul = models::InferenceScheduler::output_path(
      equipment, "predictive_maintenance", "remaining_useful_life");
  nlohmann::json records = nlohmann::json::object();
  for (int i = 0; i < 50; ++i) {
    records = inference_records(node, "model=sigmoid&limit=1000");
    if (records.value("count", 0) >= 8 && node.stored_once_created(rul).size() == records.value("count", 0u))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(records.value("count", 0), 8) << records.dump();
  const auto temp = history_of(node.stored(temp_path));
  const auto load = history_of(node.stored(load_path));
  std::map<std::int64_t, double> stored_rul;
  for (const auto& s : node.stored(rul)) stored_rul[s.ts_ns] = std::bit_cast<double>(s.value_bits);
  ASSERT_EQ(node.stop(), 0);
  std::set<double> outputs;
  for (const auto& r : records.at("records")) {
    SCOPED_TRACE(r.dump());
    const std::int64_t to = r.at("to_ns");
    models::WindowInput tw, lw;
    models::select_window(temp, to, 2'000'000'000, tw);
    models::select_window(load, to, 0, lw);
    const float x0 = static_cast<float>(*models::window_feature("slope", tw));
    const float x1 = static_cast<float>(*models::window_feature("last", lw));
    EXPECT_NEAR(r.at("outputs").at(0).get<double>(), 1 / (1 + std::exp(-static_cast<double>(x0))),
                1e-6);
    EXPECT_NEAR(r.at("outputs").at(1).get<double>(), 1 / (1 + std::exp(-static_cast<double>(x1))),
                1e-6);
    EXPECT_EQ(stored_rul.at(to), r.at("outputs").at(0).get<double>());
    outputs.insert(r.at("outputs").at(0).get<double>());
  }
  EXPECT_GT(outputs.size(), 2u) << "a constant output would prove little";
}

}  // namespace
}  // namespace resonance::testing
