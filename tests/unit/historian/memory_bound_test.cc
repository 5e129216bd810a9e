// Memory bounded by configuration: the head counts its bytes, submit answers RetryLater at
// max_head_bytes (never an allocation failure), the chunk flusher then drains the head early, and
// writes are accepted again; every acknowledged sample is kept.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "historian/head.h"
#include "historian/historian_impl.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::ScratchDir;

TEST(HistorianMemory, HeadCountsItsBytes) {
  Head head(/*chunk_samples=*/64, /*partition_ns=*/1000);
  EXPECT_EQ(head.memory_bytes(), 0u);
  std::vector<Sample> s;
  for (int i = 0; i < 10; ++i) s.push_back(Sample{1, 1000 + i, 1.0, Quality{}});
  head.insert(s, 1);
  const std::size_t ten = head.memory_bytes();
  EXPECT_GE(ten, 10 * Head::kBytesPerBufferedSample + Head::kSeriesStateBytes);
  for (int i = 10; i < 64; ++i) head.insert(std::vector<Sample>{Sample{1, 1000 + i, 1.0, Quality{}}}, 2);
  // Sealed: the chunk's bytes count, and the open buffer keeps its columns' capacity.
  EXPECT_GT(head.sealed_bytes(), 0u);
  EXPECT_GE(head.memory_bytes(), head.sealed_bytes() + 64 * Head::kBytesPerBufferedSample);
  auto set = head.take_for_flush(true);
  head.drop_flushed(set.chunks);
  head.release_empty_buffers();
  EXPECT_EQ(head.memory_bytes(), Head::kSeriesStateBytes);
  // Late buffers give their columns back when they seal.
  head.insert(std::vector<Sample>{Sample{1, 5000, 1.0, Quality{}}}, 3);
  head.insert(std::vector<Sample>{Sample{1, 10, 1.0, Quality{}}}, 4);
  const std::size_t with_late = head.memory_bytes();
  (void)head.take_for_flush(true);
  EXPECT_LT(head.memory_bytes() - head.sealed_bytes(), with_late);
  head.delete_series(1, 10);
  EXPECT_EQ(head.memory_bytes(), 0u);
}

TEST(HistorianMemory, RetryLaterAtTheBoundThenAcceptedAgain) {
  ScratchDir dir;
  HistorianOptions o = testing::fast_options(dir.path());
  o.max_head_bytes = 512 << 10;
  o.chunk_samples = 1024;
  o.chunk_flush_interval_ms = 3'600'000;  // only memory pressure makes the flusher run
  auto h = HistorianImpl::open(o, posix_env());
  ASSERT_TRUE(h);
  std::size_t acked = 0, retry = 0;
  TimestampNs ts = 0;
  // 100 series x 100 samples per batch: ~200 KB of columns each, so the bound is hit at once.
  for (int round = 0; round < 200 && retry == 0; ++round) {
    SampleBatch b;
    for (SeriesId s = 1; s <= 100; ++s)
      for (int i = 0; i < 10; ++i) b.samples.push_back(Sample{s, ts + i, double(ts + i), Quality{}});
    ts += 10;
    std::promise<Status> done;
    auto fut = done.get_future();
    const Admission a = (*h)->submit(std::move(b), [&done](const Status& s) { done.set_value(s); });
    if (a == Admission::kRetryLater) {
      ++retry;
      ts -= 10;
      break;
    }
    ASSERT_EQ(a, Admission::kAccepted);
    ASSERT_TRUE(fut.get());
    acked += 1000;
  }
  ASSERT_EQ(retry, 1u) << "the bound was never reached";
  HistorianStats s = (*h)->stats();
  EXPECT_GE(s.memory_retry_later, 1u);
  EXPECT_LE(s.head_bytes, 2 * o.max_head_bytes) << "the head stays near its bound";
  // The flusher drains the head; the same batch is then accepted.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool accepted = false;
  while (!accepted && std::chrono::steady_clock::now() < deadline) {
    SampleBatch b;
    for (SeriesId id = 1; id <= 100; ++id)
      for (int i = 0; i < 10; ++i) b.samples.push_back(Sample{id, ts + i, double(ts + i), Quality{}});
    accepted = testing::submit_and_wait(**h, std::move(b)).is_ok();
    if (!accepted) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(accepted);
  acked += 1000;
  s = (*h)->stats();
  EXPECT_GT(s.chunk_files, 0u) << "the pressure flush wrote chunk files";
  EXPECT_LT(s.head_bytes, o.max_head_bytes);
  std::size_t found = 0;
  for (SeriesId id = 1; id <= 100; ++id) found += (*h)->range(id, 0, ts + 10, 1 << 20).size();
  EXPECT_EQ(found, acked);
}

TEST(HistorianMemory, ABatchLargerThanTheBoundIsRejected) {
  ScratchDir dir;
  HistorianOptions o = testing::fast_options(dir.path());
  o.max_head_bytes = 1000;
  auto h = HistorianImpl::open(o, posix_env());
  ASSERT_TRUE(h);
  EXPECT_EQ((*h)->submit(testing::make_batch(1, 0, 100), {}), Admission::kRejected);
}

}  // namespace
}  // namespace resonance::historian
