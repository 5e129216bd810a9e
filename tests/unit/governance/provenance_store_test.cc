#include "resonance/governance/provenance_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace resonance::governance {
namespace {

SampleBatch batch(std::string connector, std::string client, TimestampNs receive,
                  std::vector<std::pair<SeriesId, TimestampNs>> samples) {
  SampleBatch b;
  b.provenance.connector = std::move(connector);
  b.provenance.client_id = std::move(client);
  b.provenance.receive_ts_ns = receive;
  b.provenance.transformations = {"validation", "governance"};
  for (auto [s, ts] : samples) b.samples.push_back(Sample{s, ts, 1.0, {}});
  return b;
}

TEST(Provenance, SummarizeComputesPerSeriesRanges) {
  const auto s = summarize(batch("mqttsn", "dev-1", 5, {{2, 30}, {1, 10}, {2, 20}, {1, 40}}));
  EXPECT_EQ(s.sample_count, 4u);
  EXPECT_EQ(s.min_ts_ns, 10);
  EXPECT_EQ(s.max_ts_ns, 40);
  ASSERT_EQ(s.series.size(), 2u);
  EXPECT_EQ(s.series[0].series, 1u);
  EXPECT_EQ(s.series[0].min_ts_ns, 10);
  EXPECT_EQ(s.series[0].max_ts_ns, 40);
  EXPECT_EQ(s.series[1].series, 2u);
  EXPECT_EQ(s.series[1].min_ts_ns, 20);
  EXPECT_EQ(s.series[1].max_ts_ns, 30);
}

TEST(Provenance, QueryPerSeriesAndTimeRange) {
  auto store = ProvenanceStore::open(":memory:");
  ASSERT_TRUE(store) << store.error().to_string();
  auto& st = **store;
  auto a = st.record(summarize(batch("mqttsn", "press-7", 1000, {{1, 100}, {1, 200}, {2, 150}})));
  auto b = st.record(summarize(batch("opcua", "urn:plc-3", 2000, {{1, 300}, {1, 400}})));
  auto c = st.record(summarize(batch("sim", "sim-0", 3000, {{2, 500}})));
  ASSERT_TRUE(a && b && c);
  EXPECT_LT(*a, *b);
  EXPECT_EQ(*st.count(), 3);

  auto all1 = st.query(1, 0, 1000);
  ASSERT_TRUE(all1);
  ASSERT_EQ(all1->size(), 2u);
  EXPECT_EQ((*all1)[0].connector, "mqttsn");
  EXPECT_EQ((*all1)[0].client_id, "press-7");
  EXPECT_EQ((*all1)[0].receive_ts_ns, 1000);
  EXPECT_EQ((*all1)[0].transformations, (std::vector<std::string>{"validation", "governance"}));
  EXPECT_EQ((*all1)[0].series, (std::vector<SeriesId>{1, 2}));
  EXPECT_EQ((*all1)[0].sample_count, 3u);
  EXPECT_EQ((*all1)[1].connector, "opcua");

  // Range overlap is per series: series 1 of batch a spans 100..200.
  auto early = st.query(1, 201, 299);
  ASSERT_TRUE(early);
  EXPECT_TRUE(early->empty());
  auto edge = st.query(1, 200, 200);
  ASSERT_TRUE(edge);
  ASSERT_EQ(edge->size(), 1u);
  EXPECT_EQ((*edge)[0].batch_id, *a);
  auto s2 = st.query(2, 160, 1000);
  ASSERT_TRUE(s2);
  ASSERT_EQ(s2->size(), 1u);
  EXPECT_EQ((*s2)[0].connector, "sim");
  auto none = st.query(9, 0, 1'000'000);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto limited = st.query(1, 0, 1000, 1);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->size(), 1u);

  auto bad = st.query(1, 10, 5);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("'from'"), std::string::npos);
}

TEST(Provenance, SurvivesReopen) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("resonance_prov_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "provenance.db";
  {
    auto store = ProvenanceStore::open(file);
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_TRUE((*store)->record(summarize(batch("mqttsn", "d", 1, {{4, 10}}))));
  }
  {
    auto store = ProvenanceStore::open(file);
    ASSERT_TRUE(store) << store.error().to_string();
    auto r = (*store)->query(4, 0, 100);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].client_id, "d");
  }
  std::filesystem::remove_all(dir);
}

TEST(Provenance, OpenReportsTheFile) {
  auto store = ProvenanceStore::open("/nonexistent-dir-xyz/p.db");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("/nonexistent-dir-xyz/p.db"), std::string::npos)
      << store.error().message();
}

TEST(Provenance, ListenerQueuesAndFlushes) {
  auto store = ProvenanceStore::open(":memory:");
  ASSERT_TRUE(store);
  {
    ProvenanceListener listener(**store, /*max_pending=*/2, /*flush_interval_ms=*/60'000);
    EXPECT_EQ(listener.name(), "provenance");
    EXPECT_EQ(listener.on_durable(batch("mqttsn", "a", 1, {{1, 1}})), Admission::kAccepted);
    EXPECT_EQ(listener.on_durable(batch("mqttsn", "b", 2, {{1, 2}})), Admission::kAccepted);
    EXPECT_EQ(listener.on_durable(batch("mqttsn", "c", 3, {{1, 3}})), Admission::kRetryLater)
        << "bounded: never blocks, answers RetryLater";
    EXPECT_EQ(*(*store)->count(), 0) << "nothing written before a flush";
    ASSERT_TRUE(listener.flush());
    EXPECT_EQ(*(*store)->count(), 2);
    EXPECT_EQ(listener.on_durable(batch("mqttsn", "d", 4, {{1, 4}})), Admission::kAccepted);
  }  // the destructor flushes what is pending
  EXPECT_EQ(*(*store)->count(), 3);
  auto r = (*store)->query(1, 0, 10);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].client_id, "d");
}

TEST(Provenance, ListenerWriterThreadFlushesOnItsOwn) {
  auto store = ProvenanceStore::open(":memory:");
  ASSERT_TRUE(store);
  ProvenanceListener listener(**store, 100, /*flush_interval_ms=*/10);
  ASSERT_EQ(listener.on_durable(batch("opcua", "x", 1, {{7, 1}})), Admission::kAccepted);
  for (int i = 0; i < 500 && *(*store)->count() == 0; ++i) ::usleep(2000);
  EXPECT_EQ(*(*store)->count(), 1);
  EXPECT_EQ(listener.write_errors(), 0u);
}

}  // namespace
}  // namespace resonance::governance
