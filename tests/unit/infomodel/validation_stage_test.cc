// Each quarantine reason of the model-backed validation stage, and that good samples pass.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "resonance/infomodel/loader.h"
#include "resonance/infomodel/validation_stage.h"

namespace resonance::infomodel {
namespace {

constexpr TimestampNs kNow = 1'750'000'000LL * kNanosPerSecond;

class StageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(c);
    catalog_ = std::move(*c);
    ModelValidationOptions options;
    options.now = [] { return kNow; };
    stage_ = make_model_validation_stage(builtin_model(), *catalog_, quarantine_, metrics_, options);
  }

  SeriesId id(std::string_view path) { return *catalog_->resolve(path); }

  // Runs one sample through the stage; true if it was kept.
  bool pass(std::string_view path, double value, TimestampNs ts = kNow, std::string connector = "test") {
    SampleBatch batch;
    batch.provenance.connector = std::move(connector);
    batch.samples.push_back({id(path), ts, value, {}});
    EXPECT_TRUE(stage_->process(batch).is_ok());
    return batch.samples.size() == 1;
  }

  std::uint64_t refused(std::string_view reason) {
    return metrics_.counter_value("resonance_infomodel_refused_total",
                                  fmt::format("reason=\"{}\"", reason));
  }

  std::string last_reason() {
    auto recent = quarantine_.recent();
    return recent.empty() ? std::string() : recent.back().reason;
  }

  MetricsRegistry metrics_;
  Quarantine quarantine_{metrics_, 100};
  std::unique_ptr<SeriesCatalog> catalog_;
  std::unique_ptr<Stage> stage_;
};

TEST_F(StageTest, GoodSamplesPassUntouched) {
  EXPECT_TRUE(pass("p/a/l/cnc-01/spindle_speed", 3000.0));
  EXPECT_TRUE(pass("p/a/l/cnc-01/execution_state", 2.0));
  EXPECT_TRUE(pass("p/a/l/cnc-01/tool_id", 105.0));
  EXPECT_TRUE(pass("p/a/l/agv-3/driving", 1.0));
  EXPECT_EQ(quarantine_.total(), 0u);
}

TEST_F(StageTest, UnknownSignal) {
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_sped", 1.0));
  EXPECT_FALSE(pass("p/a/l/toaster-01/temperature", 1.0));
  EXPECT_EQ(refused(kReasonUnknownSignal), 2u);
  EXPECT_NE(last_reason().find("unknown_signal: series path 'p/a/l/toaster-01/temperature'"), std::string::npos)
      << last_reason();
}

// Live inference writes ai.<interface>.<output> series: judged by the contract's type and range,
// and written by nobody else.
TEST_F(StageTest, ModelOutputsFollowTheirContractAndComeOnlyFromInference) {
  const std::string score = "p/a/l/cnc-01/ai.anomaly_detection.anomaly_score";
  EXPECT_TRUE(pass(score, 0.25, kNow, "inference"));
  EXPECT_TRUE(pass("p/a/l/cnc-01/ai.anomaly_detection.anomalous", 1.0, kNow, "inference"));
  EXPECT_FALSE(pass(score, 1.5, kNow + 1, "inference"));  // the contract says [0, 1]
  EXPECT_EQ(refused(kReasonOutOfRange), 1u);
  EXPECT_FALSE(pass("p/a/l/cnc-01/ai.anomaly_detection.anomalous", 0.5, kNow + 1, "inference"));  // bool
  EXPECT_EQ(refused(kReasonWrongType), 1u);
  EXPECT_FALSE(pass(score, 0.5, kNow + 2, "mqttsn"));
  EXPECT_NE(last_reason().find("is a model output"), std::string::npos) << last_reason();
  EXPECT_FALSE(pass("p/a/l/cnc-01/ai.anomaly_detection.no_such_output", 0.5, kNow, "inference"));
  EXPECT_NE(last_reason().find("has no output 'no_such_output'"), std::string::npos) << last_reason();
}

TEST_F(StageTest, WrongType) {
  EXPECT_FALSE(pass("p/a/l/cnc-01/part_count", 2.5));       // uint32
  EXPECT_FALSE(pass("p/a/l/cnc-01/execution_state", 7.0));  // not an enum value
  EXPECT_FALSE(pass("p/a/l/agv-1/driving", 2.0));           // bool
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", std::nan("")));
  EXPECT_EQ(refused(kReasonWrongType), 4u);
  EXPECT_NE(last_reason().find("not a finite number"), std::string::npos) << last_reason();
}

TEST_F(StageTest, OutOfRange) {
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", -1.0));
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_temperature", 151.0));
  EXPECT_TRUE(pass("p/a/l/cnc-01/spindle_temperature", 150.0, kNow + 1));  // inclusive bound
  EXPECT_EQ(refused(kReasonOutOfRange), 2u);
  EXPECT_NE(last_reason().find("outside [-20, 150] of cnc/spindle_temperature"), std::string::npos)
      << last_reason();
}

TEST_F(StageTest, NonMonotonicTimestamp) {
  EXPECT_TRUE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow - 10));
  EXPECT_TRUE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow - 10));  // retransmission: same ts
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow - 20));
  EXPECT_TRUE(pass("p/a/l/cnc-01/feed_rate", 1.0, kNow - 20));  // per series
  EXPECT_EQ(refused(kReasonNonMonotonic), 1u);
}

TEST_F(StageTest, FutureTimestamp) {
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow + 6 * 60 * kNanosPerSecond));
  EXPECT_TRUE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow + 4 * 60 * kNanosPerSecond));
  EXPECT_EQ(refused(kReasonFutureTimestamp), 1u);
  // A refused future sample must not move the series' clock forward.
  EXPECT_TRUE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow + 5 * 60 * kNanosPerSecond));
}

TEST_F(StageTest, PastTimestamp) {
  // A device with an unset clock sends 1970; ten years back is the limit.
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", 1.0, 0));
  constexpr TimestampNs kTenYears = 10LL * 365 * 24 * 3600 * kNanosPerSecond;
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow - kTenYears - 1));
  EXPECT_TRUE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow - kTenYears));
  EXPECT_EQ(refused(kReasonPastTimestamp), 2u);
  EXPECT_EQ(refused(kReasonNonMonotonic), 0u);  // reported once, under its own reason
  EXPECT_NE(last_reason().find("past_timestamp: series 'p/a/l/cnc-01/spindle_speed': timestamp "),
            std::string::npos) << last_reason();
  EXPECT_NE(last_reason().find("is more than 3650 days behind the clock"), std::string::npos)
      << last_reason();
}

TEST_F(StageTest, EveryReasonIsReportedOnceWithItsCode) {
  // One sample per reason; each lands in the quarantine once, with its code and the stage name.
  EXPECT_FALSE(pass("p/a/l/cnc-01/nope", 1.0));
  EXPECT_FALSE(pass("p/a/l/cnc-01/part_count", 0.5));
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", -3.0));
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", 1.0, kNow + 3600 * kNanosPerSecond));
  EXPECT_FALSE(pass("p/a/l/cnc-01/spindle_speed", 1.0, 0));
  EXPECT_TRUE(pass("p/a/l/cnc-01/feed_rate", 1.0, kNow));
  EXPECT_FALSE(pass("p/a/l/cnc-01/feed_rate", 1.0, kNow - 1));
  const auto recent = quarantine_.recent();
  ASSERT_EQ(recent.size(), 6u);
  const std::vector<std::string_view> want = {kReasonUnknownSignal, kReasonWrongType,
                                              kReasonOutOfRange, kReasonFutureTimestamp,
                                              kReasonPastTimestamp, kReasonNonMonotonic};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(recent[i].reason_code, want[i]) << recent[i].reason;
    EXPECT_TRUE(recent[i].reason.starts_with(std::string(want[i]) + ": ")) << recent[i].reason;
    EXPECT_EQ(recent[i].stage, "infomodel");
    EXPECT_EQ(refused(want[i]), 1u) << want[i];
  }
}

TEST_F(StageTest, MixedBatchKeepsOnlyGoodSamplesInOrder) {
  SampleBatch batch;
  batch.provenance.connector = "test";
  const SeriesId speed = id("p/a/l/cnc-01/spindle_speed");
  const SeriesId bad = id("p/a/l/cnc-01/nope");
  batch.samples = {{speed, kNow, 100.0, {}}, {bad, kNow, 1.0, {}}, {speed, kNow + 1, -5.0, {}},
                   {speed, kNow + 2, 200.0, {}}};
  ASSERT_TRUE(stage_->process(batch).is_ok());
  ASSERT_EQ(batch.samples.size(), 2u);
  EXPECT_EQ(batch.samples[0].value, 100.0);
  EXPECT_EQ(batch.samples[1].value, 200.0);
  EXPECT_EQ(quarantine_.total(), 2u);
  EXPECT_EQ(quarantine_.recent().front().stage, "infomodel");
  EXPECT_EQ(batch.provenance.transformations.back(), "infomodel");
}

}  // namespace
}  // namespace resonance::infomodel
