// The quarantine: in-memory and durable (SQLite) modes, bounds, queries, metrics by reason.

#include "resonance/pipeline/quarantine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

namespace resonance {
namespace {

namespace fs = std::filesystem;

QuarantineEntry payload_entry(TimestampNs at, std::string code, std::string reason = "bad bytes") {
  QuarantineEntry e;
  e.reason = std::move(reason);
  e.reason_code = std::move(code);
  e.stage = "mqttsn";
  e.connector = "mqttsn";
  e.client_id = "dev1";
  e.source = "127.0.0.1:5000";
  e.topic = "plant1/press/line2/p7/temperature";
  e.receive_ts_ns = at;
  const std::uint8_t raw[] = {0x02, 0xff, 0x00};
  e.set_raw(raw);
  return e;
}

class QuarantineDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("quarantine_test_{}_{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(Quarantine, InMemoryBoundsAndCountsByReason) {
  MetricsRegistry metrics;
  Quarantine q(metrics, 3);
  for (int i = 1; i <= 5; ++i) q.add(payload_entry(i, i % 2 ? "payload" : "validation"));
  EXPECT_EQ(q.total(), 5u);
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(metrics.counter_value("resonance_quarantine_entries_total", "reason=\"payload\""), 3u);
  EXPECT_EQ(metrics.counter_value("resonance_quarantine_entries_total", "reason=\"validation\""), 2u);
  EXPECT_EQ(metrics.counter_value("resonance_quarantine_dropped_total"), 2u);
  auto all = q.query({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].receive_ts_ns, 5);  // newest first
  EXPECT_EQ((*all)[2].receive_ts_ns, 3);
  auto only = q.query({.from_ns = 4, .to_ns = 5, .reason_code = "payload", .limit = 10});
  ASSERT_TRUE(only);
  ASSERT_EQ(only->size(), 1u);
  EXPECT_EQ((*only)[0].receive_ts_ns, 5);
  EXPECT_EQ((*only)[0].raw_hex, "02ff00");
  EXPECT_EQ((*only)[0].raw_size, 3u);
}

TEST(Quarantine, ReasonCodeDefaultsToStageAndIsALabel) {
  MetricsRegistry metrics;
  Quarantine q(metrics, 10);
  QuarantineEntry e;
  e.stage = "validation";
  q.add(std::move(e));
  QuarantineEntry odd = payload_entry(1, "Bad Payload\"}");
  q.add(std::move(odd));
  auto all = q.query({});
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)[1].reason_code, "validation");
  EXPECT_NE((*all)[1].receive_ts_ns, 0);  // filled with now
  EXPECT_EQ((*all)[0].reason_code, "bad_payload__");
}

TEST(Quarantine, RawBytesAreBounded) {
  QuarantineEntry e;
  std::vector<std::uint8_t> big(1000, 0xab);
  e.set_raw(big);
  EXPECT_EQ(e.raw_size, 1000u);
  EXPECT_EQ(e.raw_hex.size(), 2 * kQuarantineMaxRawBytes);
}

TEST_F(QuarantineDir, DurableSurvivesReopenAndKeepsEveryField) {
  MetricsRegistry metrics;
  {
    auto q = Quarantine::open(dir_ / "quarantine.sqlite", metrics);
    ASSERT_TRUE(q) << q.error().to_string();
    QuarantineEntry e = payload_entry(100, "payload", "payload (batch): count 0 must be 1..16384 at offset 10");
    q->get()->add(std::move(e));
    QuarantineEntry s;
    s.sample = {7, 123, std::nan(""), {Quality::kBad}};
    s.reason = "timestamp outside window";
    s.stage = "validation";
    s.receive_ts_ns = 200;
    q->get()->add(std::move(s));
  }  // destructor flushes
  MetricsRegistry metrics2;
  auto q = Quarantine::open(dir_ / "quarantine.sqlite", metrics2);
  ASSERT_TRUE(q) << q.error().to_string();
  auto all = q->get()->query({});
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 2u);
  const auto& s = (*all)[0];
  EXPECT_EQ(s.sample.series, 7u);
  EXPECT_EQ(s.sample.ts_ns, 123);
  EXPECT_TRUE(std::isnan(s.sample.value));
  EXPECT_EQ(s.sample.quality.code, Quality::kBad);
  EXPECT_EQ(s.reason_code, "validation");
  const auto& p = (*all)[1];
  EXPECT_FALSE(p.has_sample());
  EXPECT_EQ(p.reason, "payload (batch): count 0 must be 1..16384 at offset 10");
  EXPECT_EQ(p.source, "127.0.0.1:5000");
  EXPECT_EQ(p.client_id, "dev1");
  EXPECT_EQ(p.topic, "plant1/press/line2/p7/temperature");
  EXPECT_EQ(p.raw_hex, "02ff00");
  EXPECT_EQ(p.raw_size, 3u);
  // Ids keep increasing across restarts.
  QuarantineEntry next = payload_entry(300, "payload");
  q->get()->add(std::move(next));
  auto newest = q->get()->query({.limit = 1});
  ASSERT_TRUE(newest);
  EXPECT_GT((*newest)[0].id, s.id);
}

TEST_F(QuarantineDir, DurableDropsOldestBeyondCapacityAndCountsThem) {
  MetricsRegistry metrics;
  auto q = Quarantine::open(dir_ / "q.sqlite", metrics, {.capacity = 10, .flush_interval_ms = 5});
  ASSERT_TRUE(q);
  for (int i = 1; i <= 25; ++i) q->get()->add(payload_entry(i, i <= 20 ? "payload" : "json"));
  ASSERT_TRUE(q->get()->flush());
  auto all = q->get()->query({.limit = 1000});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 10u);
  EXPECT_EQ(all->front().receive_ts_ns, 25);
  EXPECT_EQ(all->back().receive_ts_ns, 16);
  EXPECT_EQ(q->get()->dropped(), 15u);
  auto json = q->get()->query({.reason_code = "json", .limit = 1000});
  ASSERT_TRUE(json);
  EXPECT_EQ(json->size(), 5u);
  auto window = q->get()->query({.from_ns = 17, .to_ns = 18, .limit = 1000});
  ASSERT_TRUE(window);
  EXPECT_EQ(window->size(), 2u);
}

TEST_F(QuarantineDir, OpenFailsWithThePath) {
  MetricsRegistry metrics;
  auto q = Quarantine::open(dir_ / "missing" / "q.sqlite", metrics);
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message().find("missing/q.sqlite"), std::string::npos);
}

}  // namespace
}  // namespace resonance
