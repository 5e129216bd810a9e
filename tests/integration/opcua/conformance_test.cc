// `check_machine_tool` against node-opcua servers built from the OPC 40501 nodeset node-opcua
// ships: a complete MachineToolType instance passes; one with a mandatory node deleted fails and
// the report names that node.

#include "connectors/opcua/machine_tool_conformance.h"

#include <gtest/gtest.h>

#include "resonance/infomodel/loader.h"
#include "tests/integration/opcua/node_server.h"

namespace resonance::opcua {
namespace {

using resonance::testing::NodeOpcuaServer;
using resonance::testing::NodeServerOptions;

Result<ConformanceReport> run_check(NodeOpcuaServer& server) {
  ClientOptions o;
  o.endpoint_url = server.url();
  o.request_timeout_ms = 20000;
  auto client = Client::connect(o);
  if (!client) return error(client.error());
  auto r = check_machine_tool(**client, infomodel::builtin_model());
  (void)(*client)->close();
  return r;
}

TEST(OpcuaConformance, MachineToolServerPasses) {
  ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua is missing: run scripts/setup --test";
  NodeOpcuaServer server(NodeServerOptions{.script = "server-mt.js"});
  std::string why;
  ASSERT_TRUE(server.start(why, std::chrono::seconds(120))) << why;
  auto report = run_check(server);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->passed()) << report->to_text();
  EXPECT_EQ(report->instances, std::vector<std::string>{"CNC1"});
  EXPECT_GE(report->checks.size(), 11u);
  // Our cnc signals that 40501 has a concrete place for are found on the server.
  bool program = false;
  for (const auto& m : report->mapping)
    if (m.signal == "program_number") program = m.status == "mapped";
  EXPECT_TRUE(program) << report->to_text();
  EXPECT_NE(report->to_json().find("\"passed\": true"), std::string::npos);
}

TEST(OpcuaConformance, MissingMandatoryNodeFailsAndIsNamed) {
  ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua is missing: run scripts/setup --test";
  NodeOpcuaServer server(NodeServerOptions{.script = "server-mt.js", .missing = "Production/ActiveProgram/State"});
  std::string why;
  ASSERT_TRUE(server.start(why, std::chrono::seconds(120))) << why;
  auto report = run_check(server);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_FALSE(report->passed());
  std::vector<std::string> failed;
  for (const auto& c : report->checks)
    if (!c.passed) failed.push_back(c.path);
  EXPECT_EQ(failed, std::vector<std::string>{"Production/ActiveProgram/State"}) << report->to_text();
  EXPECT_NE(report->to_text().find("[FAIL] CNC1/Production/ActiveProgram/State (mandatory): missing"), std::string::npos)
      << report->to_text();
}

}  // namespace
}  // namespace resonance::opcua
