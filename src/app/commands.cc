#include "commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <iostream>
#include <thread>

#include "connectors/sim/line_file.h"
#include "connectors/sim/sim_runner.h"
#include "node.h"
#include "node_config.h"

namespace resonance::app {

namespace {

int g_exit_code = 0;

bool set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  spdlog::set_level(parsed);
  return true;
}

// Runs a node until a stop signal (or the duration), then stops it cleanly. `attach`, if given,
// runs once the node is up (the demo starts its simulator there) and returns what must happen
// before the node stops (the demo stops the simulator, so no PUBLISH meets a closed gateway).
using Detach = std::function<void()>;
int run_node(NodeConfig config, double duration_s, const std::function<Detach(Node&)>& attach = {}) {
  set_log_level(config.log_level);
  Node node(std::move(config));
  if (Status s = node.start(); !s) {
    spdlog::error("start failed: {}", s.to_string());
    node.stop();
    return 1;
  }
  Detach detach = attach ? attach(node) : Detach{};
  const int sig = wait_for_stop(duration_s);
  spdlog::info("{}; stopping", sig ? fmt::format("signal {} received", sig) : "duration reached");
  if (detach) detach();
  node.stop();
  return 0;
}

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Run a node from a configuration file");
  static std::string config_file;
  static double duration_s = 0;
  cmd->add_option("-c,--config", config_file, "TOML configuration (see `resonance config schema`)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--duration-s", duration_s, "Stop after this many seconds (0 = until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([] {
    auto config = load_config(node_schema(), config_file);
    if (!config) {
      std::cerr << "error: " << config.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    set_exit_code(run_node(to_node_config(*config), duration_s));
  });
}

void register_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo", "Run a node with a simulated production line streaming over MQTT-SN into it, and its dashboard");
  struct Flags {
    int http_port = 8080;
    int mqttsn_port = 1884;
    std::string data_dir = "demo-data";
    int machines = 4;
    double duration_s = 0;
    std::uint64_t seed = 42;
    double sample_hz = 2.0;
    double time_scale = 10.0;
    std::string log_level = "info";
    std::string line_file;
  };
  static Flags f;
  cmd->add_option("--http-port", f.http_port, "HTTP port for the API and dashboard (0 = any free)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--mqttsn-port", f.mqttsn_port, "UDP port of the MQTT-SN gateway (0 = any free)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--data-dir", f.data_dir, "Where the demo node keeps its data")->capture_default_str();
  static CLI::Option* machines_option = nullptr;
  machines_option = cmd->add_option("--machines", f.machines,
                                    "Run N CNC machines instead of the default mixed line")
                        ->check(CLI::Range(1, 64));
  cmd->add_option("--line", f.line_file,
                  "Line file (TOML, docs/simulator.md) to simulate instead of the default mixed line "
                  "(2 CNC, injection moulding, AGV, robot, vision)")
      ->check(CLI::ExistingFile)
      ->excludes(machines_option);
  cmd->add_option("--sample-hz", f.sample_hz, "Samples per second per signal")
      ->capture_default_str()->check(CLI::Range(0.1, 100.0));
  cmd->add_option("--seed", f.seed, "Simulation seed (same seed, same machine behaviour)")->capture_default_str();
  cmd->add_option("--time-scale", f.time_scale,
                  "Simulated seconds per wall-clock second (tool wear and jobs move visibly at 10)")
      ->capture_default_str()->check(CLI::Range(0.01, 3600.0));
  cmd->add_option("--duration-s", f.duration_s, "Stop after this many seconds (0 = until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--log-level", f.log_level, "trace, debug, info, warn, error")->capture_default_str();
  cmd->callback([] {
    sim::LineOptions line;
    line.device.gateway_host = "127.0.0.1";
    line.device.seed = f.seed;
    line.device.sample_hz = f.sample_hz;
    line.device.time_scale = f.time_scale;
    if (!f.line_file.empty()) {
      if (Status s = sim::load_line_file(f.line_file, line); !s) {
        std::cerr << "error: " << s.message() << "\n";
        set_exit_code(2);
        return;
      }
    } else if (machines_option->count() > 0) {
      line.machines = f.machines;  // the CNC-only line of earlier versions
    } else {
      line = sim::default_demo_line(line);
    }
    Config config = default_config(node_schema());
    config.set("node.name", std::string("demo-line"));
    config.set("node.data_dir", f.data_dir);
    config.set("log.level", f.log_level);
    config.set("api.port", std::int64_t{f.http_port});
    config.set("mqttsn.port", std::int64_t{f.mqttsn_port});
    auto line_stats = std::make_shared<sim::LineStats>();
    auto simulator = std::make_shared<std::jthread>();
    set_exit_code(run_node(to_node_config(config), f.duration_s, [&](Node& node) -> Detach {
      line.device.gateway_port = node.mqttsn_port();
      *simulator = std::jthread([line, line_stats](std::stop_token stop) {
        if (Status s = sim::run_line(line, stop, line_stats.get()); !s)
          spdlog::error("demo: simulator stopped: {}", s.to_string());
      });
      std::printf("\nResonance demo: %d simulated machines -> MQTT-SN udp://127.0.0.1:%u -> historian\n"
                  "Dashboard: http://127.0.0.1:%u/    (Ctrl-C to stop)\n\n",
                  sim::machine_count(line), node.mqttsn_port(), node.api_port());
      std::fflush(stdout);
      return [simulator, line_stats] {
        simulator->request_stop();
        if (simulator->joinable()) simulator->join();
        spdlog::info("demo: simulator published {} samples, {} acknowledged durable, {} congestion answers",
                     line_stats->totals.published.load(), line_stats->totals.acked.load(),
                     line_stats->totals.congestion.load());
      };
    }));
  });
}

void register_sim(CLI::App& app) {
  auto* cmd = app.add_subcommand("sim", "Run simulated machines (CNC, or a line file) against an MQTT-SN gateway");
  struct Flags {
    std::string gateway = "127.0.0.1:1884";
    int machines = 1;
    double duration_s = 0;
    std::uint64_t seed = 42;
    double sample_hz = 2.0;
    double time_scale = 1.0;
    std::string ack_log;
    std::string line_file;
  };
  static Flags f;
  cmd->add_option("--gateway", f.gateway, "HOST:PORT of the gateway")->capture_default_str();
  auto* machines_option = cmd->add_option("--machines", f.machines, "Number of CNC machines (without --line)")
                              ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--line", f.line_file, "Line file (TOML, docs/simulator.md): the machines to run")
      ->check(CLI::ExistingFile)
      ->excludes(machines_option);
  cmd->add_option("--sample-hz", f.sample_hz, "Samples per second per signal")
      ->capture_default_str()->check(CLI::Range(0.1, 1000.0));
  cmd->add_option("--seed", f.seed, "Simulation seed")->capture_default_str();
  cmd->add_option("--time-scale", f.time_scale, "Simulated seconds per wall-clock second")
      ->capture_default_str()->check(CLI::Range(0.01, 3600.0));
  cmd->add_option("--duration-s", f.duration_s, "Stop after this many seconds (0 = until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ack-log", f.ack_log,
                  "Append `path ts_ns value_bits_hex` for every sample the gateway acknowledged");
  cmd->callback([] {
    const auto colon = f.gateway.rfind(':');
    int port = 0;
    if (colon == std::string::npos || std::sscanf(f.gateway.c_str() + colon + 1, "%d", &port) != 1 ||
        port <= 0 || port > 65535) {
      std::cerr << "error: --gateway: expected HOST:PORT, found '" << f.gateway << "'\n";
      set_exit_code(2);
      return;
    }
    sim::LineOptions line;
    line.machines = f.machines;
    line.device.gateway_host = f.gateway.substr(0, colon);
    line.device.gateway_port = static_cast<std::uint16_t>(port);
    line.device.seed = f.seed;
    line.device.sample_hz = f.sample_hz;
    line.device.time_scale = f.time_scale;
    if (!f.line_file.empty()) {
      if (Status s = sim::load_line_file(f.line_file, line); !s) {
        std::cerr << "error: " << s.message() << "\n";
        set_exit_code(2);
        return;
      }
    }
    if (!f.ack_log.empty()) line.device.ack_log = f.ack_log;
    sim::LineStats stats;
    std::jthread runner([&](std::stop_token stop) {
      if (Status s = sim::run_line(line, stop, &stats); !s) {
        spdlog::error("sim: {}", s.to_string());
        set_exit_code(1);
      }
    });
    wait_for_stop(f.duration_s);
    runner.request_stop();
    runner.join();
    spdlog::info("sim: published {} samples, {} acknowledged, {} retries, {} reconnects",
                 stats.totals.published.load(), stats.totals.acked.load(),
                 stats.totals.retries.load(), stats.totals.reconnects.load());
  });
}

void register_config(CLI::App& app) {
  auto* cmd = app.add_subcommand("config", "Check configuration files and print the schema");
  cmd->require_subcommand(1);
  auto* check = cmd->add_subcommand("check", "Check a configuration file; print every problem with file:line:column");
  static std::string file;
  check->add_option("FILE", file, "TOML configuration file")->required();
  check->callback([] {
    auto config = load_config(node_schema(), file);
    if (!config) {
      std::cerr << "error: " << config.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    std::cout << file << ": ok\n";
  });
  auto* schema = cmd->add_subcommand("schema", "Print every option with its default (TOML, or Markdown)");
  static bool markdown = false;
  schema->add_flag("--markdown", markdown, "Print the reference as Markdown (docs/configuration.md)");
  schema->callback([] {
    std::cout << (markdown ? node_schema().to_markdown() : node_schema().to_toml());
  });
}

void register_version(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version");
  cmd->callback([] { std::cout << "resonance " << RESONANCE_VERSION << "\n"; });
}

}  // namespace

void register_commands(CLI::App& app) {
  register_serve(app);
  register_demo(app);
  register_sim(app);
  register_config(app);
  register_version(app);
  register_infomodel(app);
  register_conformance(app);
  register_audit(app);
  register_policy(app);
  register_models(app);
  register_backfill(app);
}

int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

int wait_for_stop(double duration_s) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(duration_s);
  while (true) {
    timespec timeout{0, 200'000'000};
    const int sig = sigtimedwait(&stop_signals, nullptr, &timeout);
    if (sig > 0) return sig;
    if (duration_s > 0 && std::chrono::steady_clock::now() >= deadline) return 0;
  }
}

}  // namespace resonance::app
