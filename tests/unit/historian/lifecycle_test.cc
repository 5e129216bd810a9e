// The store's life cycle through the real engine: sealing idle head buffers so slow series do not
// pin WAL segments, retention by whole partitions, and deleting a series (durably, across reopen).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "historian/historian_impl.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::fast_options;
using testing::ScratchDir;
using testing::submit_and_wait;

constexpr std::int64_t kHour = 3'600'000'000'000;

std::unique_ptr<HistorianImpl> open_impl(const HistorianOptions& o) {
  auto h = HistorianImpl::open(o, posix_env());
  EXPECT_TRUE(h) << h.error().to_string();
  return h ? std::move(*h) : nullptr;
}

HistorianOptions options(const std::filesystem::path& dir) {
  HistorianOptions o = fast_options(dir);
  o.wal_segment_bytes = 4096;             // many segments from few records
  o.chunk_flush_interval_ms = 3'600'000;  // flushes only when the test asks
  return o;
}

std::size_t wal_segments(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "wal")) n += e.path().extension() == ".wal";
  return n;
}

// One sample per batch: the slow series that never fills a chunk.
void write_slow(Historian& h, SeriesId series, TimestampNs t0, int n) {
  for (int i = 0; i < n; ++i) {
    SampleBatch b;
    b.samples.push_back(Sample{series, t0 + i * 1'000'000'000LL, double(i), Quality{}});
    ASSERT_TRUE(submit_and_wait(h, std::move(b)).is_ok());
  }
}

void write_block(Historian& h, SeriesId series, TimestampNs t0, int n, double v0 = 0) {
  SampleBatch b;
  for (int i = 0; i < n; ++i) b.samples.push_back(Sample{series, t0 + i * 1'000'000LL, v0 + i, Quality{}});
  ASSERT_TRUE(submit_and_wait(h, std::move(b)).is_ok());
}

std::size_t count(const Historian& h, SeriesId s) {
  return h.range(s, std::numeric_limits<TimestampNs>::min(), std::numeric_limits<TimestampNs>::max(), 10'000'000)
      .size();
}

TEST(IdleSeal, SlowSeriesNoLongerPinsWalSegments) {
  ScratchDir dir;
  // All 300 samples inside one 1 h partition: a partition boundary also seals a buffer, and with
  // "now - 1000 s" the test failed whenever the wall clock was just past a full hour.
  constexpr TimestampNs kHour = 3'600'000'000'000LL;
  const TimestampNs t0 = (unix_now_ns() - 2 * kHour) / kHour * kHour + 60'000'000'000LL;
  HistorianOptions o = options(dir.path());
  // Wide enough that the buffer is still young right after writing even on a loaded CI machine
  // (regression: 300 ms was not, and the "young" checks failed there).
  o.seal_idle_ms = 3000;
  {
    auto h = open_impl(o);
    const auto started = std::chrono::steady_clock::now();
    write_slow(*h, 7, t0, 300);  // far below chunk_samples (1,024), several WAL segments
    const std::size_t before = wal_segments(dir.path());
    ASSERT_GT(before, 2u);
    // Young open buffer: nothing sealed, nothing checkpointed, nothing deleted.
    ASSERT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500))
        << "writing 300 samples took most of seal_idle_ms; the young-buffer check would be void";
    ASSERT_TRUE(h->flush_chunks(false).is_ok());
    EXPECT_EQ(h->stats().wal_segments_deleted, 0u);
    EXPECT_EQ(h->stats().chunk_files, 0u);
    std::this_thread::sleep_until(started + std::chrono::milliseconds(3100));
    ASSERT_TRUE(h->flush_chunks(false).is_ok());
    const auto st = h->stats();
    EXPECT_EQ(st.chunk_files, 1u);
    EXPECT_GT(st.wal_segments_deleted, 0u);
    EXPECT_LT(wal_segments(dir.path()), before);
    EXPECT_EQ(st.head_samples, 0u);
    EXPECT_EQ(count(*h, 7), 300u);
  }
  auto h = open_impl(o);
  EXPECT_EQ(count(*h, 7), 300u);
  EXPECT_EQ(h->stats().head_samples, 0u);  // everything came from the chunk file
}

TEST(IdleSeal, BackgroundFlusherDeletesWalOfSlowSeries) {
  ScratchDir dir;
  HistorianOptions o = options(dir.path());
  o.seal_idle_ms = 100;
  o.chunk_flush_interval_ms = 20;
  auto h = open_impl(o);
  write_slow(*h, 3, unix_now_ns() - 500 * 1'000'000'000LL, 200);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (h->stats().wal_segments_deleted == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(h->stats().wal_segments_deleted, 0u);
  EXPECT_EQ(h->stats().chunk_error, "");
  EXPECT_EQ(count(*h, 3), 200u);
}

TEST(Retention, DeletesOnlyWholePartitionsOlderThanRetention) {
  ScratchDir dir;
  HistorianOptions o = options(dir.path());
  o.partition_ns = kHour;
  o.retention_ns = 24 * kHour;
  const TimestampNs now = unix_now_ns();
  const TimestampNs old_t = (now - 72 * kHour) / kHour * kHour;  // a partition three days ago
  const TimestampNs edge_t = (now - 24 * kHour) / kHour * kHour;  // the partition the cutoff falls in
  const TimestampNs recent_t = now - 60'000'000'000LL;
  {
    auto h = open_impl(o);
    write_block(*h, 1, old_t, 500);
    write_block(*h, 1, edge_t, 500);
    write_block(*h, 1, recent_t, 500);
    write_block(*h, 2, old_t, 100);
    ASSERT_TRUE(h->flush_chunks(true).is_ok());
    const auto st = h->stats();
    EXPECT_EQ(st.chunk_files_expired, 1u);  // old_t's partition; edge_t's ends after the cutoff
    EXPECT_EQ(st.chunk_files, 2u);
    EXPECT_EQ(h->range(1, old_t, old_t + kHour, 10'000).size(), 0u);
    EXPECT_EQ(h->range(1, edge_t, edge_t + kHour, 10'000).size(), 500u);
    EXPECT_EQ(count(*h, 1), 1000u);
    EXPECT_EQ(count(*h, 2), 0u);
    EXPECT_FALSE(h->latest(2).has_value());
    ASSERT_TRUE(h->latest(1).has_value());
    EXPECT_EQ(h->latest(1)->ts_ns, recent_t + 499 * 1'000'000LL);
  }
  auto h = open_impl(o);  // the WAL must not bring the expired partition back
  EXPECT_EQ(count(*h, 1), 1000u);
  EXPECT_EQ(count(*h, 2), 0u);
  EXPECT_EQ(h->stats().chunk_files, 2u);
}

TEST(Retention, ZeroKeepsEverything) {
  ScratchDir dir;
  HistorianOptions o = options(dir.path());
  o.partition_ns = kHour;
  auto h = open_impl(o);
  write_block(*h, 1, 1'000'000'000'000'000'000, 100);  // 2001
  ASSERT_TRUE(h->flush_chunks(true).is_ok());
  EXPECT_EQ(h->stats().chunk_files_expired, 0u);
  EXPECT_EQ(count(*h, 1), 100u);
}

TEST(DeleteSeries, GoneFromFilesHeadAndWalAcrossReopenNewDataKept) {
  ScratchDir dir;
  HistorianOptions o = options(dir.path());
  o.chunk_samples = 100;
  const TimestampNs t0 = unix_now_ns() - kHour / 2;
  {
    auto h = open_impl(o);
    for (SeriesId s = 1; s <= 3; ++s) write_block(*h, s, t0, 450, s * 1000);
    ASSERT_TRUE(h->flush_chunks(false).is_ok());  // 4 sealed chunks per series to a file, 50 stay open
    ASSERT_GT(h->stats().chunk_files, 0u);
    for (SeriesId s = 1; s <= 3; ++s) write_block(*h, s, t0 + 450'000'000LL, 30, 5);  // head only
    ASSERT_TRUE(h->delete_series(2).is_ok());
    EXPECT_EQ(count(*h, 2), 0u);
    EXPECT_FALSE(h->latest(2).has_value());
    EXPECT_EQ(count(*h, 1), 480u);
    EXPECT_EQ(count(*h, 3), 480u);
    EXPECT_TRUE(h->aggregate(2, t0, t0 + kHour, kHour).empty());
    EXPECT_EQ(h->stats().series_deleted, 1u);
    write_block(*h, 2, t0 + 10'000'000'000LL, 10, 77);  // written after the delete: kept
    EXPECT_EQ(count(*h, 2), 10u);
  }
  {
    auto h = open_impl(o);  // replays the WAL, whose older records still hold series 2
    EXPECT_EQ(count(*h, 2), 10u);
    EXPECT_EQ(h->latest(2)->value, 77 + 9);
    EXPECT_EQ(count(*h, 1), 480u);
    ASSERT_TRUE(h->flush_chunks(true).is_ok());
    EXPECT_EQ(count(*h, 2), 10u);
  }
  auto h = open_impl(o);
  EXPECT_EQ(count(*h, 2), 10u);
  EXPECT_EQ(count(*h, 3), 480u);
}

TEST(DeleteSeries, DamagedTombstoneListRefusesToOpen) {
  ScratchDir dir;
  HistorianOptions o = options(dir.path());
  {
    auto h = open_impl(o);
    write_block(*h, 1, unix_now_ns(), 10);
    ASSERT_TRUE(h->delete_series(1).is_ok());
  }
  const auto path = dir.path() / "chunks" / "TOMBSTONES";
  auto bytes = testing::read_bytes(path);
  ASSERT_FALSE(bytes.empty());
  bytes[6] ^= 0x10;
  testing::write_bytes(path, bytes);
  auto h = HistorianImpl::open(o, posix_env());
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code(), StatusCode::kCorruption);
  EXPECT_NE(h.error().message().find("TOMBSTONES"), std::string::npos) << h.error().to_string();
}

}  // namespace
}  // namespace resonance::historian
