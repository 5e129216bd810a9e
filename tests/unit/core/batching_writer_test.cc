#include "resonance/core/batching_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace resonance {
namespace {

using namespace std::chrono_literals;

// What the write function saw, batch by batch; fails while `failing` is set.
struct Recorder {
  std::mutex mu;
  std::vector<std::vector<int>> batches;
  std::atomic<bool> failing{false};
  Status write(std::vector<int>& batch) {
    if (failing) return Status(StatusCode::kIoError, "disk says no");
    std::lock_guard lock(mu);
    batches.push_back(batch);
    return Status::ok();
  }
  std::vector<int> all() {
    std::lock_guard lock(mu);
    std::vector<int> out;
    for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
    return out;
  }
};

bool eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 400; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

TEST(BatchingWriter, WritesInOrderOnItsIntervalAndWhatIsPendingAtStop) {
  Recorder rec;
  {
    BatchingWriter<int> w({.max_pending = 100, .flush_interval_ms = 20}, [&](auto& b) { return rec.write(b); });
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(w.push(int{i}));
    ASSERT_TRUE(eventually([&] { return rec.all().size() == 10; }));
    for (int i = 10; i < 15; ++i) ASSERT_TRUE(w.push(int{i}));
  }  // destructor: stop() writes the last five
  const auto all = rec.all();
  ASSERT_EQ(all.size(), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i)], i);
}

TEST(BatchingWriter, BeyondMaxPendingPushRefusesAndCounts) {
  Recorder rec;
  BatchingWriter<int> w({.max_pending = 3, .flush_interval_ms = 60'000}, [&](auto& b) { return rec.write(b); });
  EXPECT_TRUE(w.push(1));
  EXPECT_TRUE(w.push(2));
  EXPECT_TRUE(w.push(3));
  EXPECT_FALSE(w.push(4));
  EXPECT_EQ(w.dropped(), 1u);
  EXPECT_EQ(w.pending(), 3u);
}

TEST(BatchingWriter, MaxBatchWakesTheWriterBeforeTheInterval) {
  Recorder rec;
  BatchingWriter<int> w({.max_pending = 100, .max_batch = 4, .flush_interval_ms = 60'000},
                        [&](auto& b) { return rec.write(b); });
  for (int i = 0; i < 4; ++i) w.push(int{i});
  EXPECT_TRUE(eventually([&] { return rec.all().size() == 4; }));  // not an hour later
}

TEST(BatchingWriter, AFailedWriteKeepsTheBatchInFrontOfNewerItems) {
  Recorder rec;
  rec.failing = true;
  BatchingWriter<int> w({.max_pending = 100, .flush_interval_ms = 60'000}, [&](auto& b) { return rec.write(b); });
  w.push(1);
  w.push(2);
  EXPECT_FALSE(w.flush().is_ok());
  EXPECT_EQ(w.write_errors(), 1u);
  w.push(3);
  rec.failing = false;
  EXPECT_TRUE(w.flush().is_ok());
  EXPECT_EQ(rec.all(), (std::vector<int>{1, 2, 3}));
}

TEST(BatchingWriter, TickRunsOnTheWriterThreadAfterPeriodicFlushes) {
  Recorder rec;
  std::atomic<int> ticks{0};
  std::atomic<std::thread::id> tick_thread{};
  BatchingWriter<int> w({.max_pending = 10, .flush_interval_ms = 10}, [&](auto& b) { return rec.write(b); },
                        [&] {
                          tick_thread = std::this_thread::get_id();
                          ++ticks;
                        });
  EXPECT_TRUE(eventually([&] { return ticks >= 3; }));
  EXPECT_NE(tick_thread.load(), std::this_thread::get_id());
  w.stop();
  w.stop();  // idempotent
}

}  // namespace
}  // namespace resonance
