#include "resonance/models/inference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <thread>
#include <mutex>

#include "resonance/infomodel/loader.h"
#include "resonance/models/dataset.h"
#include "resonance/models/xgboost_model.h"
#include "tests/unit/models/fake_consumer.h"

namespace resonance::models {
namespace {

using test_support::FakeConsumer;


ModelManifest threshold_manifest() {
  ModelManifest m;
  m.name = "load-limit";
  m.version = "1";
  m.interface_id = "anomaly_detection";
  m.backend = "threshold";
  m.task = "binary";
  m.inputs = {{"load", "cnc", "spindle_load", 0, 0, "last"}};
  m.outputs = {{"anomaly_score", infomodel::DataType::kDouble}, {"anomalous", infomodel::DataType::kBool}};
  m.params_json = R"({"max": 80})";
  m.code_version = "test";
  return m;
}

struct Rig {
  Rig() {
    catalog = std::move(*SeriesCatalog::open(":memory:"));
    load = *catalog->resolve("site/area/line1/cnc-01/spindle_load");
    temp = *catalog->resolve("site/area/line1/cnc-01/spindle_temperature");
  }
  std::unique_ptr<SeriesCatalog> catalog;
  SeriesId load = 0, temp = 0;
  FakeConsumer consumer;
  std::mutex mu;
  std::vector<InferenceRecord> records;
  InferenceRecordSink sink() {
    return [this](std::vector<InferenceRecord>&& r) {
      std::lock_guard lock(mu);
      records.insert(records.end(), r.begin(), r.end());
    };
  }
};

SampleBatch batch_of(std::vector<Sample> samples) { return SampleBatch{std::move(samples), {"test", "dev", 0, {}}}; }

TEST(WindowRing, KeepsTheNewestSamplesAndSelectsByTime) {
  WindowRing ring(4);
  for (int i = 1; i <= 6; ++i) ring.push(i * 100, i);
  EXPECT_EQ(ring.size(), 4u);
  EXPECT_EQ(ring.newest_ts(), 600);
  WindowInput w;
  ring.window(600, 250, w);  // (350, 600]
  EXPECT_EQ(w.ts_ns, (std::vector<TimestampNs>{400, 500, 600}));
  EXPECT_EQ(w.values, (std::vector<double>{4, 5, 6}));
  ring.window(550, 0, w);  // the newest at or before 550
  EXPECT_EQ(w.ts_ns, (std::vector<TimestampNs>{500}));
  ring.window(600, 10'000, w);  // more than the ring holds: what it holds
  EXPECT_EQ(w.values.size(), 4u);
  EXPECT_EQ(w.values.front(), 3);
}

TEST(WindowFeature, ComputesEachFeatureAndRefusesDerived) {
  WindowInput w{{0, 1'000'000'000, 2'000'000'000, 3'000'000'000}, {1, 3, 5, 7}};
  EXPECT_DOUBLE_EQ(*window_feature("last", w), 7);
  EXPECT_DOUBLE_EQ(*window_feature("mean", w), 4);
  EXPECT_DOUBLE_EQ(*window_feature("std", w), std::sqrt(5.0));
  EXPECT_DOUBLE_EQ(*window_feature("slope", w), 2);  // per second
  EXPECT_DOUBLE_EQ(*window_feature("min", w), 1);
  EXPECT_DOUBLE_EQ(*window_feature("max", w), 7);
  auto derived = window_feature("derived", w);
  ASSERT_FALSE(derived);
  EXPECT_NE(derived.error().message().find("'derived'"), std::string::npos);
  EXPECT_FALSE(window_feature("mean", WindowInput{}));
}

TEST(CanonicalWindow, IsTheDocumentedLittleEndianLayout) {
  const WindowInput in[] = {{{1}, {1.0}}, {{}, {}}};
  const std::string bytes = canonical_window_encoding(in);
  // count 1 | ts 1 | 1.0 = 0x3ff0000000000000 | count 0
  const std::string want = std::string("\x01\x00\x00\x00", 4) + std::string("\x01\0\0\0\0\0\0\0", 8) +
                           std::string("\0\0\0\0\0\0\xf0\x3f", 8) + std::string(4, '\0');
  EXPECT_EQ(bytes, want);
  // The split between inputs is part of the encoding: moving a sample changes the bytes.
  const WindowInput moved[] = {{{}, {}}, {{1}, {1.0}}};
  EXPECT_NE(canonical_window_encoding(moved), bytes);
}

TEST(InferenceScheduler, ThresholdModelWritesOutputSeriesAndRecords) {
  Rig rig;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink());
  ASSERT_TRUE(s.deploy({threshold_manifest(), {}}).is_ok());
  s.start();
  // The temperature is not an input: it must not trigger runs.
  EXPECT_EQ(s.on_durable(batch_of({{rig.load, 1000, 50.0, {}}, {rig.temp, 1000, 20.0, {}}, {rig.load, 2000, 95.0, {}}})),
            Admission::kAccepted);
  EXPECT_EQ(s.on_durable(batch_of({{rig.load, 3000, 10.0, {}}, {rig.load, 3500, 99.0, {Quality::kBad}}})),
            Admission::kAccepted);
  s.stop();

  const auto stats = s.stats();
  EXPECT_EQ(stats.runs, 3u);  // the bad-quality sample is not a measurement
  EXPECT_EQ(stats.outputs_written, 6u);
  const auto score = rig.catalog->find("site/area/line1/cnc-01/ai.anomaly_detection.anomaly_score");
  const auto flag = rig.catalog->find("site/area/line1/cnc-01/ai.anomaly_detection.anomalous");
  ASSERT_TRUE(score && flag);
  std::map<TimestampNs, double> flags;
  for (const auto& b : rig.consumer.batches) {
    EXPECT_EQ(b.provenance.connector, "inference");
    EXPECT_EQ(b.provenance.client_id, "load-limit@1");
    for (const auto& smp : b.samples)
      if (smp.series == flag->id) flags[smp.ts_ns] = smp.value;
  }
  EXPECT_EQ(flags, (std::map<TimestampNs, double>{{1000, 0.0}, {2000, 1.0}, {3000, 0.0}}));

  ASSERT_EQ(rig.records.size(), 3u);
  const auto& r = rig.records[1];
  EXPECT_EQ(r.model, "load-limit");
  EXPECT_EQ(r.equipment, "site/area/line1/cnc-01");
  EXPECT_EQ(r.window_to_ns, 2000);
  EXPECT_EQ(r.outputs, (std::vector<double>{1.0, 1.0}));
  const WindowInput expect[] = {{{2000}, {95.0}}};
  EXPECT_EQ(r.input_sha256, sha256_hex(canonical_window_encoding(expect)));
}

TEST(InferenceScheduler, StepAndWindowDecideWhenAndOnWhatAModelRuns) {
  Rig rig;
  auto m = threshold_manifest();
  m.inputs[0] = {"load_mean", "cnc", "spindle_load", 2.0, 1.0, "mean"};
  m.params_json = R"({"max": 60})";
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink());
  ASSERT_TRUE(s.deploy({m, {}}).is_ok());
  s.start();
  std::vector<Sample> samples;
  for (int i = 0; i < 10; ++i)  // 2 Hz for 5 s: 40, 50, …
    samples.push_back({rig.load, i * 500'000'000LL, 40.0 + 5 * i, {}});
  s.on_durable(batch_of(samples));
  s.stop();
  // Runs at 0, 1, 2, 3, 4 s (step 1 s), each on the mean of the samples in (t − 2 s, t].
  ASSERT_EQ(rig.records.size(), 5u);
  EXPECT_EQ(rig.records[2].window_to_ns, 2'000'000'000);
  EXPECT_EQ(rig.records[2].window_from_ns, 0);
  EXPECT_EQ(rig.records[2].window_samples, 4u);  // 0.5, 1, 1.5, 2 s
  EXPECT_EQ(rig.records[2].outputs[1], 0.0);      // mean 52.5
  EXPECT_EQ(rig.records[4].outputs[1], 1.0);      // mean of 65, 70, 75, 80 = 72.5 > 60
}

TEST(InferenceScheduler, RetryLaterIsRetriedThenDroppedAndCounted) {
  Rig rig;
  rig.consumer.answer = Admission::kRetryLater;
  InferenceOptions options;
  options.max_output_attempts = 3;
  options.output_retry_ms = 1;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink(), options);
  ASSERT_TRUE(s.deploy({threshold_manifest(), {}}).is_ok());
  s.start();
  s.on_durable(batch_of({{rig.load, 1000, 90.0, {}}}));
  for (int i = 0; i < 200 && s.stats().dropped_outputs == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  s.stop();
  EXPECT_EQ(s.stats().dropped_outputs, 2u);  // both outputs of the one run
  EXPECT_EQ(s.stats().output_retries, 3u);
  EXPECT_EQ(s.stats().outputs_written, 0u);
  EXPECT_EQ(s.stats().runs, 1u);  // the run itself happened and is counted,
  // but not logged: no durable output of it (or after it) proves its input durable.
  EXPECT_EQ(rig.records.size(), 0u);
  EXPECT_EQ(s.stats().unconfirmed_records, 1u);
}

// Polls `done` for up to 5 s.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

std::size_t record_count(Rig& rig) {
  std::lock_guard lock(rig.mu);
  return rig.records.size();
}

// A started scheduler whose outputs the consumer accepts but holds (durable only once released),
// fed two loads that run two windows; null unless both windows' outputs were handed over.
std::unique_ptr<InferenceScheduler> run_two_windows_held(Rig& rig) {
  rig.consumer.hold = true;
  InferenceOptions o;
  o.record_flush_ms = 5;
  auto s = std::make_unique<InferenceScheduler>(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink(), o);
  if (!s->deploy({threshold_manifest(), {}}).is_ok()) return nullptr;
  s->start();
  if (s->on_accepted(batch_of({{rig.load, 1000, 50.0, {}}, {rig.load, 2000, 95.0, {}}})) != Admission::kAccepted)
    return nullptr;
  if (!eventually([&] { return s->stats().outputs_written == 4; })) return nullptr;
  return s;
}

// Models run on accepted samples, not yet durable: a record reaches the sink only once an output
// batch written after its window is durable, which proves the window's inputs durable.
TEST(InferenceScheduler, RecordsWaitUntilTheirOutputsAreDurable) {
  Rig rig;
  auto held = run_two_windows_held(rig);
  ASSERT_TRUE(held);
  InferenceScheduler& s = *held;
  // Many flush intervals later the outputs are accepted but not durable: no record yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(record_count(rig), 0u);
  rig.consumer.release(Status::ok());
  EXPECT_TRUE(eventually([&] { return record_count(rig) == 2; })) << record_count(rig);
  s.stop();
  EXPECT_EQ(s.stats().unconfirmed_records, 0u);
  EXPECT_EQ(record_count(rig), 2u);
}

TEST(InferenceScheduler, RecordsWhoseOutputsNeverBecomeDurableAreCountedNotLogged) {
  Rig rig;
  auto held = run_two_windows_held(rig);
  ASSERT_TRUE(held);
  InferenceScheduler& s = *held;
  rig.consumer.release(Status(StatusCode::kUnavailable, "fdatasync failed"));
  EXPECT_TRUE(eventually([&] { return s.stats().unconfirmed_records == 2; })) << s.stats().unconfirmed_records;
  // The next window's outputs are durable: only its record is logged.
  {
    std::lock_guard lock(rig.consumer.mu);
    rig.consumer.hold = false;
  }
  EXPECT_EQ(s.on_accepted(batch_of({{rig.load, 3000, 10.0, {}}})), Admission::kAccepted);
  EXPECT_TRUE(eventually([&] { return record_count(rig) == 1; }));
  s.stop();
  ASSERT_EQ(rig.records.size(), 1u);
  EXPECT_EQ(rig.records[0].window_to_ns, 3000);
  EXPECT_EQ(s.stats().unconfirmed_records, 2u);
}

// on_accepted runs on every connector's thread: two feeding at once lose nothing.
TEST(InferenceScheduler, TwoConnectorsFeedingAtOnceLoseNoSample) {
  Rig rig;
  const SeriesId other = *rig.catalog->resolve("site/area/line1/cnc-02/spindle_load");
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink());
  ASSERT_TRUE(s.deploy({threshold_manifest(), {}}).is_ok());
  s.start();
  auto feed = [&s](SeriesId series) {
    for (int i = 1; i <= 500; ++i) (void)s.on_accepted(batch_of({{series, i * 1000, 50.0, {}}}));
  };
  std::thread a(feed, rig.load), b(feed, other);
  a.join();
  b.join();
  s.stop();
  EXPECT_EQ(s.stats().runs, 1000u);
  EXPECT_EQ(s.stats().skipped_samples, 0u);
  EXPECT_EQ(record_count(rig), 1000u);
}

TEST(InferenceScheduler, FullHandOffTurnsSamplesAwayWithoutBlocking) {
  Rig rig;
  InferenceOptions options;
  options.max_pending_samples = 2;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink(), options);
  ASSERT_TRUE(s.deploy({threshold_manifest(), {}}).is_ok());
  // Not started: nothing drains the hand-off.
  EXPECT_EQ(s.on_durable(batch_of({{rig.load, 1, 1.0, {}}, {rig.load, 2, 1.0, {}}})), Admission::kAccepted);
  EXPECT_EQ(s.on_durable(batch_of({{rig.load, 3, 1.0, {}}})), Admission::kRetryLater);
  EXPECT_EQ(s.stats().skipped_samples, 1u);
}

TEST(InferenceScheduler, DeployRefusesWhatCannotRunLive) {
  Rig rig;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink());
  auto derived = threshold_manifest();
  derived.inputs[0].feature = "derived";
  Status st = s.deploy({derived, {}});
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("inputs[0] 'load'"), std::string::npos) << st.message();

  auto wildcard = threshold_manifest();
  wildcard.inputs[0].signal = "*";
  st = s.deploy({wildcard, {}});
  EXPECT_NE(st.message().find("not a signal of the information model"), std::string::npos) << st.message();

  auto no_params = threshold_manifest();
  no_params.params_json = "{}";
  st = s.deploy({no_params, {}});
  EXPECT_NE(st.message().find("lineage.params.min or .max"), std::string::npos) << st.message();

  auto wrong_output = threshold_manifest();
  wrong_output.outputs[0].name = "score";
  st = s.deploy({wrong_output, {}});
  EXPECT_NE(st.message().find("has no such output"), std::string::npos) << st.message();

  ASSERT_TRUE(s.deploy({threshold_manifest(), {}}).is_ok());
  st = s.deploy({threshold_manifest(), {}});
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  auto same_interface = threshold_manifest();
  same_interface.name = "other";
  same_interface.backend = "ewma";
  st = s.deploy({same_interface, {}});
  EXPECT_NE(st.message().find("would be the same series"), std::string::npos) << st.message();
}

TEST(InferenceScheduler, EwmaScoresASpikeAfterWarmup) {
  Rig rig;
  auto m = threshold_manifest();
  m.name = "load-ewma";
  m.backend = "ewma";
  m.params_json = R"({"alpha": 0.2, "threshold": 4, "warmup": 20})";
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink());
  ASSERT_TRUE(s.deploy({m, {}}).is_ok());
  s.start();
  std::vector<Sample> samples;
  for (int i = 0; i < 60; ++i) samples.push_back({rig.load, (i + 1) * 1000LL, 50.0 + (i % 2), {}});
  samples.push_back({rig.load, 61'000, 90.0, {}});
  s.on_durable(batch_of(samples));
  s.stop();
  ASSERT_EQ(rig.records.size(), 61u);
  for (std::size_t i = 0; i < 60; ++i) EXPECT_EQ(rig.records[i].outputs[1], 0.0) << i;
  EXPECT_EQ(rig.records.back().outputs[1], 1.0);
  EXPECT_GT(rig.records.back().outputs[0], 0.5);  // squashed score: 0.5 at the threshold
  EXPECT_LT(rig.records.back().outputs[0], 1.0);
}

TEST(InferenceScheduler, XgboostModelPredictsOnLiveFeatures) {
  // y = 2 × mean − slope over a window, learnt from synthetic rows, then run on live windows.
  std::vector<float> x, y;
  for (int i = 0; i < 400; ++i) {
    const float mean = static_cast<float>(i % 40), slope = static_cast<float>((i * 7) % 11) - 5;
    x.push_back(mean);
    x.push_back(slope);
    y.push_back(2 * mean - slope);
  }
  TrainParams p;
  p.rounds = 60;
  p.max_depth = 4;
  p.eta = 0.3;
  p.nthread = 1;
  auto model = XgbModel::train({x.data(), 400, 2}, y, p);
  ASSERT_TRUE(model) << model.error().message();
  const auto dir = std::filesystem::temp_directory_path() / ("inference_xgb_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string bytes = *model->save();
  std::ofstream(dir / "model.json", std::ios::binary) << bytes;

  ModelManifest m;
  m.name = "load-rul";
  m.version = "2";
  m.interface_id = "predictive_maintenance";
  m.backend = "xgboost";
  m.task = "regression";
  m.inputs = {{"load_mean", "cnc", "spindle_load", 10, 0, "mean"}, {"load_slope", "cnc", "spindle_load", 10, 0, "slope"}};
  m.outputs = {{"remaining_useful_life", infomodel::DataType::kDouble}};
  m.files = {{"model.json", sha256_hex(bytes)}};
  m.dataset_id = std::string(64, 'c');
  m.code_version = "test";

  Rig rig;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink());
  auto tampered = m;
  tampered.files[0].sha256 = std::string(64, '0');
  EXPECT_EQ(s.deploy({tampered, dir}).code(), StatusCode::kCorruption);
  ASSERT_TRUE(s.deploy({m, dir}).is_ok());
  s.start();
  // A flat window at 20: mean 20, slope 0, so the model should say about 40.
  std::vector<Sample> samples;
  for (int i = 0; i < 5; ++i) samples.push_back({rig.load, (i + 1) * 1'000'000'000LL, 20.0, {}});
  s.on_durable(batch_of(samples));
  s.stop();
  ASSERT_EQ(rig.records.size(), 5u);
  EXPECT_NEAR(rig.records.back().outputs[0], 40.0, 3.0);
  const auto rul = rig.catalog->find("site/area/line1/cnc-01/ai.predictive_maintenance.remaining_useful_life");
  ASSERT_TRUE(rul);
  EXPECT_EQ(rul->unit, "HUR");  // the contract's unit
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::models
