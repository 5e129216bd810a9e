#include "historian/head.h"

#include <gtest/gtest.h>

#include <limits>

namespace resonance::historian {
namespace {

Sample s(SeriesId id, TimestampNs ts, double v, std::uint32_t q = 0) { return Sample{id, ts, v, Quality{q}}; }

std::vector<TimestampNs> timestamps(const std::vector<Sample>& v) {
  std::vector<TimestampNs> out;
  for (const auto& x : v) out.push_back(x.ts_ns);
  return out;
}

TEST(HistorianHead, OutOfOrderInsertsAreKeptSorted) {
  Head head;
  const std::vector<Sample> batch = {s(1, 50, 5), s(1, 10, 1), s(1, 30, 3), s(1, 60, 6), s(1, 20, 2)};
  EXPECT_EQ(head.insert(batch), 5u);
  EXPECT_EQ(timestamps(head.range(1, 0, 100, 100)), (std::vector<TimestampNs>{10, 20, 30, 50, 60}));
  EXPECT_EQ(head.latest(1)->ts_ns, 60);
  EXPECT_EQ(head.sample_count(), 5u);
  EXPECT_EQ(head.series_count(), 1u);
}

TEST(HistorianHead, SameTimestampReplacesLastWriteWins) {
  Head head;
  const std::vector<Sample> first = {s(1, 10, 1.0), s(1, 20, 2.0)};
  const std::vector<Sample> again = {s(1, 10, 1.5, Quality::kUncertain), s(1, 20, 2.0)};
  head.insert(first);
  EXPECT_EQ(head.insert(again), 0u);  // a retransmission stores nothing new
  EXPECT_EQ(head.sample_count(), 2u);
  const auto r = head.range(1, 0, 100, 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], s(1, 10, 1.5, Quality::kUncertain));
  // Within one batch the later sample wins too.
  const std::vector<Sample> dup = {s(1, 30, 3.0), s(1, 30, 3.5)};
  EXPECT_EQ(head.insert(dup), 1u);
  EXPECT_EQ(head.latest(1)->value, 3.5);
}

TEST(HistorianHead, RangeIsHalfOpenAndLimited) {
  Head head;
  std::vector<Sample> batch;
  for (TimestampNs t = 0; t < 10; ++t) batch.push_back(s(3, t * 10, static_cast<double>(t)));
  head.insert(batch);
  EXPECT_EQ(timestamps(head.range(3, 20, 50, 100)), (std::vector<TimestampNs>{20, 30, 40}));  // 50 excluded
  EXPECT_EQ(timestamps(head.range(3, 15, 51, 100)), (std::vector<TimestampNs>{20, 30, 40, 50}));
  EXPECT_EQ(timestamps(head.range(3, 0, 100, 2)), (std::vector<TimestampNs>{0, 10}));  // earliest first
  EXPECT_TRUE(head.range(3, 0, 100, 0).empty());
  EXPECT_TRUE(head.range(3, 50, 50, 10).empty());
  EXPECT_TRUE(head.range(3, 60, 20, 10).empty());
  EXPECT_TRUE(head.range(4, 0, 100, 10).empty());
  EXPECT_EQ(head.range(3, std::numeric_limits<TimestampNs>::min(), std::numeric_limits<TimestampNs>::max(),
                       1000).size(), 10u);
  EXPECT_FALSE(head.latest(4).has_value());
}

// The dense series index (ids below 2^20) and the map behind it (larger ids) must agree on every
// path: tick-major inserts, latest, range, delete and re-create, and partition changes that skip
// the partition fast path.
TEST(HistorianHead, DenseAndSparseSeriesIdsInterleaveTickMajor) {
  Head head(4, 100);  // 4-sample chunks, 100 ns partitions
  const std::vector<SeriesId> ids = {0, 1, 7, 1'000'000, (1u << 20) - 1, 1u << 20, 0xffffffffu};
  std::vector<Sample> batch;
  for (TimestampNs t = 0; t < 300; t += 10)
    for (SeriesId id : ids) batch.push_back(s(id, t, static_cast<double>(t) + id % 7));
  EXPECT_EQ(head.insert(batch), batch.size());
  EXPECT_EQ(head.series_count(), ids.size());
  for (SeriesId id : ids) {
    ASSERT_TRUE(head.latest(id)) << id;
    EXPECT_EQ(head.latest(id)->ts_ns, 290) << id;
    EXPECT_EQ(head.range(id, 0, 1000, 1000).size(), 30u) << id;
  }
  EXPECT_FALSE(head.latest(2));
  EXPECT_FALSE(head.latest(1u << 21));
  head.delete_series(7, 1);
  head.delete_series(1u << 20, 1);
  EXPECT_FALSE(head.latest(7));
  EXPECT_FALSE(head.latest(1u << 20));
  const std::vector<Sample> again = {s(7, 500, 1.0), s(1u << 20, 500, 2.0), s(7, 90, 3.0)};
  EXPECT_EQ(head.insert(again, 2), 3u);  // WAL sequence 2: after the delete
  EXPECT_EQ(head.latest(7)->ts_ns, 500);
  EXPECT_EQ(timestamps(head.range(7, 0, 1000, 10)), (std::vector<TimestampNs>{90, 500}));  // 90: late data
  EXPECT_EQ(head.latest(1u << 20)->value, 2.0);
}

TEST(HistorianHead, SeriesAreIndependent) {
  Head head;
  const std::vector<Sample> batch = {s(1, 10, 1), s(2, 10, 2), s(1, 20, 3), s(2, 5, 4)};
  head.insert(batch);
  EXPECT_EQ(head.series_count(), 2u);
  EXPECT_EQ(head.latest(1)->value, 3);
  EXPECT_EQ(head.latest(2)->value, 2);
  EXPECT_EQ(timestamps(head.range(2, 0, 100, 10)), (std::vector<TimestampNs>{5, 10}));
}

// Spare chunk columns (ColumnPool): a series that fills chunks seals into prepared columns instead
// of fresh memory, and a written chunk's columns come back to the pool when its last reference goes.
TEST(HistorianHead, SealsIntoSpareColumnsAndRecyclesWrittenChunks) {
  constexpr std::size_t kChunk = 64;
  Head head(kChunk, /*partition_ns=*/1'000'000);
  ColumnPool& pool = head.spares();
  EXPECT_EQ(pool.wanted(), 0u);
  std::vector<Sample> batch;
  for (TimestampNs t = 0; t < 16; ++t) batch.push_back(s(1, t, static_cast<double>(t)));
  head.insert(batch, 1);
  // 16 samples: the columns have grown to an eighth of a chunk, so the series wants spares.
  EXPECT_EQ(pool.wanted(), ColumnPool::kSparesPerBuffer);
  EXPECT_EQ(pool.missing(), ColumnPool::kSparesPerBuffer);
  const std::size_t before = head.memory_bytes();
  pool.give(pool.prepare());
  pool.give(pool.prepare());
  pool.give(pool.prepare());  // beyond wanted(): freed, not kept
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool.missing(), 0u);
  EXPECT_EQ(head.memory_bytes(), before + pool.bytes()) << "spares count in the head's memory";
  EXPECT_GE(pool.bytes(), 2 * kChunk * Head::kBytesPerBufferedSample);

  // The next growth takes a spare (the 16 samples are copied over) and the seal takes the other.
  batch.clear();
  for (TimestampNs t = 16; t < 70; ++t) batch.push_back(s(1, t, static_cast<double>(t)));
  head.insert(batch, 2);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(head.sealed_bytes(), kChunk * Head::kBytesPerBufferedSample);
  const auto all = head.range(1, 0, 100, 100);
  ASSERT_EQ(all.size(), 70u);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], s(1, static_cast<TimestampNs>(i), static_cast<double>(i)));

  // Written and dropped: the chunk's columns return to the pool once the flush set lets go.
  {
    auto set = head.take_for_flush(false);
    ASSERT_EQ(set.chunks.size(), 1u);
    head.drop_flushed(set.chunks);
    EXPECT_EQ(pool.size(), 0u) << "still referenced by the flush set";
  }
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(head.range(1, 0, 100, 100).size(), 6u);  // the open buffer's samples are untouched

  // Under memory pressure the spares go with the empty buffers' columns.
  head.release_empty_buffers();
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.bytes(), 0u);
  head.delete_series(1, 10);
  EXPECT_EQ(pool.wanted(), 0u);
  EXPECT_EQ(head.memory_bytes(), 0u);
}

TEST(HistorianHead, SpareColumnsAreBoundedAndOnlyWholeChunks) {
  ColumnPool pool(/*chunk_samples=*/32);
  pool.add_wanted(5);
  pool.set_limit(3);
  EXPECT_EQ(pool.wanted(), 3u);
  Columns small;
  small.ts_ns.reserve(8);
  small.values.reserve(8);
  small.quality.reserve(8);
  pool.give(std::move(small));  // not a whole chunk's capacity: freed
  EXPECT_EQ(pool.size(), 0u);
  for (int i = 0; i < 5; ++i) pool.give(pool.prepare());
  EXPECT_EQ(pool.size(), 3u);
  Columns c;
  ASSERT_TRUE(pool.take(c));
  EXPECT_TRUE(c.ts_ns.empty());
  EXPECT_GE(c.ts_ns.capacity(), 32u);
  EXPECT_EQ(pool.size(), 2u);
  pool.clear();
  EXPECT_FALSE(pool.take(c));
}

}  // namespace
}  // namespace resonance::historian
