#include "resonance/pipeline/ingest_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "resonance/pipeline/stages.h"

namespace resonance {
namespace {

// A store that holds callbacks until the test completes them: lets the test decide when a batch
// becomes "durable".
class FakeStore : public BatchConsumer {
 public:
  Admission answer = Admission::kAccepted;
  std::vector<SampleBatch> batches;
  std::vector<DurableCallback> callbacks;
  Admission submit(SampleBatch&& batch, DurableCallback cb) override {
    if (answer != Admission::kAccepted) return answer;
    batches.push_back(std::move(batch));
    callbacks.push_back(std::move(cb));
    return Admission::kAccepted;
  }
  void complete_all(const Status& s = Status::ok()) {
    for (auto& cb : callbacks) cb(s);
    callbacks.clear();
  }
};

class CollectingListener : public DurableListener {
 public:
  std::string_view name() const override { return "collect"; }
  Admission on_durable(const SampleBatch& b) override {
    std::lock_guard lock(mu);
    seen += b.samples.size();
    return Admission::kAccepted;
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return seen;
  }
  std::mutex mu;
  std::size_t seen = 0;
};

class CountingAcceptedListener : public AcceptedListener {
 public:
  std::string_view name() const override { return "accepted"; }
  Admission on_accepted(const SampleBatch& b) override {
    seen += b.samples.size();
    return answer;
  }
  std::size_t seen = 0;  // the test submits from its own thread: no lock needed
  Admission answer = Admission::kAccepted;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog = SeriesCatalog::open(":memory:").value();
    ASSERT_EQ(catalog->resolve("p/a/l/m/s").value(), 1u);
  }
  SampleBatch batch(std::vector<Sample> samples) {
    SampleBatch b;
    b.samples = std::move(samples);
    b.provenance.connector = "test";
    b.provenance.client_id = "dev-1";
    return b;
  }
  MetricsRegistry metrics;
  std::unique_ptr<SeriesCatalog> catalog;
  FakeStore store;
};

TEST_F(PipelineTest, StagesRunInOrderAndAttachProvenance) {
  IngestPipeline p({}, store, metrics);
  p.add_stage(make_validation_stage({}, *catalog, p.quarantine(), metrics));
  p.add_stage(make_governance_stage(metrics));
  EXPECT_EQ(p.stage_names(), (std::vector<std::string>{"validation", "governance"}));
  const TimestampNs now = unix_now_ns();
  ASSERT_EQ(p.submit(batch({{1, now, 1.0, {}}}), nullptr), Admission::kAccepted);
  ASSERT_EQ(store.batches.size(), 1u);
  const Provenance& prov = store.batches[0].provenance;
  EXPECT_EQ(prov.transformations, (std::vector<std::string>{"validation", "governance"}));
  EXPECT_GT(prov.receive_ts_ns, 0);
  EXPECT_EQ(prov.client_id, "dev-1");
}

TEST_F(PipelineTest, BadSamplesGoToQuarantineWithReason) {
  IngestPipeline p({}, store, metrics);
  p.add_stage(make_validation_stage({}, *catalog, p.quarantine(), metrics));
  const TimestampNs now = unix_now_ns();
  // Timestamps are the information-model stage's to judge (tests/unit/infomodel): the 1970 sample
  // passes this stage, the unknown series does not.
  ASSERT_EQ(p.submit(batch({{1, now, 1.0, {}}, {7, now, 2.0, {}}, {1, 0, 3.0, {}}}), nullptr),
            Admission::kAccepted);
  ASSERT_EQ(store.batches[0].samples.size(), 2u);
  auto q = p.quarantine().recent();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_NE(q[0].reason.find("series id 7 is not in the catalog"), std::string::npos);
  EXPECT_EQ(q[0].stage, "validation");
  EXPECT_EQ(metrics.counter_value("resonance_quarantine_samples_total"), 1u);
  EXPECT_EQ(metrics.counter_value("resonance_validation_refused_total"), 1u);
  // A batch whose every sample is refused is rejected as a whole, and nothing reaches the store.
  EXPECT_EQ(p.submit(batch({{9, now, 1.0, {}}}), nullptr), Admission::kRejected);
  EXPECT_EQ(store.batches.size(), 1u);
}

TEST_F(PipelineTest, GovernanceRefusesBatchWithoutSource) {
  IngestPipeline p({}, store, metrics);
  p.add_stage(make_governance_stage(metrics));
  SampleBatch b = batch({{1, unix_now_ns(), 1.0, {}}});
  b.provenance.connector.clear();
  EXPECT_EQ(p.submit(std::move(b), nullptr), Admission::kRejected);
}

TEST_F(PipelineTest, InFlightBoundAnswersRetryLater) {
  IngestPipeline p({.max_in_flight_batches = 2}, store, metrics);
  const TimestampNs now = unix_now_ns();
  int durable = 0;
  auto cb = [&](const Status& s) { durable += s.is_ok(); };
  EXPECT_EQ(p.submit(batch({{1, now, 1.0, {}}}), cb), Admission::kAccepted);
  EXPECT_EQ(p.submit(batch({{1, now + 1, 1.0, {}}}), cb), Admission::kAccepted);
  EXPECT_EQ(p.submit(batch({{1, now + 2, 1.0, {}}}), cb), Admission::kRetryLater);
  EXPECT_EQ(p.in_flight(), 2u);
  store.complete_all();
  EXPECT_EQ(durable, 2);
  EXPECT_EQ(p.in_flight(), 0u);
  EXPECT_EQ(p.submit(batch({{1, now + 2, 1.0, {}}}), cb), Admission::kAccepted);
  EXPECT_EQ(metrics.counter_value("resonance_pipeline_retry_later_total"), 1u);
}

TEST_F(PipelineTest, StoreBackpressurePropagates) {
  IngestPipeline p({}, store, metrics);
  store.answer = Admission::kRetryLater;
  EXPECT_EQ(p.submit(batch({{1, unix_now_ns(), 1.0, {}}}), nullptr), Admission::kRetryLater);
  EXPECT_EQ(p.in_flight(), 0u);
}

TEST_F(PipelineTest, ListenersSeeOnlyDurableBatches) {
  CollectingListener listener;
  IngestPipeline p({}, store, metrics);
  p.add_listener(listener);
  p.start();
  const TimestampNs now = unix_now_ns();
  ASSERT_EQ(p.submit(batch({{1, now, 1.0, {}}, {1, now + 1, 2.0, {}}}), nullptr), Admission::kAccepted);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(listener.count(), 0u);  // not durable yet
  store.complete_all();
  for (int i = 0; i < 100 && listener.count() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(listener.count(), 2u);
  // A failed batch is not fanned out.
  ASSERT_EQ(p.submit(batch({{1, now + 2, 3.0, {}}}), nullptr), Admission::kAccepted);
  store.complete_all(Status(StatusCode::kIoError, "fsync failed"));
  p.stop();
  EXPECT_EQ(listener.count(), 2u);
  EXPECT_EQ(metrics.counter_value("resonance_pipeline_batches_failed_total"), 1u);
}

// An accepted listener sees a batch on the submitting thread as soon as the store took it, before
// it is durable, and never one the store refused.
TEST_F(PipelineTest, AcceptedListenersSeeTakenBatchesBeforeTheyAreDurable) {
  CountingAcceptedListener accepted;
  CollectingListener durable;
  IngestPipeline p({}, store, metrics);
  p.add_accepted_listener(accepted);
  p.add_listener(durable);
  p.start();
  const TimestampNs now = unix_now_ns();
  ASSERT_EQ(p.submit(batch({{1, now, 1.0, {}}, {1, now + 1, 2.0, {}}}), nullptr), Admission::kAccepted);
  EXPECT_EQ(accepted.seen, 2u);  // at once, on this thread
  EXPECT_EQ(durable.count(), 0u);
  store.answer = Admission::kRetryLater;
  ASSERT_EQ(p.submit(batch({{1, now + 2, 3.0, {}}}), nullptr), Admission::kRetryLater);
  EXPECT_EQ(accepted.seen, 2u);  // refused by the store: not seen
  store.answer = Admission::kAccepted;
  accepted.answer = Admission::kRetryLater;  // a listener that cannot take it is counted, the batch still stored
  ASSERT_EQ(p.submit(batch({{1, now + 3, 4.0, {}}}), nullptr), Admission::kAccepted);
  EXPECT_EQ(metrics.counter_value("resonance_pipeline_listener_retry_later_total"), 1u);
  store.complete_all();
  for (int i = 0; i < 100 && durable.count() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(durable.count(), 3u);
  p.stop();
  EXPECT_EQ(store.batches.size(), 2u);
}

}  // namespace
}  // namespace resonance
