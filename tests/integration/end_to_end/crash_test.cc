// kill -9 the server while a simulated machine streams into it, restart it, and check that every
// sample whose PUBACK reached the device is there exactly once. The simulator keeps running
// across the crash and reconnects, as a real device would.
//
// The default run does a few kills; the slow suite (`scripts/test --slow`, label "slow") many.

#include <random>

#include "node_fixture.h"

namespace resonance::testing {
namespace {

void crash_loop(int kills, const char* name) {
  NodeProcess node(name);
  ASSERT_NO_FATAL_FAILURE(node.start());
  const auto ack_log = node.dir() / "acks.log";
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> wait_ms(300, 1500);
  const double duration_s = 2.0 + kills * 2.5;
  auto sim = node.simulator(2, duration_s, 10.0, ack_log);
  for (int i = 0; i < kills; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms(rng)));
    ASSERT_TRUE(node.running()) << "server died on its own before kill " << i;
    node.kill9();
    ASSERT_NO_FATAL_FAILURE(node.start());
  }
  ASSERT_TRUE(sim->wait_for(std::chrono::seconds(static_cast<int>(duration_s) + 90)))
      << "simulator did not finish";
  const std::size_t checked = node.expect_all_acked_stored(ack_log);
  EXPECT_GT(checked, 100u);
  std::printf("crash loop: %d kills, %zu acknowledged samples checked\n", kills, checked);
  EXPECT_EQ(node.stop(), 0);
}

TEST(Crash, Kill9MidStreamLosesNoAcknowledgedSample) { crash_loop(3, "crash"); }

TEST(CrashSlow, ManyKills) { crash_loop(40, "crash_slow"); }

}  // namespace
}  // namespace resonance::testing
