#include "resonance/core/bounded_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace resonance {
namespace {

TEST(BoundedQueue, RefusesBeyondCapacity) {
  BoundedQueue<int> q(2);
  EXPECT_TRUE(q.try_push(1));
  EXPECT_TRUE(q.try_push(2));
  EXPECT_FALSE(q.try_push(3));
  EXPECT_EQ(q.pop(std::chrono::milliseconds(1)).value(), 1);
  EXPECT_TRUE(q.try_push(3));
}

TEST(BoundedQueue, PopTimesOutAndCloseDrains) {
  BoundedQueue<int> q(4);
  EXPECT_FALSE(q.pop(std::chrono::milliseconds(5)));
  q.try_push(9);
  q.close();
  EXPECT_FALSE(q.try_push(10));
  EXPECT_FALSE(q.closed());  // still one item to drain
  EXPECT_EQ(q.pop(std::chrono::milliseconds(5)).value(), 9);
  EXPECT_TRUE(q.closed());
}

TEST(BoundedQueue, HandsOffAcrossThreads) {
  BoundedQueue<int> q(16);
  long sum = 0;
  std::thread consumer([&] {
    while (!q.closed())
      if (auto v = q.pop(std::chrono::milliseconds(10))) sum += *v;
  });
  for (int i = 1; i <= 1000; ++i)
    while (!q.try_push(int{i})) std::this_thread::yield();
  q.close();
  consumer.join();
  EXPECT_EQ(sum, 500500);
}

}  // namespace
}  // namespace resonance
