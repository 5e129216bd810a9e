// A model trained on an imported file with derived columns runs live, through the real binary: an
// AI4I-like CSV → `dataset create --transform` (the physics features: temperature difference,
// power = torque × angular speed, strain = wear × torque over the type's limit) → `model train
// --map COLUMN=CATEGORY/SIGNAL` → `resonance serve` with the model in [inference] model_dirs → a
// device publishes each CSV row's raw values as samples of the mapped signals over MQTT-SN → every
// stored output equals the trained model's prediction for the same row of the derived dataset.
// Before that, the same model trained without --map is refused at the node's start, naming the
// input and the remedy.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <sstream>

#include "../end_to_end/node_fixture.h"
#include "connectors/mqttsn/client.h"
#include "connectors/mqttsn/payload.h"
#include "resonance/models/dataset.h"
#include "resonance/models/inference.h"
#include "resonance/models/manifest.h"
#include "resonance/models/xgboost_model.h"

namespace resonance::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kRows = 240;
constexpr const char* kEquipment = "plant1/machining/line1/cnc-07";

// The raw columns and the signal each is read from live (values within the signals' ranges).
const std::vector<std::pair<std::string, std::string>> kColumns = {
    {"Type", "tool_id"},
    {"Air temperature [C]", "x_axis_temperature"},
    {"Process temperature [C]", "spindle_temperature"},
    {"Rotational speed [rpm]", "spindle_speed"},
    {"Torque [Nm]", "spindle_load"},
    {"Tool wear [min]", "tool_wear"}};

struct Row {
  std::string type;
  double values[5];  // air, process, speed, torque, wear
  int failure;
};

std::vector<Row> rows() {
  std::vector<Row> out;
  const char* types[] = {"L", "M", "H"};
  for (int i = 0; i < kRows; ++i) {
    Row r;
    r.type = types[(i * 7) % 3];
    const double air = 22 + (i % 41) * 0.1, process = air + 6 + (i % 9) * 0.45;
    const double rpm = 1200 + (i * 53) % 1600, torque = 5 + (i * 17 % 600) * 0.1, wear = (i * 7) % 240;
    r.values[0] = air;
    r.values[1] = process;
    r.values[2] = rpm;
    r.values[3] = torque;
    r.values[4] = wear;
    const double limit = r.type == "H" ? 13000 : r.type == "L" ? 11000 : 12000;
    const double power = torque * rpm * 2 * std::numbers::pi / 60;
    r.failure = power > 9000 || wear * torque > limit || process - air < 7.5;
    out.push_back(r);
  }
  return out;
}

constexpr std::string_view kTransform = R"({
  "transform_version": 1,
  "inputs": [
    {"name": "Type", "type": "code", "codes": {"H": 0, "L": 1, "M": 2}},
    "Air temperature [C]", "Process temperature [C]", "Rotational speed [rpm]", "Torque [Nm]", "Tool wear [min]"
  ],
  "define": [
    {"name": "temperature difference [K]", "op": "difference", "args": ["Process temperature [C]", "Air temperature [C]"]},
    {"name": "torque x speed x 2pi", "op": "product", "args": ["Torque [Nm]", "Rotational speed [rpm]", 2, 3.141592653589793]},
    {"name": "power [W]", "op": "ratio", "args": ["torque x speed x 2pi", 60]},
    {"name": "strain [min Nm]", "op": "product", "args": ["Tool wear [min]", "Torque [Nm]"]},
    {"name": "overstrain limit", "op": "lookup", "args": ["Type"], "table": {"H": 13000, "L": 11000, "M": 12000}},
    {"name": "strain / type limit", "op": "ratio", "args": ["strain [min Nm]", "overstrain limit"]}
  ],
  "columns": ["Type", "Air temperature [C]", "Process temperature [C]", "Rotational speed [rpm]", "Torque [Nm]",
              "Tool wear [min]", "temperature difference [K]", "power [W]", "strain / type limit"]
})";

std::string dataset_id_in(const std::string& output) {
  std::istringstream lines(output);
  std::string line, id;
  while (std::getline(lines, line))
    if (line.size() == 64 && line.find_first_not_of("0123456789abcdef") == std::string::npos) id = line;
  return id;
}

TEST(DerivedModel, ImportedFileWithDerivedColumnsRunsLiveAsTheDatasetRowsSay) {
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  NodeProcess node("derived_model");
  const fs::path store = node.dir() / "store";
  const auto data = rows();
  {
    std::ofstream csv(node.dir() / "machines.csv");
    csv << "UDI,Type";
    for (std::size_t k = 1; k < kColumns.size(); ++k) csv << "," << kColumns[k].first;
    csv << ",Machine failure\r\n";
    for (std::size_t i = 0; i < data.size(); ++i) {
      csv << (i + 1) << "," << data[i].type;
      for (double v : data[i].values) csv << "," << fmt::format("{}", v);  // shortest text that reads back the same
      csv << "," << data[i].failure << "\r\n";
    }
  }
  std::ofstream(node.dir() / "physics.json") << kTransform;

  // 1. The dataset: the raw import and the derived columns, whose lineage records the transform.
  std::string out;
  ASSERT_EQ(run_cli(node,
                    {"dataset", "--store", (store / "datasets").string(), "create", (node.dir() / "machines.csv").string(),
                     "--label", "Machine failure", "--exclude", "UDI", "--categorical", "Type", "--transform",
                     (node.dir() / "physics.json").string()},
                    out),
            0)
      << out;
  const std::string id = dataset_id_in(out);
  ASSERT_FALSE(id.empty()) << out;
  auto ds = models::DatasetStore(store / "datasets").get(id);
  ASSERT_TRUE(ds) << ds.error().message();
  ASSERT_EQ(ds->rows, data.size());
  ASSERT_EQ(ds->cols(), 9u);
  ASSERT_TRUE(ds->lineage.transform.starts_with("transform_v1 sha256=")) << ds->lineage.transform;
  ASSERT_EQ(ds->lineage.sources.size(), 2u);
  EXPECT_EQ(ds->lineage.sources[1].kind, "dataset");

  // 2. Trained without --map: the manifest records the transform but no signal; the node refuses it
  //    at start, naming the input and the remedy.
  const fs::path unmapped = node.dir() / "unmapped";
  std::vector<std::string> train = {"model",     "--store", store.string(), "train",    "--dataset",
                                    id,          "--task",  "binary",       "--rounds", "40",
                                    "--nthread", "1",       "--name",       "failure",  "--interface",
                                    "anomaly_detection",    "--output",     "anomaly_score"};
  auto with = [&](std::vector<std::string> extra, const fs::path& dir) {
    auto args = train;
    args.insert(args.end(), {"--out", dir.string()});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ASSERT_EQ(run_cli(node, with({}, unmapped), out), 0) << out;
  {
    std::ofstream(node.config_file(), std::ios::app)
        << "[inference]\nenabled = true\nmodel_dirs = \"" << unmapped.string() << "\"\n";
    ChildProcess serve({RESONANCE_BINARY, "serve", "--config", node.config_file().string()},
                       (node.dir() / "refused.log").string());
    ASSERT_TRUE(serve.started());
    EXPECT_NE(serve.wait(), 0);
    const std::string log = slurp(node.dir() / "refused.log");
    EXPECT_NE(log.find("inputs[0] 'Type': computed from the raw input 'Type', which maps to no live signal; retrain "
                       "with `resonance model train … --map 'Type=CATEGORY/SIGNAL'`"),
              std::string::npos)
        << log;
  }

  // --map mistakes are named before any training: a column the transform does not read, a signal
  // the information model does not have, a raw column left without a signal.
  const std::vector<std::pair<std::string, std::string>> mistakes = {
      {"Torqe [Nm]=cnc/spindle_load",
       "--map 'Torqe [Nm]=cnc/spindle_load': 'Torqe [Nm]' is not a raw column of the dataset's transform (raw "
       "columns: Type, Air temperature [C],"},
      {"Torque [Nm]=cnc/torque",
       "--map 'Torque [Nm]=cnc/torque': cnc/torque is not a signal of the information model"},
      {"Torque [Nm]=cnc/spindle_load",
       "--map: raw column 'Type' maps to no signal; a live model reads every raw column (add --map "
       "'Type=CATEGORY/SIGNAL')"}};
  for (const auto& [map, message] : mistakes) {
    EXPECT_EQ(run_cli(node, with({"--map", map}, node.dir() / "mistake"), out), 2) << out;
    EXPECT_NE(out.find(message), std::string::npos) << out;
  }

  // 3. Trained with --map for every raw column: the manifest says how each input is computed.
  const fs::path model_dir = node.dir() / "failure";
  std::vector<std::string> maps;
  for (const auto& [column, signal] : kColumns) maps.insert(maps.end(), {"--map", column + "=cnc/" + signal});
  ASSERT_EQ(run_cli(node, with(maps, model_dir), out), 0) << out;
  auto manifest = models::parse_manifest(slurp(model_dir / "manifest.json"), "manifest.json");
  ASSERT_TRUE(manifest) << manifest.error().message();
  ASSERT_TRUE(manifest->transform);
  EXPECT_EQ(manifest->transform->sha256, ds->lineage.transform.substr(20, 64));
  ASSERT_EQ(manifest->transform->signals.size(), kColumns.size());
  EXPECT_EQ(manifest->inputs[4].feature, "last");
  EXPECT_EQ(manifest->inputs[4].signal, "spindle_load");
  EXPECT_EQ(manifest->inputs[7].name, "power [W]");
  EXPECT_EQ(manifest->inputs[7].feature, "derived");
  ASSERT_EQ(run_cli(node, {"model", "validate", (model_dir / "manifest.json").string()}, out), 0) << out;

  // 4. The node runs it; a device publishes each row's raw values, all six signals of a row in one
  //    multi-signal PUBLISH with the row's timestamp.
  {
    std::string config = slurp(node.config_file());
    config.replace(config.find(unmapped.string()), unmapped.string().size(), model_dir.string());
    std::ofstream(node.config_file(), std::ios::trunc) << config;
  }
  ASSERT_NO_FATAL_FAILURE(node.start());
  mqttsn::ClientOptions options;
  options.port = node.mqttsn_port();
  options.client_id = "cnc-07";
  auto client = mqttsn::Client::connect(options);
  ASSERT_TRUE(client) << client.error().message();
  auto topic = (*client)->register_topic(kEquipment);
  ASSERT_TRUE(topic) << topic.error().message();
  const TimestampNs base = (unix_now_ns() / 1'000'000'000 - 120) * 1'000'000'000;
  auto ts_of = [&](std::size_t i) { return base + static_cast<TimestampNs>(i) * 250'000'000; };
  const std::map<std::string, double> code = {{"H", 0}, {"L", 1}, {"M", 2}};
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::vector<mqttsn::SignalSamples> signals;
    signals.push_back({kColumns[0].second, {{ts_of(i), code.at(data[i].type), {}}}});
    for (std::size_t k = 1; k < kColumns.size(); ++k)
      signals.push_back({kColumns[k].second, {{ts_of(i), data[i].values[k - 1], {}}}});
    auto payload = mqttsn::encode_multi_signal(signals);
    ASSERT_TRUE(payload) << payload.error().message();
    auto sent = (*client)->publish_qos1(*topic, *payload);
    ASSERT_TRUE(sent) << sent.error().message();
    ASSERT_EQ(*sent, mqttsn::PublishOutcome::kAccepted) << "row " << i;
  }
  (void)(*client)->disconnect();

  const std::string output =
      models::InferenceScheduler::output_path(kEquipment, "anomaly_detection", "anomaly_score");
  std::vector<AckedSample> outputs;
  for (int i = 0; i < 100 && outputs.size() < data.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    outputs = node.stored_once_created(output);
  }
  ASSERT_EQ(node.stop(), 0);
  ASSERT_EQ(outputs.size(), data.size()) << "one output per row";

  // 5. Offline: the model file on the derived dataset's rows.
  auto model = models::XgbModel::load(slurp(model_dir / "model.json"), 1);
  ASSERT_TRUE(model) << model.error().message();
  auto offline = model->predict({ds->features.data(), ds->rows, ds->cols()});
  ASSERT_TRUE(offline) << offline.error().message();
  std::set<double> distinct;
  for (std::size_t i = 0; i < data.size(); ++i) {
    ASSERT_EQ(outputs[i].ts_ns, ts_of(i));
    const double live = std::bit_cast<double>(outputs[i].value_bits);
    EXPECT_EQ(live, static_cast<double>((*offline)[i])) << "row " << i + 1;
    distinct.insert(live);
  }
  EXPECT_GT(distinct.size(), 5u) << "a near-constant model would prove little";
  std::fprintf(stderr, "%zu live outputs equal to the offline predictions (%zu distinct values)\n", outputs.size(),
               distinct.size());
}

}  // namespace
}  // namespace resonance::testing
