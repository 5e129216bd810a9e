// The real binary with an [opcua] section: a node-opcua server's variables arrive, through the
// signals file, in the historian under their information-model paths and are read back through
// the API; a bad signals file stops the start with the file and line named.

#include <gtest/gtest.h>

#include <fstream>

#include "node_fixture.h"
#include "tests/integration/opcua/node_server.h"

namespace resonance::testing {
namespace {

TEST(OpcuaNode, ServerVariablesReachTheHistorianUnderTheirSeriesPaths) {
  ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua missing: run scripts/setup --test";
  NodeOpcuaServer server({});
  std::string why;
  ASSERT_TRUE(server.start(why)) << why;

  NodeProcess node("opcua_node");
  const auto signals = node.dir() / "signals.toml";
  std::ofstream(signals) << "[[signal]]\nnode_id = \"ns=1;s=CNC1.SpindleSpeed\"\n"
                            "series = \"plant/hall1/line1/cnc-11/spindle_speed\"\nunit = \"RPM\"\n"
                            "[[signal]]\nnode_id = \"ns=1;s=CNC1.PartCount\"\n"
                            "series = \"plant/hall1/line1/cnc-11/part_count\"\n";
  std::ofstream(node.config_file(), std::ios::app)
      << "[opcua]\nenabled = true\nendpoint = \"opc.tcp://127.0.0.1:" << server.port()
      << "\"\nsignals_file = \"" << signals.string() << "\"\npublishing_interval_ms = 50\n";
  node.start();

  // SpindleSpeed moves every 50 ms on the server: within a few seconds the node holds many
  // samples of both series, with values in the server's range.
  std::vector<AckedSample> speed, count;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    speed = node.stored("plant/hall1/line1/cnc-11/spindle_speed");
    count = node.stored("plant/hall1/line1/cnc-11/part_count");
    if (speed.size() >= 10 && count.size() >= 10) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_GE(speed.size(), 10u);
  ASSERT_GE(count.size(), 10u);
  for (const auto& s : speed) {
    const double v = std::bit_cast<double>(s.value_bits);
    EXPECT_GE(v, 11500.0);
    EXPECT_LE(v, 12500.0);
  }
  // Source timestamps are carried through: strictly increasing per series.
  for (std::size_t i = 1; i < count.size(); ++i) EXPECT_GT(count[i].ts_ns, count[i - 1].ts_ns);
  EXPECT_EQ(node.stop(), 0);
}

TEST(OpcuaNode, BadSignalsFileStopsTheStartNamingFileAndLine) {
  NodeProcess node("opcua_bad_signals");
  const auto signals = node.dir() / "signals.toml";
  std::ofstream(signals) << "[[signal]]\nnode_id = \"ns=1;s=X\"\nseries = \"plant/hall1/cnc1\"\n";
  std::ofstream(node.config_file(), std::ios::app)
      << "[opcua]\nenabled = true\nendpoint = \"opc.tcp://127.0.0.1:9\"\nsignals_file = \""
      << signals.string() << "\"\n";
  ChildProcess server({RESONANCE_BINARY, "serve", "--config", node.config_file().string()},
                      (node.dir() / "server.log").string());
  ASSERT_TRUE(server.started());
  EXPECT_EQ(server.wait(), 1);
  std::ifstream in(node.dir() / "server.log");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find(signals.string() + ":1:1"), std::string::npos) << log;
  EXPECT_NE(log.find("expected site/area/line/equipment/signal"), std::string::npos) << log;
}

}  // namespace
}  // namespace resonance::testing
