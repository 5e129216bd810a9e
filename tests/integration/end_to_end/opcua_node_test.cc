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
    speed = node.stored_once_created("plant/hall1/line1/cnc-11/spindle_speed");
    count = node.stored_once_created("plant/hall1/line1/cnc-11/part_count");
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

// A signals file with a [[machine]] browse and a browse path, against node-opcua's OPC 40501
// MachineToolType server: the machine's part counter, program number and channel state, and the
// job's run counter by browse path, are stored under their information-model series.
TEST(OpcuaNode, MachineToolBrowseAndBrowsePathsReachTheHistorian) {
  ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua missing: run scripts/setup --test";
  NodeOpcuaServer server(NodeServerOptions{.script = "server-mt.js", .env = {"SIMULATE=1"}});
  std::string why;
  ASSERT_TRUE(server.start(why, std::chrono::seconds(120))) << why;

  NodeProcess node("opcua_machine");
  const auto signals = node.dir() / "signals.toml";
  std::ofstream(signals) << "[namespaces]\nmachinery = \"http://opcfoundation.org/UA/Machinery/\"\n"
                            "mt = \"http://opcfoundation.org/UA/MachineTool/\"\ncnc = \"urn:resonance:test:cnc\"\n"
                            "[[signal]]\nbrowse_path = \"machinery:Machines/cnc:CNC1/mt:Production/"
                            "mt:ProductionPlan/cnc:Job1/mt:RunsCompleted\"\n"
                            "series = \"plant/hall1/line1/cnc-12/part_count\"\n"
                            "[[machine]]\nprofile = \"machine-tool\"\nequipment = \"plant/hall1/line1/cnc-13\"\n";
  std::ofstream(node.config_file(), std::ios::app)
      << "[opcua]\nenabled = true\nendpoint = \"" << server.url() << "\"\nsignals_file = \"" << signals.string()
      << "\"\npublishing_interval_ms = 50\n";
  node.start();

  // The machine's series are created when the connector has mapped them: wait for them first.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string listed;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = http_get(node.api_port(), "/api/v1/series");
    listed = r && r->status == 200 ? r->body : "";
    if (listed.find("cnc-13/execution_state") != std::string::npos &&
        listed.find("cnc-13/part_count") != std::string::npos &&
        listed.find("cnc-13/program_number") != std::string::npos && listed.find("cnc-12/part_count") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(listed.find("cnc-13/execution_state"), std::string::npos) << listed;
  // Only what OPC 40501-1 has a variable for is mapped.
  EXPECT_EQ(listed.find("cnc-13/tool_id"), std::string::npos) << listed;
  std::vector<AckedSample> by_path, parts, program, state;
  while (std::chrono::steady_clock::now() < deadline) {
    by_path = node.stored("plant/hall1/line1/cnc-12/part_count");
    parts = node.stored("plant/hall1/line1/cnc-13/part_count");
    program = node.stored("plant/hall1/line1/cnc-13/program_number");
    state = node.stored("plant/hall1/line1/cnc-13/execution_state");
    if (!by_path.empty() && parts.size() >= 10 && !program.empty() && !state.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(by_path.empty());  // RunsCompleted stays 0 on this server: one sample
  ASSERT_GE(parts.size(), 10u);
  ASSERT_FALSE(program.empty());
  ASSERT_FALSE(state.empty());
  EXPECT_EQ(std::bit_cast<double>(program.front().value_bits), 4711.0);
  EXPECT_EQ(std::bit_cast<double>(state.front().value_bits), 1.0);  // running
  for (std::size_t i = 1; i < parts.size(); ++i)
    EXPECT_GT(std::bit_cast<double>(parts[i].value_bits), std::bit_cast<double>(parts[i - 1].value_bits));
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
