#pragma once
// Starts tests/peers/node-opcua/server.js (node from PATH) on a free loopback port and waits until
// it listens. node-opcua comes from `scripts/setup --test` (npm ci in tests/peers/node-opcua).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/net.h"
#include "tests/integration/support/process.h"

namespace resonance::testing {

struct NodeServerOptions {
  int items = 0;             // extra variables ns=1;s=Item.<n>
  std::string user_name;     // accept this username/password besides anonymous
  std::string password;
  std::uint16_t port = 0;    // 0 = pick a free one
  std::string script = "server.js";  // or "server-mt.js" (OPC 40501 MachineToolType instance)
  std::string missing;       // server-mt.js: browse path below the instance to delete
  std::vector<std::string> env;  // more NAME=value for the script (server.js: SECURE, CERT, KEY, PKI_DIR)
};

class NodeOpcuaServer {
 public:
  explicit NodeOpcuaServer(NodeServerOptions o) : options_(std::move(o)) {
    if (options_.port == 0) options_.port = free_tcp_port();
    log_ = (std::filesystem::temp_directory_path() /
            ("opcua-node-" + std::to_string(::getpid()) + "-" + std::to_string(options_.port) + ".log"))
               .string();
  }
  static std::string peer_dir() { return std::string(RESONANCE_SOURCE_DIR) + "/tests/peers/node-opcua"; }
  static bool installed() { return std::filesystem::exists(peer_dir() + "/node_modules/node-opcua"); }

  // Starts and waits up to `timeout` for "listening"; false (with the log in `why`) otherwise.
  bool start(std::string& why, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::filesystem::remove(log_);
    std::vector<std::string> argv{"/usr/bin/env", "PORT=" + std::to_string(options_.port),
                                  "ITEMS=" + std::to_string(options_.items)};
    if (!options_.user_name.empty()) {
      argv.push_back("USER_NAME=" + options_.user_name);
      argv.push_back("PASSWORD=" + options_.password);
    }
    if (!options_.missing.empty()) argv.push_back("MISSING=" + options_.missing);
    argv.insert(argv.end(), options_.env.begin(), options_.env.end());
    argv.push_back("node");
    argv.push_back(peer_dir() + "/" + options_.script);
    process_ = std::make_unique<ChildProcess>(argv, log_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find("listening") != std::string::npos) return true;
      if (!process_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    why = "node-opcua server did not start:\n" + log();
    return false;
  }
  // SIGKILL: the connection drops without a goodbye, like a crashed server.
  void kill() {
    if (process_) {
      process_->kill(SIGKILL);
      process_->wait();
    }
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string url() const { return "opc.tcp://127.0.0.1:" + std::to_string(options_.port) + "/UA/Resonance"; }
  std::uint16_t port() const { return options_.port; }

 private:
  NodeServerOptions options_;
  std::string log_;
  std::unique_ptr<ChildProcess> process_;
};

// One node-opcua server for a whole test suite (CRTP: each suite its own server). The suite's
// SetUpTestSuite calls start_suite_server(); every test then finds it in server_, or fails with
// the reason it did not start.
template <typename Suite>
class NodeServerSuite : public ::testing::Test {
 protected:
  static void start_suite_server(NodeServerOptions options, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    if (!NodeOpcuaServer::installed()) {
      start_error_ = "node-opcua is missing: run scripts/setup --test";
      return;
    }
    server_ = std::make_unique<NodeOpcuaServer>(std::move(options));
    std::string why;
    if (!server_->start(why, timeout)) {
      start_error_ = why;
      server_.reset();
    }
  }
  static void TearDownTestSuite() {
    server_.reset();
    start_error_.clear();
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << start_error_; }

  static inline std::unique_ptr<NodeOpcuaServer> server_;
  static inline std::string start_error_;
};

}  // namespace resonance::testing
