// InferenceScheduler::swap: a registry promote/rollback switches the running version between two
// windows (docs/models.md "Switching versions live").

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <variant>

#include "resonance/infomodel/loader.h"
#include "resonance/models/dataset.h"
#include "resonance/models/inference.h"
#include "resonance/models/xgboost_model.h"
#include "tests/unit/models/fake_consumer.h"
#include "tests/unit/models/threshold_manifest.h"

namespace resonance::models {
namespace {

using test_support::FakeConsumer;

using test_support::threshold_manifest;

// What the sinks saw, in the order they saw it: records and switches interleaved.
struct Rig {
  Rig() {
    catalog = std::move(*SeriesCatalog::open(":memory:"));
    load = *catalog->resolve("site/area/line1/cnc-01/spindle_load");
  }
  std::unique_ptr<SeriesCatalog> catalog;
  SeriesId load = 0;
  FakeConsumer consumer;
  std::mutex mu;
  std::vector<std::variant<InferenceRecord, ModelSwitch>> seen;
  InferenceRecordSink sink() {
    return [this](std::vector<InferenceRecord>&& r) {
      std::lock_guard lock(mu);
      for (auto& rec : r) seen.emplace_back(std::move(rec));
    };
  }
  ModelSwitchSink switches() {
    return [this](const ModelSwitch& e) {
      std::lock_guard lock(mu);
      seen.emplace_back(e);
    };
  }
};

SampleBatch batch_of(std::vector<Sample> samples) {
  return SampleBatch{std::move(samples), {"test", "dev", 0, {}}};
}

TEST(InferenceSwap, NewVersionRunsTheNextWindowAndItsOutputsNameIt) {
  Rig rig;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink(), {},
                       rig.switches());
  ASSERT_TRUE(s.deploy({threshold_manifest("1", 80), {}}).is_ok());
  s.start();
  s.on_durable(batch_of({{rig.load, 1000, 50.0, {}}, {rig.load, 2000, 50.0, {}}}));
  ASSERT_TRUE(s.swap({threshold_manifest("2", 20), {}}).is_ok());
  EXPECT_EQ(s.running_version("load-limit"), "2");
  s.on_durable(batch_of({{rig.load, 3000, 50.0, {}}, {rig.load, 4000, 50.0, {}}}));
  s.stop();

  // Records 1000 and 2000 by version 1 (50 ≤ 80: not anomalous), then the switch, then 3000 and
  // 4000 by version 2 (50 > 20): every window once, by one version.
  ASSERT_EQ(rig.seen.size(), 5u);
  std::vector<std::pair<TimestampNs, std::string>> runs;
  std::size_t switch_at = 0;
  for (std::size_t i = 0; i < rig.seen.size(); ++i) {
    if (const auto* r = std::get_if<InferenceRecord>(&rig.seen[i])) {
      runs.emplace_back(r->window_to_ns, r->version);
      EXPECT_EQ(r->outputs[1], r->version == "1" ? 0.0 : 1.0);
    } else {
      switch_at = i;
      const auto& e = std::get<ModelSwitch>(rig.seen[i]);
      EXPECT_EQ(e.model, "load-limit");
      EXPECT_EQ(e.from_version, "1");
      EXPECT_EQ(e.version, "2");
    }
  }
  EXPECT_EQ(switch_at, 2u);
  EXPECT_EQ(runs, (std::vector<std::pair<TimestampNs, std::string>>{
                      {1000, "1"}, {2000, "1"}, {3000, "2"}, {4000, "2"}}));
  // The output batches' provenance names the version that produced them.
  for (const auto& b : rig.consumer.batches)
    for (const auto& smp : b.samples)
      EXPECT_EQ(b.provenance.client_id, smp.ts_ns <= 2000 ? "load-limit@1" : "load-limit@2")
          << smp.ts_ns;
  EXPECT_EQ(s.stats().swaps, 1u);
  EXPECT_EQ(s.stats().refused_swaps, 0u);
}

TEST(InferenceSwap, WindowsCarryOverSoTheFirstNewWindowIsFull) {
  Rig rig;
  auto v1 = threshold_manifest("1", 1000);
  v1.inputs[0] = {"load_mean", "cnc", "spindle_load", 2.0, 1.0, "mean"};
  auto v2 = v1;
  v2.version = "2";
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink(), {},
                       rig.switches());
  ASSERT_TRUE(s.deploy({v1, {}}).is_ok());
  s.start();
  std::vector<Sample> first, second;
  for (int i = 0; i < 6; ++i)
    first.push_back({rig.load, i * 500'000'000LL, 10.0, {}});  // 0 … 2.5 s
  for (int i = 6; i < 10; ++i)
    second.push_back({rig.load, i * 500'000'000LL, 10.0, {}});  // 3 … 4.5 s
  s.on_durable(batch_of(first));
  ASSERT_TRUE(s.swap({v2, {}}).is_ok());
  s.on_durable(batch_of(second));
  s.stop();
  // Step 1 s: runs at 0, 1, 2 (v1), 3, 4 (v2); the run at 3 s sees 2.5 and 3 s from before the
  // switch.
  std::vector<InferenceRecord> records;
  for (auto& e : rig.seen)
    if (auto* r = std::get_if<InferenceRecord>(&e)) records.push_back(*r);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[3].version, "2");
  EXPECT_EQ(records[3].window_to_ns, 3'000'000'000);
  EXPECT_EQ(records[3].window_samples, 4u);  // 1.5, 2, 2.5, 3 s
}

TEST(InferenceSwap, SwitchesUnderLoadLeaveNoWindowOutAndNoneTwice) {
  Rig rig;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink(), {},
                       rig.switches());
  ASSERT_TRUE(s.deploy({threshold_manifest("1", 50), {}}).is_ok());
  s.start();
  std::atomic<bool> done{false};
  constexpr int kSamples = 20'000;
  std::thread feeder([&] {
    for (int i = 1; i <= kSamples; ++i) {
      while (s.on_durable(batch_of({{rig.load, i, 60.0, {}}})) != Admission::kAccepted)
        std::this_thread::yield();
    }
    done = true;
  });
  int switches = 0;
  while (!done) {
    ASSERT_TRUE(s.swap({threshold_manifest(switches % 2 == 0 ? "2" : "1", 50), {}}).is_ok());
    ++switches;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  feeder.join();
  s.stop();
  // Every sample ran exactly once, in order, each by the version the last switch before it named.
  std::string current = "1";
  TimestampNs expected = 1;
  int switch_events = 0;
  for (const auto& e : rig.seen) {
    if (const auto* sw = std::get_if<ModelSwitch>(&e)) {
      EXPECT_EQ(sw->from_version, current);
      current = sw->version;
      ++switch_events;
      continue;
    }
    const auto& r = std::get<InferenceRecord>(e);
    ASSERT_EQ(r.window_to_ns, expected);
    ASSERT_EQ(r.version, current) << "window " << r.window_to_ns;
    ++expected;
  }
  EXPECT_EQ(expected, kSamples + 1);
  EXPECT_EQ(switch_events, switches);
  EXPECT_EQ(s.stats().swaps, static_cast<std::uint64_t>(switches));
  EXPECT_EQ(s.stats().outputs_written, 2u * kSamples);
}

TEST(InferenceSwap, ABadVersionIsRefusedPreciselyAndTheOldOneRunsOn) {
  std::vector<float> x, y;
  for (int i = 0; i < 200; ++i) {
    x.push_back(static_cast<float>(i % 20));
    y.push_back(static_cast<float>(2 * (i % 20)));
  }
  TrainParams p;
  p.rounds = 10;
  p.nthread = 1;
  auto model = XgbModel::train({x.data(), 200, 1}, y, p);
  ASSERT_TRUE(model) << model.error().message();
  const auto dir =
      std::filesystem::temp_directory_path() / ("inference_swap_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string bytes = *model->save();
  std::ofstream(dir / "model.json", std::ios::binary) << bytes;

  ModelManifest v1;
  v1.name = "load-rul";
  v1.version = "1";
  v1.interface_id = "predictive_maintenance";
  v1.backend = "xgboost";
  v1.task = "regression";
  v1.inputs = {{"load_mean", "cnc", "spindle_load", 10, 0, "mean"}};
  v1.outputs = {{"remaining_useful_life", infomodel::DataType::kDouble}};
  v1.files = {{"model.json", sha256_hex(bytes)}};
  v1.dataset_id = std::string(64, 'c');
  v1.code_version = "test";

  Rig rig;
  InferenceScheduler s(infomodel::builtin_model(), *rig.catalog, rig.consumer, rig.sink(), {},
                       rig.switches());
  ASSERT_TRUE(s.deploy({v1, dir}).is_ok());
  s.start();

  auto next = v1;
  next.version = "2";
  auto missing = next;
  missing.files[0].path = "model-v2.json";
  Status st = s.swap({missing, dir});
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.message();
  EXPECT_NE(st.message().find("model-v2.json"), std::string::npos) << st.message();

  auto tampered = next;
  tampered.files[0].sha256 = std::string(64, '0');
  st = s.swap({tampered, dir});
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.message();

  auto wrong_output = next;
  wrong_output.outputs[0].name = "rul";
  st = s.swap({wrong_output, dir});
  EXPECT_NE(st.message().find("has no such output"), std::string::npos) << st.message();

  auto other_signal = next;
  other_signal.inputs[0].signal = "spindle_temperature";
  st = s.swap({other_signal, dir});
  EXPECT_NE(st.message().find("keeps the input signals"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("cnc/spindle_temperature"), std::string::npos) << st.message();

  auto unknown = next;
  unknown.name = "not-deployed";
  EXPECT_EQ(s.swap({unknown, dir}).code(), StatusCode::kNotFound);

  EXPECT_EQ(s.stats().refused_swaps, 5u);
  EXPECT_EQ(s.stats().swaps, 0u);
  EXPECT_EQ(s.running_version("load-rul"), "1");
  s.on_durable(batch_of({{rig.load, 1'000'000'000, 5.0, {}}}));
  ASSERT_TRUE(s.swap({next, dir}).is_ok());
  EXPECT_EQ(s.running_version("load-rul"), "2");
  s.stop();
  ASSERT_FALSE(rig.seen.empty());
  EXPECT_EQ(std::get<InferenceRecord>(rig.seen.front()).version, "1");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::models
