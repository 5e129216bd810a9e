#include "resonance/governance/records.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>

namespace resonance::governance {
namespace {

DecisionRecord sample_record(TimestampNs at) {
  DecisionRecord r;
  r.decision = Decision{Verdict::kDeny, std::string(rule::kCore), "series 'a/b/c/d/e': core", ""};
  r.destination = "vendor-de";
  r.purpose = "maintenance";
  r.policy_version = "v1";
  r.policy_sha256 = "ab";
  r.at_ns = at;
  r.scopes = {"a/b/c/d/e"};
  return r;
}

TEST(Records, DecisionJsonIsCompleteAndDeterministic) {
  const auto r = sample_record(1795219200LL * kNanosPerSecond);
  const auto text = to_json(r);
  EXPECT_EQ(text, to_json(r));
  auto js = nlohmann::json::parse(text);
  EXPECT_EQ(js["decision"], "deny");
  EXPECT_EQ(js["rule"], "deny.grade.core");
  EXPECT_EQ(js["destination"], "vendor-de");
  EXPECT_EQ(js["purpose"], "maintenance");
  EXPECT_EQ(js["policy_version"], "v1");
  EXPECT_EQ(js["at"], "2026-11-21T00:00:00.000000000Z");
  EXPECT_EQ(js["series"][0], "a/b/c/d/e");
  EXPECT_EQ(js["cached"], false);
  // Keys sorted: "at" comes first, then "cached".
  EXPECT_EQ(text.rfind("{\"at\":\"2026-11-21T00:00:00.000000000Z\",\"cached\":false,", 0), 0u)
      << text;
}

TEST(Records, LoadAndDerivationJson) {
  PolicyLoadRecord load{"v2", "00ff", "p.toml", 0, 1, 2, 3, 4, 5};
  auto js = nlohmann::json::parse(to_json(load));
  EXPECT_EQ(js["version"], "v2");
  EXPECT_EQ(js["sha256"], "00ff");
  EXPECT_EQ(js["consents"], 4);
  DerivationRecord d;
  d.inherited.grade = Grade::kImportant;
  d.transformation_id = "agg";
  d.lowered = {"grade: important -> general"};
  d.input_count = 3;
  auto dj = nlohmann::json::parse(to_json(d));
  EXPECT_EQ(dj["inherited"]["grade"], "important");
  EXPECT_EQ(dj["result"]["grade"], "general");
  EXPECT_EQ(dj["lowered"][0], "grade: important -> general");
  EXPECT_EQ(dj["inputs"], 3);
}

TEST(Records, BatchingSinkWritesInOrderAndRetainsOnFailure) {
  std::vector<TimestampNs> written;
  bool fail = true;
  std::mutex mu;
  {
    BatchingDecisionSink sink(
        [&](std::span<const BatchingDecisionSink::Item> items) {
          std::lock_guard lock(mu);
          if (fail) return Status(StatusCode::kIoError, "disk full");
          for (const auto& i : items) {
            EXPECT_FALSE(i.body.empty());
            written.push_back(i.at_ns);
          }
          return Status();
        },
        /*max_pending=*/3, /*max_batch=*/100, /*flush_interval_ms=*/60'000);
    sink.record(sample_record(1));
    sink.record(sample_record(2));
    EXPECT_FALSE(sink.flush());
    EXPECT_EQ(sink.write_errors(), 1u);
    sink.record(sample_record(3));
    sink.record(sample_record(4));  // the queue holds 3: this one is dropped and counted
    EXPECT_EQ(sink.dropped(), 1u);
    {
      std::lock_guard lock(mu);
      fail = false;
    }
    EXPECT_TRUE(sink.flush());
  }
  EXPECT_EQ(written, (std::vector<TimestampNs>{1, 2, 3}));
}

TEST(Records, BatchingSinkFlushesOnItsOwn) {
  std::atomic<int> count{0};
  BatchingDecisionSink sink(
      [&](std::span<const BatchingDecisionSink::Item> items) {
        count += static_cast<int>(items.size());
        return Status();
      },
      100, 100, /*flush_interval_ms=*/5);
  sink.record(sample_record(1));
  for (int i = 0; i < 500 && count.load() == 0; ++i) ::usleep(2000);
  EXPECT_EQ(count.load(), 1);
}

}  // namespace
}  // namespace resonance::governance
