// `resonance conformance mqtt-sn`, `resonance conformance mqtt-sn-device` (docs/conformance.md) and
// `resonance conformance opcua` (docs/opcua.md).

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <thread>

#include "commands.h"
#include "connectors/mqttsn/conformance/device_checker.h"
#include "connectors/mqttsn/conformance/gateway_suite.h"
#include "connectors/opcua/machine_tool_conformance.h"
#include "resonance/infomodel/loader.h"

namespace resonance::app {
namespace {

namespace conf = mqttsn::conformance;

// Prints the report, writes the JSON if asked; exit code 0 all pass, 1 a check failed, 2 I/O.
void finish(const conf::Report& report, const std::string& json_path) {
  std::cout << report.to_text() << std::flush;
  if (!json_path.empty()) {
    std::ofstream out(json_path, std::ios::trunc);
    out << report.to_json();
    out.close();
    if (!out) {
      std::cerr << "error: --json: cannot write '" << json_path << "'\n";
      set_exit_code(2);
      return;
    }
  }
  set_exit_code(report.passed() ? 0 : 1);
}

}  // namespace

void register_conformance(CLI::App& app) {
  auto* cmd = app.add_subcommand("conformance", "Conformance suites (MQTT-SN gateways and devices, OPC UA servers)");
  cmd->require_subcommand(1);

  struct GatewayFlags {
    std::string gateway;
    std::string json;
    int timeout_ms = 1500;
    std::string topic = "conformance/suite/line1/probe/value";
  };
  static GatewayFlags g;
  auto* gw = cmd->add_subcommand("mqtt-sn", "Test an MQTT-SN v1.2 gateway procedure by procedure");
  gw->add_option("--gateway", g.gateway, "HOST:PORT of the gateway ([v6]:PORT for IPv6)")->required();
  gw->add_option("--json", g.json, "Also write the report as JSON to this file");
  gw->add_option("--timeout-ms", g.timeout_ms, "Wait this long for each expected answer")
      ->capture_default_str()->check(CLI::Range(10, 60000));
  gw->add_option("--topic", g.topic, "Topic name to REGISTER and PUBLISH to")->capture_default_str();
  gw->callback([] {
    auto address = conf::parse_host_port(g.gateway);
    if (!address) {
      std::cerr << "error: --gateway: " << address.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    conf::GatewaySuiteOptions o;
    o.gateway = *address;
    o.gateway_text = g.gateway;
    o.timeout_ms = g.timeout_ms;
    o.topic = g.topic;
    finish(conf::run_gateway_suite(o), g.json);
  });

  struct DeviceFlags {
    int port = 1884;
    std::string bind = "127.0.0.1";
    double duration_s = 60;
    std::string json;
  };
  static DeviceFlags d;
  auto* dev = cmd->add_subcommand("mqtt-sn-device",
                                  "Act as a minimal gateway and check a device's packets, topics and payloads");
  dev->add_option("--listen", d.port, "UDP port to listen on")->required()->check(CLI::Range(0, 65535));
  dev->add_option("--bind", d.bind, "Address to bind (IPv4 or IPv6 literal)")->capture_default_str();
  dev->add_option("--duration-s", d.duration_s, "Listen this long, then report (Ctrl-C reports early)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  dev->add_option("--json", d.json, "Also write the report as JSON to this file");
  dev->callback([] {
    auto address = conf::make_address(d.bind, static_cast<std::uint16_t>(d.port));
    if (!address) {
      std::cerr << "error: --bind: " << address.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    conf::DeviceCheckOptions o;
    o.listen = *address;
    o.duration_s = std::numeric_limits<double>::max() / 2;  // the main thread decides when to stop
    o.on_bound = [](std::uint16_t port) { spdlog::info("conformance: listening on udp port {}", port); };
    Result<conf::Report> report = std::unexpected(Status(StatusCode::kInternal, "not run"));
    {
      std::jthread checker([&](std::stop_token stop) { report = conf::run_device_checker(o, stop); });
      wait_for_stop(d.duration_s);
    }  // the jthread asks the checker to stop and joins it
    if (!report) {
      std::cerr << "error: " << report.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    finish(*report, d.json);
  });

  struct OpcuaFlags {
    std::string endpoint;
    std::string profile = "machine-tool";
    std::string json;
    std::string user;
    std::string password_env;
    int timeout_ms = 5000;
  };
  static OpcuaFlags u;
  auto* ua = cmd->add_subcommand(
      "opcua", "Browse an OPC UA server and report its alignment with a companion specification "
               "(OPC 40501 machine tools) and the mapping onto the information model");
  ua->add_option("--endpoint", u.endpoint, "opc.tcp://HOST:PORT[/PATH] of the server")->required();
  ua->add_option("--profile", u.profile, "companion specification to check")
      ->check(CLI::IsMember({"machine-tool"}))
      ->capture_default_str();
  ua->add_option("--json", u.json, "also write the report as JSON to this file");
  ua->add_option("--user", u.user, "username (anonymous when not given)");
  ua->add_option("--password-env", u.password_env,
                 "name of the environment variable holding the password (never on the command line)");
  ua->add_option("--timeout-ms", u.timeout_ms, "per-request timeout")->capture_default_str();
  ua->callback([] {
    opcua::ClientOptions o;
    o.endpoint_url = u.endpoint;
    o.session_name = "resonance conformance";
    o.request_timeout_ms = static_cast<std::uint32_t>(u.timeout_ms);
    if (!u.user.empty()) {
      const char* pw = u.password_env.empty() ? nullptr : std::getenv(u.password_env.c_str());
      o.user = opcua::UserIdentity{u.user, pw ? pw : ""};
    }
    auto client = opcua::Client::connect(o);
    if (!client) {
      std::cerr << "error: " << client.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    auto report = opcua::check_machine_tool(**client, infomodel::builtin_model());
    (void)(*client)->close();
    if (!report) {
      std::cerr << "error: " << report.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    report->endpoint = u.endpoint;
    report->profile = u.profile;
    std::cout << report->to_text() << std::flush;
    if (!u.json.empty()) {
      std::ofstream out(u.json, std::ios::trunc);
      out << report->to_json() << "\n";
      out.close();
      if (!out) {
        std::cerr << "error: --json: cannot write '" << u.json << "'\n";
        set_exit_code(2);
        return;
      }
    }
    set_exit_code(report->passed() ? 0 : 1);
  });
}

}  // namespace resonance::app
