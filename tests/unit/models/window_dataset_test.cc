// Window datasets (training) and live inference compute the same features: a model trained on a
// window dataset, deployed as `model train` describes it, answers live exactly what the offline
// evaluation of the same windows answers.

#include "resonance/models/window_dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>

#include "resonance/infomodel/loader.h"
#include "resonance/models/inference.h"
#include "resonance/models/xgboost_model.h"
#include "tests/unit/models/fake_consumer.h"

namespace resonance::models {
namespace {

using test_support::FakeConsumer;

constexpr const char* kLoad = "site/area/line1/cnc-01/spindle_load";
constexpr const char* kTemp = "site/area/line1/cnc-01/spindle_temperature";
constexpr const char* kWear = "site/area/line1/cnc-01/tool_wear";
constexpr std::int64_t kSecond = 1'000'000'000;

// Load at 2 Hz with a slow wave, temperature at 1 Hz drifting up, wear (the label) at 0.5 Hz.
SeriesHistory history(int seconds) {
  SeriesHistory h;
  for (int i = 0; i < seconds * 2; ++i) {
    h[kLoad].ts_ns.push_back(i * kSecond / 2 + 7);
    h[kLoad].values.push_back(40 + 20 * std::sin(i * 0.07) + (i % 5));
  }
  for (int i = 0; i < seconds; ++i) {
    h[kTemp].ts_ns.push_back(i * kSecond + 3);
    h[kTemp].values.push_back(30 + i * 0.01);
  }
  for (int i = 0; i < seconds / 2; ++i) {
    h[kWear].ts_ns.push_back(i * 2 * kSecond + 1);
    h[kWear].values.push_back(0.5 * i + 3 * std::sin(i * 0.2));
  }
  return h;
}

WindowDatasetSpec spec() {
  WindowDatasetSpec s;
  s.columns = {{kLoad, "mean", 5 * kSecond},
               {kLoad, "std", 5 * kSecond},
               {kLoad, "slope", 5 * kSecond},
               {kTemp, "last", 0}};
  s.label = kWear;
  s.label_staleness_ns = 2 * kSecond;
  s.from_ns = 0;
  s.to_ns = 600 * kSecond;
  s.step_ns = kSecond;
  return s;
}

TEST(WindowDataset, RowsAreWindowFeaturesAtGridPoints) {
  const auto h = history(600);
  std::size_t skipped = 0;
  auto ds = dataset_from_windows(spec(), h, &skipped);
  ASSERT_TRUE(ds) << ds.error().message();
  // At t = 0 no sample is at or before it yet (the first load sample is at 7 ns): skipped.
  EXPECT_EQ(skipped, 1u);
  EXPECT_EQ(ds->rows, 599u);
  EXPECT_EQ(ds->feature_names[0], std::string(kLoad) + ":mean:5000000000ns");
  EXPECT_EQ(ds->label_name, kWear);
  // Row of t = 10 s: load samples in (5 s, 10 s] are those at 5 s … 9.5 s (+ 7 ns): 10 samples.
  WindowInput w;
  select_window(h.at(kLoad), 10 * kSecond, 5 * kSecond, w);
  ASSERT_EQ(w.values.size(), 10u);
  const float* row = ds->row(9);  // t = 10 s is the 10th grid point, the 9th row (t = 0 skipped)
  EXPECT_EQ(row[0], static_cast<float>(*window_feature("mean", w)));
  EXPECT_EQ(row[2], static_cast<float>(*window_feature("slope", w)));
  EXPECT_EQ(row[3],
            static_cast<float>(30 + 9 * 0.01));  // temperature's newest at or before 10 s: 9 s
  ASSERT_EQ(ds->lineage.sources.size(), 3u);
  EXPECT_EQ(ds->lineage.transform,
            "historian_window step_ns=1000000000 label_staleness_ns=2000000000");

  auto missing = h;
  missing.erase(kTemp);
  auto refused = dataset_from_windows(spec(), missing);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find(std::string("series '") + kTemp + "'"),
            std::string::npos);
  auto empty = spec();
  empty.to_ns = 1;
  EXPECT_NE(dataset_from_windows(empty, h).error().message().find("empty dataset"),
            std::string::npos);
}

TEST(WindowDataset, LiveInputsComeFromTheColumns) {
  auto ds = dataset_from_windows(spec(), history(60));
  ASSERT_TRUE(ds);
  auto inputs = live_inputs(*ds, infomodel::builtin_model());
  ASSERT_TRUE(inputs) << inputs.error().message();
  ASSERT_TRUE(*inputs);
  ASSERT_EQ((*inputs)->size(), 4u);
  const ManifestInput& slope = (**inputs)[2];
  EXPECT_EQ(slope.name, ds->feature_names[2]);
  EXPECT_EQ(slope.category, "cnc");
  EXPECT_EQ(slope.signal, "spindle_load");
  EXPECT_EQ(slope.feature, "slope");
  EXPECT_EQ(slope.window_s, 5.0);
  EXPECT_EQ(slope.step_s, 1.0);
  EXPECT_EQ((**inputs)[3].signal, "spindle_temperature");
  EXPECT_EQ((**inputs)[3].window_s, 0.0);

  Dataset imported = *ds;
  imported.lineage.transform = "columns";
  EXPECT_FALSE(*live_inputs(imported, infomodel::builtin_model()));  // columns stay `derived`
  Dataset unknown = *ds;
  unknown.feature_names[0] = "site/area/line1/cnc-01/no_such_signal:mean:5ns";
  auto refused = live_inputs(unknown, infomodel::builtin_model());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find(
                "dataset column 'site/area/line1/cnc-01/no_such_signal:mean:5ns'"),
            std::string::npos)
      << refused.error().message();
}


TEST(WindowDataset, ModelTrainedOnWindowsAnswersLiveWhatOfflineEvaluationAnswers) {
  const auto h = history(900);
  auto ds = dataset_from_windows(spec(), h);
  ASSERT_TRUE(ds) << ds.error().message();
  TrainParams p;
  p.rounds = 40;
  p.max_depth = 4;
  p.nthread = 1;
  auto model = XgbModel::train({ds->features.data(), ds->rows, ds->cols()}, ds->labels, p);
  ASSERT_TRUE(model) << model.error().message();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("window_dataset_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string bytes = *model->save();
  std::ofstream(dir / "model.json", std::ios::binary) << bytes;

  // The manifest as `model train` writes it for this dataset.
  ModelManifest m;
  m.name = "wear";
  m.version = "1";
  m.interface_id = "predictive_maintenance";
  m.backend = "xgboost";
  m.task = "regression";
  m.inputs = **live_inputs(*ds, infomodel::builtin_model());
  m.outputs = {{"remaining_useful_life", infomodel::DataType::kDouble}};
  m.files = {{"model.json", sha256_hex(bytes)}};
  m.dataset_id = dataset_id(*ds);

  auto catalog = std::move(*SeriesCatalog::open(":memory:"));
  const SeriesId load = *catalog->resolve(kLoad), temp = *catalog->resolve(kTemp);
  FakeConsumer consumer;
  std::mutex mu;
  std::vector<InferenceRecord> records;
  InferenceScheduler s(infomodel::builtin_model(), *catalog, consumer,
                       [&](std::vector<InferenceRecord>&& r) {
                         std::lock_guard lock(mu);
                         records.insert(records.end(), r.begin(), r.end());
                       });
  ASSERT_TRUE(s.deploy({m, dir}).is_ok());
  s.start();
  // The history as it would arrive: merged in time order, in batches of a few samples.
  std::vector<Sample> all;
  for (std::size_t i = 0; i < h.at(kLoad).ts_ns.size(); ++i)
    all.push_back({load, h.at(kLoad).ts_ns[i], h.at(kLoad).values[i], {}});
  for (std::size_t i = 0; i < h.at(kTemp).ts_ns.size(); ++i)
    all.push_back({temp, h.at(kTemp).ts_ns[i], h.at(kTemp).values[i], {}});
  std::ranges::sort(all, {}, &Sample::ts_ns);
  for (std::size_t i = 0; i < all.size(); i += 7)
    s.on_durable(SampleBatch{
        std::vector<Sample>(all.begin() + static_cast<std::ptrdiff_t>(i),
                            all.begin() + static_cast<std::ptrdiff_t>(std::min(i + 7, all.size()))),
        {"test", "dev", 0, {}}});
  s.stop();
  ASSERT_GT(records.size(), 800u);  // one run per second of sample time (step 1 s)

  // Offline: the same windows from the history, the same feature code, the model on the batch.
  std::vector<WindowColumn> columns;
  for (const auto& name : ds->feature_names) columns.push_back(*parse_window_column(name));
  std::vector<TimestampNs> times;
  for (const auto& r : records) times.push_back(r.window_to_ns);
  auto rows = window_rows(columns, h, times);
  ASSERT_TRUE(rows);
  std::vector<float> x;
  for (const auto& row : *rows) {
    ASSERT_TRUE(row);
    for (double v : *row) x.push_back(static_cast<float>(v));
  }
  auto offline = model->predict({x.data(), records.size(), columns.size()});
  ASSERT_TRUE(offline);
  for (std::size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(records[i].outputs.size(), 1u);
    ASSERT_EQ(records[i].outputs[0], static_cast<double>((*offline)[i]))
        << "run at " << records[i].window_to_ns;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::models
