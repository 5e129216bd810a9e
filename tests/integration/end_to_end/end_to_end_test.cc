// The foundation's promise, end to end through real processes and real sockets: a simulated CNC
// machine (a separate `resonance sim` process speaking MQTT-SN over UDP loopback) streams into
// `resonance serve`; every sample the gateway PUBACKed must come back through the HTTP API exactly
// once, with its timestamp and value bit-exact.

#include "node_fixture.h"

namespace resonance::testing {
namespace {

TEST(EndToEnd, EveryPubackedSampleIsStoredExactlyOnce) {
  NodeProcess node("e2e");
  ASSERT_NO_FATAL_FAILURE(node.start());
  const auto ack_log = node.dir() / "acks.log";
  auto sim = node.simulator(2, 4.0, 5.0, ack_log);
  ASSERT_TRUE(sim->wait_for(std::chrono::seconds(60))) << "simulator did not finish";
  EXPECT_EQ(sim->wait(), 0);
  const std::size_t checked = node.expect_all_acked_stored(ack_log);
  // 2 machines x ~14 signals x 5 Hz x 4 s: a run that stored almost nothing is a failure too.
  EXPECT_GT(checked, 200u);
  // Series are listed with their paths; the metrics endpoint counts the traffic.
  auto series = http_get(node.api_port(), "/api/v1/series");
  ASSERT_TRUE(series && series->status == 200);
  EXPECT_NE(series->body.find("plant1/machining/line1/cnc-01/spindle_speed"), std::string::npos);
  auto metrics = http_get(node.api_port(), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_NE(metrics->body.find("resonance_pipeline_samples_total"), std::string::npos);
  EXPECT_EQ(node.stop(), 0);
}

TEST(EndToEnd, DataSurvivesCleanRestart) {
  NodeProcess node("restart");
  ASSERT_NO_FATAL_FAILURE(node.start());
  const auto ack_log = node.dir() / "acks.log";
  auto sim = node.simulator(1, 2.0, 5.0, ack_log);
  ASSERT_TRUE(sim->wait_for(std::chrono::seconds(60)));
  EXPECT_EQ(node.stop(), 0);
  ASSERT_NO_FATAL_FAILURE(node.start());
  EXPECT_GT(node.expect_all_acked_stored(ack_log), 50u);
  EXPECT_EQ(node.stop(), 0);
}

}  // namespace
}  // namespace resonance::testing
