// Signals found on the server instead of named by node id, against node-opcua's OPC 40501
// MachineToolType server (tests/peers/node-opcua/server-mt.js, SIMULATE=1: CNC1 under
// Objects/Machines with a running channel, program and job): the machine-tool browse maps the
// variables 40501 has for our cnc signals and says why the others are not mapped; through the
// connector, browse paths and the machine browse deliver samples under the right series while a
// path the server does not have is logged by name and status, counted, and stops nothing else.

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <set>

#include "connectors/opcua/machine_tool_mapping.h"
#include "resonance/connectors/opcua/opcua_connector.h"
#include "resonance/infomodel/loader.h"
#include "tests/integration/opcua/node_server.h"

namespace resonance {
namespace {

using resonance::testing::NodeOpcuaServer;
using resonance::testing::NodeServerOptions;
using resonance::testing::NodeServerSuite;
using namespace std::chrono_literals;

constexpr std::string_view kTestNamespace =
    "urn:resonance:test:cnc";  // server-mt.js with SIMULATE=1

class MachineMappingTest : public NodeServerSuite<MachineMappingTest> {
 protected:
  static void SetUpTestSuite() {
    start_suite_server(NodeServerOptions{.script = "server-mt.js", .env = {"SIMULATE=1"}}, std::chrono::seconds(120));
  }
};

TEST_F(MachineMappingTest, MapsTheCncSignalsOpc40501HasAndSaysWhyNotTheOthers) {
  opcua::ClientOptions o;
  o.endpoint_url = server_->url();
  o.request_timeout_ms = 20000;
  auto client = opcua::Client::connect(o);
  ASSERT_TRUE(client) << client.error().message();
  auto namespaces = opcua::companion_namespaces(**client);
  ASSERT_TRUE(namespaces) << namespaces.error().message();
  ASSERT_NE(namespaces->machine_tool, 0);
  auto instances = opcua::find_machine_tools(**client, namespaces->machine_tool);
  ASSERT_TRUE(instances) << instances.error().message();
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_EQ((*instances)[0].name, "CNC1");  // found below Objects/Machines

  const auto* cnc = infomodel::builtin_model().find_category("cnc");
  ASSERT_NE(cnc, nullptr);
  opcua::BrowseWalker walker(**client, namespaces->indexes);
  auto mapped = opcua::map_machine_tool(walker, (*instances)[0], *cnc, namespaces->machine_tool);
  ASSERT_TRUE(mapped) << mapped.error().message();
  ASSERT_EQ(mapped->size(), cnc->signals.size());
  std::map<std::string, const opcua::MachineSignalMapping*> by_name;
  for (const auto& m : *mapped) by_name[m.signal->name] = &m;

  std::set<std::string> mapped_names;
  for (const auto& m : *mapped)
    if (m.node) mapped_names.insert(m.signal->name);
  EXPECT_EQ(mapped_names,
            (std::set<std::string>{"execution_state", "part_count", "program_number"}));
  EXPECT_EQ(by_name["program_number"]->path, "Production/ActiveProgram/Name");
  EXPECT_EQ(by_name["part_count"]->path, "Production/ProductionPlan/Job1/PartsCompleted");
  EXPECT_EQ(by_name["execution_state"]->path, "Monitoring/Channel1/ChannelState");
  // ChannelState Active/Interrupted/Reset → our running/alarm/idle.
  EXPECT_EQ(by_name["execution_state"]->value_map,
            (std::vector<std::pair<double, double>>{{0, 1}, {1, 2}, {2, 0}}));
  EXPECT_TRUE(by_name["program_number"]->value_map.empty());

  EXPECT_NE(by_name["tool_id"]->why_not.find("not which one is in the spindle"), std::string::npos);
  EXPECT_NE(
      by_name["alarm_code"]->why_not.find(
          "Notification/Messages is an Object, not a variable (40501 reports this with events"),
      std::string::npos)
      << by_name["alarm_code"]->why_not;
  EXPECT_EQ(by_name["spindle_speed"]->why_not,
            "no OPC 40501-1 counterpart: 40501-1 models only Monitoring/<Spindle>/IsRotating and "
            "Override");
  EXPECT_EQ(by_name["x_position"]->why_not, "no OPC 40501-1 counterpart");
  (void)(*client)->close();
}

// The plain server-mt.js instance (under Objects, no channel and no job instantiated): the
// placeholders have nothing to resolve to, and the reasons say which type was looked for where.
TEST(MachineMappingPlain, PlaceholdersWithoutInstancesAreNamed) {
  ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua is missing: run scripts/setup --test";
  NodeOpcuaServer server(NodeServerOptions{.script = "server-mt.js"});
  std::string why;
  ASSERT_TRUE(server.start(why, std::chrono::seconds(120))) << why;
  opcua::ClientOptions o;
  o.endpoint_url = server.url();
  o.request_timeout_ms = 20000;
  auto client = opcua::Client::connect(o);
  ASSERT_TRUE(client) << client.error().message();
  auto namespaces = opcua::companion_namespaces(**client);
  ASSERT_TRUE(namespaces) << namespaces.error().message();
  auto instances = opcua::find_machine_tools(**client, namespaces->machine_tool);
  ASSERT_TRUE(instances) << instances.error().message();
  ASSERT_EQ(instances->size(), 1u);  // found below Objects
  opcua::BrowseWalker walker(**client, namespaces->indexes);
  auto mapped = opcua::map_machine_tool(walker, (*instances)[0],
                                        *infomodel::builtin_model().find_category("cnc"),
                                        namespaces->machine_tool);
  ASSERT_TRUE(mapped) << mapped.error().message();
  std::map<std::string, std::string> why_not;
  for (const auto& m : *mapped) {
    if (m.node) EXPECT_EQ(m.signal->name, "program_number");  // the only variable this server has
    why_not[m.signal->name] = m.why_not;
  }
  EXPECT_EQ(why_not["execution_state"],
            "no ChannelMonitoringType instance (<Channel>) below Monitoring");
  EXPECT_EQ(why_not["part_count"],
            "no ProductionJobType instance (<Job>) below Production/ProductionPlan");
  (void)(*client)->close();
  server.kill();
}

// Collects what the connector submits; thread-safe (the connector calls from its own thread).
class CollectingConsumer : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    std::lock_guard lock(mu_);
    for (const auto& s : batch.samples) samples_.push_back(s);
    on_durable(Status::ok());
    return Admission::kAccepted;
  }
  std::vector<Sample> of(SeriesId id) {
    std::lock_guard lock(mu_);
    std::vector<Sample> out;
    for (const auto& s : samples_)
      if (s.series == id) out.push_back(s);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Sample> samples_;
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

TEST_F(MachineMappingTest, ConnectorDeliversBrowsedSignalsAndNamesTheBadPath) {
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(512);
  spdlog::default_logger()->sinks().push_back(log);
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::info);  // the mapping report is an info line
  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog);
  MetricsRegistry metrics;
  CollectingConsumer consumer;
  OpcuaConnectorConfig config;
  config.endpoint_url = server_->url();
  config.publishing_interval_ms = 50;
  const std::string mt(opcua::kMachineToolNamespace), test(kTestNamespace);
  OpcuaSignalMapping by_path;
  by_path.series_path = "plant/hall1/line1/cnc-08/part_count";
  by_path.start = "nsu=" + std::string(opcua::kMachineryNamespace) + ";i=1001";  // Objects/Machines
  by_path.browse_path = {{test, "CNC1"},
                         {mt, "Production"},
                         {mt, "ProductionPlan"},
                         {test, "Job1"},
                         {mt, "PartsCompleted"}};
  by_path.browse_path_text = "cnc:CNC1/mt:Production/mt:ProductionPlan/cnc:Job1/mt:PartsCompleted";
  OpcuaSignalMapping bad;
  bad.series_path = "plant/hall1/line1/cnc-08/spindle_speed";
  bad.browse_path = {{"http://opcfoundation.org/UA/Machinery/", "Machines"},
                     {test, "CNC1"},
                     {mt, "NoSuchSpindle"}};
  bad.browse_path_text = "machinery:Machines/cnc:CNC1/mt:NoSuchSpindle";
  OpcuaSignalMapping explicit_id{"nsu=http://opcfoundation.org/UA/;i=2259",
                                 "plant/hall1/line1/cnc-08/server_state", ""};
  config.signals = {by_path, bad, explicit_id};
  config.machines = {OpcuaMachineMapping{"machine-tool", "CNC1", "plant/hall1/line1/cnc-07",
                                         infomodel::builtin_model().find_category("cnc")}};
  auto connector = make_opcua_connector(config, consumer, **catalog, metrics);
  const Status started = connector->start();
  ASSERT_TRUE(started) << started.message();

  auto id = [&](const std::string& path) -> SeriesId {
    auto info = (*catalog)->find(path);
    return info ? info->id : SeriesId{0};
  };
  auto good_values = [&](const std::string& path) {
    std::vector<double> out;
    if (const SeriesId s = id(path); s != 0)
      for (const auto& sample : consumer.of(s))
        if (sample.quality.severity() == Severity::kGood) out.push_back(sample.value);
    return out;
  };
  // PartsCompleted counts up every 100 ms: several samples on both series that read it.
  ASSERT_TRUE(eventually(
      [&] {
        return good_values("plant/hall1/line1/cnc-08/part_count").size() >= 5 &&
               good_values("plant/hall1/line1/cnc-07/part_count").size() >= 5 &&
               !good_values("plant/hall1/line1/cnc-07/program_number").empty() &&
               !good_values("plant/hall1/line1/cnc-07/execution_state").empty() &&
               !good_values("plant/hall1/line1/cnc-08/server_state").empty();
      },
      20s))
      << "browsed signals did not deliver";
  const auto parts = good_values("plant/hall1/line1/cnc-08/part_count");
  for (std::size_t i = 1; i < parts.size(); ++i) EXPECT_GT(parts[i], parts[i - 1]);
  EXPECT_EQ(good_values("plant/hall1/line1/cnc-07/program_number").front(),
            4711.0);  // "4711", a String
  EXPECT_EQ(good_values("plant/hall1/line1/cnc-07/execution_state").front(),
            1.0);  // Active → running
  // Mapped: exactly the three series 40501 has variables for, nothing for the others.
  EXPECT_EQ(id("plant/hall1/line1/cnc-07/tool_id"), 0u);
  EXPECT_EQ(id("plant/hall1/line1/cnc-07/spindle_speed"), 0u);
  // The path the server does not have: no samples, counted, and the log names path and status.
  EXPECT_TRUE(good_values("plant/hall1/line1/cnc-08/spindle_speed").empty());
  EXPECT_EQ(metrics.counter_value("resonance_opcua_unresolved_signals_total",
                                  "endpoint=\"" + server_->url() + "\""),
            1u);
  connector->stop();
  std::string lines;
  for (const auto& l : log->last_formatted()) lines += l;
  spdlog::default_logger()->sinks().pop_back();
  spdlog::set_level(level);
  EXPECT_NE(
      lines.find(
          "series plant/hall1/line1/cnc-08/spindle_speed: browse path "
          "\"machinery:Machines/cnc:CNC1/mt:NoSuchSpindle\" from i=85: 0x806F0000 BadNoMatch"),
      std::string::npos)
      << lines;
  EXPECT_NE(lines.find("machine CNC1 for plant/hall1/line1/cnc-07 (CNC1): mapped program_number <- "
                       "Production/ActiveProgram/Name"),
            std::string::npos)
      << lines;
  EXPECT_NE(lines.find("execution_state <- Monitoring/Channel1/ChannelState"), std::string::npos)
      << lines;
  EXPECT_NE(lines.find("not mapped: spindle_speed (no OPC 40501-1 counterpart"), std::string::npos)
      << lines;
}

TEST_F(MachineMappingTest, MissingInstanceIsLoggedAndCountedWhileSignalsFlow) {
  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog);
  MetricsRegistry metrics;
  CollectingConsumer consumer;
  OpcuaConnectorConfig config;
  config.endpoint_url = server_->url();
  config.publishing_interval_ms = 50;
  // ServerStatus/State: one sample (Running) once subscribed.
  config.signals = {
      {"nsu=http://opcfoundation.org/UA/;i=2259", "plant/hall1/line1/cnc-09/server_state", ""}};
  config.machines = {OpcuaMachineMapping{"machine-tool", "CNC9", "plant/hall1/line1/cnc-09",
                                         infomodel::builtin_model().find_category("cnc")}};
  auto connector = make_opcua_connector(config, consumer, **catalog, metrics);
  ASSERT_TRUE(connector->start());
  const SeriesId state = (*catalog)->find("plant/hall1/line1/cnc-09/server_state")->id;
  EXPECT_TRUE(eventually([&] { return !consumer.of(state).empty(); }, 20s));
  EXPECT_EQ(metrics.counter_value("resonance_opcua_unresolved_signals_total",
                                  "endpoint=\"" + server_->url() + "\""),
            1u);
  EXPECT_FALSE((*catalog)->find("plant/hall1/line1/cnc-09/part_count"));
  connector->stop();
}

}  // namespace
}  // namespace resonance
