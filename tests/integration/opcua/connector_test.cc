// The OPC UA connector end to end against node-opcua: data changes become samples with source
// timestamps and qualities; after the server is killed and restarted, data flows again within 5 s,
// the outage is marked with BadNoCommunication, and the reconnect is counted.

#include "resonance/connectors/opcua/opcua_connector.h"

#include <gtest/gtest.h>

#include <map>

#include <mutex>

#include "tests/integration/opcua/node_server.h"

namespace resonance {
namespace {

using resonance::testing::NodeOpcuaServer;
using resonance::testing::NodeServerOptions;
using namespace std::chrono_literals;

// Collects what the connector submits; thread-safe (the connector calls from its own thread).
class CollectingConsumer : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    std::lock_guard lock(mu_);
    for (const auto& s : batch.samples) samples_.push_back({s, batch.provenance.connector});
    on_durable(Status::ok());
    return Admission::kAccepted;
  }
  std::vector<std::pair<Sample, std::string>> samples() {
    std::lock_guard lock(mu_);
    return samples_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<Sample, std::string>> samples_;
};

template <typename F>
bool eventually(F f, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

TEST(OpcuaConnector, SurvivesServerRestartAndMarksTheGap) {
  ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua is missing: run scripts/setup --test";
  auto server = std::make_unique<NodeOpcuaServer>(NodeServerOptions{});
  const auto port = server->port();
  std::string why;
  ASSERT_TRUE(server->start(why)) << why;

  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog);
  MetricsRegistry metrics;
  CollectingConsumer consumer;
  OpcuaConnectorConfig config;
  config.endpoint_url = server->url();
  config.signals = {{"ns=1;s=CNC1.SpindleSpeed", "plant/hall1/line1/cnc1/spindle_speed", "rpm"},
                    {"ns=1;s=CNC1.PartCount", "plant/hall1/line1/cnc1/part_count", ""},
                    // Namespace by URI, never by index: ServerStatus/State in the UA namespace.
                    {"nsu=http://opcfoundation.org/UA/;i=2259", "plant/hall1/line1/cnc1/server_state", ""}};
  auto connector = make_opcua_connector(config, consumer, **catalog, metrics);
  const Status started = connector->start();
  ASSERT_TRUE(started) << started.message();
  const SeriesId speed = (*catalog)->find("plant/hall1/line1/cnc1/spindle_speed")->id;
  const SeriesId state = (*catalog)->find("plant/hall1/line1/cnc1/server_state")->id;

  auto count_for = [&](SeriesId id, TimestampNs after_ns) {
    std::size_t n = 0;
    for (const auto& [s, _] : consumer.samples())
      if (s.series == id && s.ts_ns > after_ns && s.quality.severity() == Severity::kGood) ++n;
    return n;
  };
  ASSERT_TRUE(eventually([&] { return count_for(speed, 0) >= 5; }, 10s)) << "no data changes from " << server->url();
  EXPECT_GE(count_for(state, 0), 1u);
  for (const auto& [s, connector_name] : consumer.samples()) {
    EXPECT_EQ(connector_name, "opcua");
    EXPECT_LT(std::llabs(unix_now_ns() - s.ts_ns), 120LL * kNanosPerSecond) << "source timestamp not carried";
  }

  server->kill();
  const TimestampNs killed_ns = unix_now_ns();
  server = std::make_unique<NodeOpcuaServer>(NodeServerOptions{.port = port});
  ASSERT_TRUE(server->start(why)) << why;
  const auto listening = std::chrono::steady_clock::now();
  const TimestampNs restarted_ns = unix_now_ns();
  ASSERT_TRUE(eventually([&] { return count_for(speed, restarted_ns) >= 1; }, 5s))
      << "data did not flow again within 5 s of the restart";
  const auto recovery_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - listening).count();
  std::printf("opcua connector: data again %lld ms after the server listened\n", static_cast<long long>(recovery_ms));

  // The gap: one BadNoCommunication sample per signal, right after the last sample before the
  // loss (so it sorts between the data before and after whatever the server's clock says), and
  // every series stays strictly increasing in time, so the validation stage refuses nothing.
  std::map<SeriesId, std::vector<Sample>> by_series;
  for (const auto& [s, _] : consumer.samples()) by_series[s.series].push_back(s);
  std::size_t gap_marks = 0;
  for (const auto& [id, samples] : by_series) {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (i > 0) EXPECT_GT(samples[i].ts_ns, samples[i - 1].ts_ns) << "series " << id << " sample " << i;
      if (samples[i].quality.code != Quality::kBadNoCommunication) continue;
      ++gap_marks;
      EXPECT_LE(samples[i].ts_ns, restarted_ns) << "series " << id;
      if (i > 0) EXPECT_EQ(samples[i].ts_ns, samples[i - 1].ts_ns + 1) << "series " << id;
    }
  }
  (void)killed_ns;
  EXPECT_GE(gap_marks, config.signals.size());
  EXPECT_GE(metrics.counter_value("resonance_opcua_reconnects_total", "endpoint=\"" + config.endpoint_url + "\""), 1u);
  connector->stop();
}

}  // namespace
}  // namespace resonance
