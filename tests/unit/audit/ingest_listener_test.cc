#include "resonance/audit/ingest_listener.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "resonance/audit/verify.h"
#include "test_util.h"

namespace resonance::audit {
namespace {

SampleBatch batch(std::uint32_t n, double value) {
  SampleBatch b;
  b.provenance = Provenance{"mqttsn", "press-07", 1'763'700'000'000'000'000, {"units", "deadband"}};
  for (std::uint32_t i = 0; i < n; ++i)
    b.samples.push_back(Sample{10 + i % 3, 1'763'700'000'000'000'000 + i * 1000, value + i, Quality{}});
  return b;
}

TEST(IngestEntry, SummarisesTheBatchAndItsDigestCoversTheValues) {
  const Entry e = ingest_batch_entry(batch(5, 1.0));
  EXPECT_EQ(e.type, EntryType::kIngestBatch);
  const auto body = nlohmann::json::parse(e.body);
  EXPECT_EQ(body["connector"], "mqttsn");
  EXPECT_EQ(body["device"], "press-07");
  EXPECT_EQ(body["samples"], 5);
  EXPECT_EQ(body["series"], (std::vector<int>{10, 11, 12}));
  EXPECT_EQ(body["from_ns"], 1'763'700'000'000'000'000);
  EXPECT_EQ(body["to_ns"], 1'763'700'000'000'004'000);
  EXPECT_EQ(ingest_batch_entry(batch(5, 1.0)).body, e.body);  // canonical
  EXPECT_NE(ingest_batch_entry(batch(5, 2.0)).body, e.body);  // a changed value changes the digest
}

TEST(IngestListener, DurableBatchesBecomeVerifiedEntries) {
  const auto dir = testing::scratch_dir("ingest-listener");
  const auto signer = testing::test_signer();
  {
    auto log = Log::open(dir, signer, LogOptions{.fsync = false});
    ASSERT_TRUE(log.has_value());
    {
      IngestListener listener(**log, 3, 10'000, 60'000);
      EXPECT_EQ(listener.on_durable(batch(4, 1.0)), Admission::kAccepted);
      EXPECT_EQ(listener.on_durable(batch(2, 5.0)), Admission::kAccepted);
      EXPECT_EQ(listener.on_durable(batch(1, 9.0)), Admission::kAccepted);
      EXPECT_EQ(listener.on_durable(batch(1, 9.0)), Admission::kRetryLater);  // bounded
      EXPECT_EQ(listener.dropped(), 1u);
      ASSERT_TRUE(listener.flush().is_ok());
      EXPECT_EQ((*log)->size(), 3u);
      EXPECT_EQ(listener.on_durable(batch(3, 0.5)), Admission::kAccepted);
    }  // the destructor appends the last one and checkpoints
    EXPECT_EQ((*log)->size(), 4u);
  }
  auto verified = verify_log_dir(dir, signer.verifier(), {});
  ASSERT_TRUE(verified.has_value()) << verified.error().message();
  EXPECT_EQ(verified->checkpoint.size, 4u);
}

}  // namespace
}  // namespace resonance::audit
