// IngestPipeline::submit_group: the stages run on each part as submit() would, a refused part
// costs only itself, the store gets the survivors in one group, the one callback fires once after
// every accepted part is durable, and listeners see each accepted part with its own provenance.

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "resonance/pipeline/ingest_pipeline.h"
#include "resonance/pipeline/stages.h"

namespace resonance {
namespace {

// A store that answers per device and holds callbacks; submit_group is BatchConsumer's default
// (one submit per part), so this also checks that default's single callback.
class PerDeviceStore : public BatchConsumer {
 public:
  std::map<std::string, Admission> answers;
  std::vector<SampleBatch> batches;
  std::vector<DurableCallback> callbacks;
  Admission submit(SampleBatch&& batch, DurableCallback cb) override {
    auto it = answers.find(batch.provenance.client_id);
    if (it != answers.end() && it->second != Admission::kAccepted) return it->second;
    batches.push_back(std::move(batch));
    callbacks.push_back(std::move(cb));
    return Admission::kAccepted;
  }
  void complete(std::size_t i, const Status& s = Status::ok()) { callbacks.at(i)(s); }
};

class Recording : public DurableListener {
 public:
  std::string_view name() const override { return "recording"; }
  Admission on_durable(const SampleBatch& b) override {
    std::lock_guard lock(mu);
    devices.push_back(b.provenance.client_id);
    return Admission::kAccepted;
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu);
    return devices;
  }
  std::mutex mu;
  std::vector<std::string> devices;
};

SampleBatch part(const std::string& device, std::vector<Sample> samples) {
  SampleBatch b;
  b.samples = std::move(samples);
  b.provenance.connector = "test";
  b.provenance.client_id = device;
  b.provenance.receive_ts_ns = unix_now_ns();
  return b;
}

class AcceptedDevices : public AcceptedListener {
 public:
  std::string_view name() const override { return "accepted"; }
  Admission on_accepted(const SampleBatch& b) override {
    devices.push_back(b.provenance.client_id);
    return Admission::kAccepted;
  }
  std::vector<std::string> devices;  // the test submits from its own thread
};

class PipelineGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog = SeriesCatalog::open(":memory:").value();
    ASSERT_EQ(catalog->resolve("p/a/l/m/s").value(), 1u);
  }
  MetricsRegistry metrics;
  std::unique_ptr<SeriesCatalog> catalog;
  PerDeviceStore store;
};

TEST_F(PipelineGroupTest, EachPartHasItsOwnFateAndTheGroupOneCallback) {
  Recording listener;
  IngestPipeline p({}, store, metrics);
  p.add_stage(make_validation_stage({}, *catalog, p.quarantine(), metrics));
  p.add_listener(listener);
  p.start();
  store.answers["busy"] = Admission::kRetryLater;
  const TimestampNs now = unix_now_ns();
  std::vector<SampleBatch> parts;
  parts.push_back(part("dev-a", {{1, now, 1.0, {}}}));
  parts.push_back(part("dev-bad", {{9, now, 2.0, {}}}));  // unknown series: quarantined, part Rejected
  parts.push_back(part("busy", {{1, now + 1, 3.0, {}}}));  // the store says RetryLater
  parts.push_back(part("dev-c", {{1, now + 2, 4.0, {}}, {9, now, 5.0, {}}}));  // one sample refused
  int calls = 0;
  Status got = Status(StatusCode::kInternal, "not called");
  const auto admissions = p.submit_group(parts, [&](const Status& s) {
    ++calls;
    got = s;
  });
  EXPECT_EQ(admissions, (std::vector<Admission>{Admission::kAccepted, Admission::kRejected,
                                                Admission::kRetryLater, Admission::kAccepted}));
  ASSERT_EQ(store.batches.size(), 2u);
  EXPECT_EQ(store.batches[0].provenance.client_id, "dev-a");
  EXPECT_EQ(store.batches[1].provenance.client_id, "dev-c");
  EXPECT_EQ(store.batches[1].samples.size(), 1u);
  EXPECT_EQ(store.batches[0].provenance.transformations, (std::vector<std::string>{"validation"}));
  const auto q = p.quarantine().recent();
  ASSERT_EQ(q.size(), 2u);  // per sample, each with its own device
  EXPECT_EQ(q[0].client_id, "dev-bad");
  EXPECT_EQ(q[1].client_id, "dev-c");
  EXPECT_EQ(p.in_flight(), 1u);  // a group is one submission in flight

  store.complete(1);
  EXPECT_EQ(calls, 0);  // dev-a's part is not durable yet
  store.complete(0);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(got) << got.to_string();
  EXPECT_EQ(p.in_flight(), 0u);
  for (int i = 0; i < 200 && listener.seen().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(listener.seen(), (std::vector<std::string>{"dev-a", "dev-c"}));  // per part, per device
  p.stop();
  EXPECT_EQ(metrics.counter_value("resonance_pipeline_batches_durable_total"), 2u);
  EXPECT_EQ(metrics.counter_value("resonance_pipeline_retry_later_total"), 1u);
  EXPECT_EQ(metrics.counter_value("resonance_pipeline_rejected_total"), 1u);
}

// Each accepted part is seen by the accepted listeners when submit_group returns, before any is
// durable; refused and quarantined parts are not.
TEST_F(PipelineGroupTest, AcceptedListenersSeeEachTakenPartAtOnce) {
  AcceptedDevices accepted;
  IngestPipeline p({}, store, metrics);
  p.add_stage(make_validation_stage({}, *catalog, p.quarantine(), metrics));
  p.add_accepted_listener(accepted);
  p.start();
  store.answers["busy"] = Admission::kRetryLater;
  const TimestampNs now = unix_now_ns();
  std::vector<SampleBatch> parts;
  parts.push_back(part("dev-a", {{1, now, 1.0, {}}}));
  parts.push_back(part("dev-bad", {{9, now, 2.0, {}}}));
  parts.push_back(part("busy", {{1, now + 1, 3.0, {}}}));
  parts.push_back(part("dev-c", {{1, now + 2, 4.0, {}}}));
  int calls = 0;
  (void)p.submit_group(parts, [&](const Status&) { ++calls; });
  EXPECT_EQ(accepted.devices, (std::vector<std::string>{"dev-a", "dev-c"}));
  EXPECT_EQ(calls, 0);
  store.complete(0);
  store.complete(1);
  EXPECT_EQ(calls, 1);
  p.stop();
}

TEST_F(PipelineGroupTest, TheFirstErrorOfAnyPartFailsTheGroup) {
  IngestPipeline p({}, store, metrics);
  const TimestampNs now = unix_now_ns();
  std::vector<SampleBatch> parts;
  parts.push_back(part("dev-a", {{1, now, 1.0, {}}}));
  parts.push_back(part("dev-b", {{1, now + 1, 2.0, {}}}));
  int calls = 0;
  Status got = Status::ok();
  p.submit_group(parts, [&](const Status& s) {
    ++calls;
    got = s;
  });
  store.complete(0, Status(StatusCode::kIoError, "EIO"));
  store.complete(1);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.code(), StatusCode::kIoError);
  EXPECT_EQ(metrics.counter_value("resonance_pipeline_batches_failed_total"), 2u);
}

TEST_F(PipelineGroupTest, NothingTakenNoCallback) {
  IngestPipeline p({.max_in_flight_batches = 1}, store, metrics);
  const TimestampNs now = unix_now_ns();
  std::vector<SampleBatch> first;
  first.push_back(part("dev-a", {{1, now, 1.0, {}}}));
  ASSERT_EQ(p.submit_group(first, nullptr), std::vector<Admission>{Admission::kAccepted});
  std::vector<SampleBatch> second;
  second.push_back(part("dev-a", {{1, now + 1, 1.0, {}}}));
  second.push_back(part("dev-b", {{1, now + 2, 1.0, {}}}));
  bool fired = false;
  EXPECT_EQ(p.submit_group(second, [&](const Status&) { fired = true; }),
            (std::vector<Admission>{Admission::kRetryLater, Admission::kRetryLater}));
  store.answers["dev-a"] = Admission::kRejected;
  store.complete(0);
  std::vector<SampleBatch> third;
  third.push_back(part("dev-a", {{1, now + 3, 1.0, {}}}));
  EXPECT_EQ(p.submit_group(third, [&](const Status&) { fired = true; }),
            std::vector<Admission>{Admission::kRejected});
  EXPECT_FALSE(fired);
  EXPECT_EQ(p.in_flight(), 0u);
}

}  // namespace
}  // namespace resonance
