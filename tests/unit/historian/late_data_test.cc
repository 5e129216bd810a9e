// Late data: samples of a partition older than the series' live one. They go to a separate late
// buffer, so interleaving them with live samples neither seals the live buffer early nor seals
// the late samples one chunk at a time; reads merge them, chunk files take them like any chunk,
// and a late rewrite of an already sealed sample wins.
#include <gtest/gtest.h>

#include "historian/head.h"
#include "historian/historian_impl.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

Sample at(TimestampNs ts, double v) {
  return Sample{1, ts, v, Quality{Quality::kGood}};
}

TEST(HistorianLateData, InterleavedOldPartitionDoesNotFragmentChunks) {
  Head head(/*chunk_samples=*/1024, /*partition_ns=*/1000);
  head.insert(std::vector<Sample>{at(1000, 0)});  // the live partition is [1000, 2000)
  for (int i = 1; i < 200; ++i) {
    // A live sample, then a backfilled one from the previous partition, 199 times.
    head.insert(std::vector<Sample>{at(1000 + i, i)}, static_cast<std::uint64_t>(2 * i));
    head.insert(std::vector<Sample>{at(i, -i)}, static_cast<std::uint64_t>(2 * i + 1));
  }
  EXPECT_EQ(head.sealed_bytes(), 0u)
      << "nothing sealed: live and late samples each fill their own buffer";
  const auto all = head.range(1, 0, 3000, 1000);
  ASSERT_EQ(all.size(), 399u);
  for (std::size_t k = 1; k < all.size(); ++k) ASSERT_LT(all[k - 1].ts_ns, all[k].ts_ns);
  EXPECT_EQ(all.front().ts_ns, 1);
  EXPECT_EQ(all.back().ts_ns, 1199);
  EXPECT_EQ(head.latest(1)->ts_ns, 1199);
  auto set = head.take_for_flush(/*seal_open=*/true);
  ASSERT_EQ(set.chunks.size(), 2u);  // one chunk per partition
  EXPECT_EQ(set.chunks[0]->partition_start, 0);
  EXPECT_EQ(set.chunks[0]->ts_ns.size(), 199u);
  EXPECT_EQ(set.chunks[1]->partition_start, 1000);
  EXPECT_EQ(set.chunks[1]->ts_ns.size(), 200u);
  EXPECT_EQ(set.watermark_after, 400u);  // nothing left unsealed: every record is in the chunks
}

TEST(HistorianLateData, LateRewriteOfASealedSampleWins) {
  Head head(/*chunk_samples=*/4, /*partition_ns=*/1000);
  head.insert(std::vector<Sample>{at(10, 1), at(20, 2), at(30, 3), at(40, 4)}, 1);  // sealed: full
  head.insert(std::vector<Sample>{at(1500, 9)}, 2);                                 // live moves on
  head.insert(std::vector<Sample>{at(20, 22), at(25, 25)}, 3);  // late, partition 0
  const auto got = head.range(1, 0, 100, 100);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[1].ts_ns, 20);
  EXPECT_EQ(got[1].value, 22.0);
  EXPECT_EQ(got[2].ts_ns, 25);
  // Sealed, the late chunk still ranks above the older one.
  (void)head.take_for_flush(true);
  const auto again = head.range(1, 0, 100, 100);
  ASSERT_EQ(again.size(), 5u);
  EXPECT_EQ(again[1].value, 22.0);
  // A late sample of yet another old partition seals the late buffer and starts a new one.
  head.insert(std::vector<Sample>{at(-500, 7)}, 4);
  EXPECT_EQ(head.range(1, -1000, 0, 10).size(), 1u);
}

TEST(HistorianLateData, LateSamplesReachChunkFilesAndSurviveReopen) {
  testing::ScratchDir dir;
  HistorianOptions o = testing::fast_options(dir.path());
  o.partition_ns = 1000;
  o.chunk_flush_interval_ms = 3'600'000;
  {
    auto h = HistorianImpl::open(o, posix_env());
    ASSERT_TRUE(h) << h.error().to_string();
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(testing::submit_and_wait(**h, testing::make_batch(1, 5000 + i * 10, 1, i)));
      ASSERT_TRUE(testing::submit_and_wait(
          **h, testing::make_batch(1, 3000 + i * 10, 1, -i)));  // two partitions back
    }
    ASSERT_TRUE((*h)->flush_chunks(true).is_ok());
    EXPECT_EQ((*h)->stats().chunk_files, 2u);  // one per partition, one chunk each
    const auto agg = (*h)->aggregate(1, 0, 10'000, 1000);
    ASSERT_EQ(agg.size(), 2u);
    EXPECT_EQ(agg[0].start, 3000);
    EXPECT_EQ(agg[0].count, 50u);
    EXPECT_EQ(agg[0].sum, -1225.0);
  }
  auto h = HistorianImpl::open(o, posix_env());
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ((*h)->range(1, 0, 10'000, 1000).size(), 100u);
  EXPECT_EQ((*h)->range(1, 3000, 4000, 1000).back().value, -49.0);
}

}  // namespace
}  // namespace resonance::historian
