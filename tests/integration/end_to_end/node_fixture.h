#pragma once
// A running `resonance serve` on free loopback ports with its own data directory, and the helpers
// the end-to-end tests share: run the simulator as a separate process, read its ack log, read
// series back through the HTTP API.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <bit>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/net.h"
#include "../support/process.h"

namespace resonance::testing {

struct AckedSample {
  std::int64_t ts_ns;
  std::uint64_t value_bits;
  bool operator<(const AckedSample& o) const {
    return ts_ns != o.ts_ns ? ts_ns < o.ts_ns : value_bits < o.value_bits;
  }
  bool operator==(const AckedSample&) const = default;
};

// path -> samples acknowledged by the gateway, as the simulator logged them.
inline std::map<std::string, std::vector<AckedSample>> read_ack_log(const std::filesystem::path& file) {
  std::map<std::string, std::vector<AckedSample>> out;
  std::ifstream in(file);
  std::string path, hex;
  std::int64_t ts = 0;
  while (in >> path >> ts >> hex) out[path].push_back({ts, std::stoull(hex, nullptr, 16)});
  return out;
}

inline std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

class NodeProcess {
 public:
  explicit NodeProcess(const std::string& name) {
    dir_ = std::filesystem::temp_directory_path() /
           ("resonance_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    api_port_ = free_tcp_port();
    mqttsn_port_ = free_udp_port();
    std::ofstream(config_file()) << "[node]\nname = \"e2e\"\ndata_dir = \"" << (dir_ / "data").string()
                                 << "\"\n[log]\nlevel = \"info\"\n[api]\nport = " << api_port_
                                 << "\n[mqttsn]\nport = " << mqttsn_port_ << "\n";
  }
  ~NodeProcess() {
    server_.reset();
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir_);
    else std::fprintf(stderr, "kept test directory %s (server log: server.log)\n", dir_.c_str());
  }

  std::filesystem::path config_file() const { return dir_ / "node.toml"; }
  std::filesystem::path dir() const { return dir_; }
  std::uint16_t api_port() const { return api_port_; }
  std::uint16_t mqttsn_port() const { return mqttsn_port_; }

  // Starts the server and waits until /api/v1/health answers 200.
  void start() {
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{RESONANCE_BINARY, "serve", "--config", config_file().string()},
        (dir_ / "server.log").string());
    ASSERT_TRUE(server_->started());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = http_get(api_port_, "/api/v1/health");
      if (r && r->status == 200) return;
      ASSERT_TRUE(server_->running()) << "server exited during start; see " << (dir_ / "server.log");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "server did not answer /api/v1/health within 30 s";
  }
  void kill9() {
    server_->kill(SIGKILL);
    server_->wait();
  }
  // SIGTERM and wait: the clean shutdown path.
  int stop() {
    server_->kill(SIGTERM);
    EXPECT_TRUE(server_->wait_for(std::chrono::seconds(20))) << "server did not stop on SIGTERM";
    return server_->wait();
  }
  bool running() { return server_ && server_->running(); }

  std::unique_ptr<ChildProcess> simulator(int machines, double duration_s, double hz,
                                          const std::filesystem::path& ack_log) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{RESONANCE_BINARY, "sim", "--gateway",
                                 "127.0.0.1:" + std::to_string(mqttsn_port_), "--machines",
                                 std::to_string(machines), "--duration-s", std::to_string(duration_s),
                                 "--sample-hz", std::to_string(hz), "--ack-log", ack_log.string()},
        (dir_ / "sim.log").string());
  }

  // Every stored point of a series, through GET /api/v1/query. The series must exist.
  std::vector<AckedSample> stored(const std::string& path) { return query_points(path, false); }
  // The same while polling for a series a connector has not created yet: its absence (404) reads
  // as no points; any other failure still fails the test.
  std::vector<AckedSample> stored_once_created(const std::string& path) { return query_points(path, true); }

  std::vector<AckedSample> query_points(const std::string& path, bool absent_is_empty) {
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    auto r = http_get(api_port_, "/api/v1/query?series=" + url_encode(path) + "&from=0&to=" +
                                     std::to_string(now_ns + 60'000'000'000LL) + "&limit=100000");
    if (absent_is_empty && r && r->status == 404) return {};
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no connection");
    std::vector<AckedSample> out;
    if (!r || r->status != 200) return out;
    auto doc = nlohmann::json::parse(r->body);
    EXPECT_FALSE(doc.value("truncated", false));
    for (const auto& p : doc.at("points")) {
      const double v = p.at(1).get<double>();
      out.push_back({p.at(0).get<std::int64_t>(), std::bit_cast<std::uint64_t>(v)});
    }
    return out;
  }

  // Asserts that every acknowledged sample is stored exactly once, bit-exact. Returns the count.
  std::size_t expect_all_acked_stored(const std::filesystem::path& ack_log) {
    const auto acked = read_ack_log(ack_log);
    std::size_t checked = 0, failures = 0;
    for (const auto& [path, samples] : acked) {
      const auto stored_points = stored(path);
      std::map<std::int64_t, int> occurrences;
      std::map<std::int64_t, std::uint64_t> value_at;
      for (const auto& p : stored_points) {
        ++occurrences[p.ts_ns];
        value_at[p.ts_ns] = p.value_bits;
      }
      for (const auto& a : samples) {
        ++checked;
        const int n = occurrences[a.ts_ns];
        const char* problem = n == 0 ? "missing" : n > 1 ? "stored more than once"
                              : value_at[a.ts_ns] != a.value_bits ? "stored with another value" : nullptr;
        if (problem && ++failures <= 10)
          ADD_FAILURE() << path << " ts " << a.ts_ns << ": acknowledged sample " << problem;
      }
    }
    EXPECT_EQ(failures, 0u) << "of " << checked << " acknowledged samples";
    return checked;
  }

 private:
  std::filesystem::path dir_;
  std::uint16_t api_port_ = 0;
  std::uint16_t mqttsn_port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

// A whole file's bytes ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `resonance ARGS…` to completion next to `node`; returns its exit code and fills `output`
// (stdout + stderr).
inline int run_cli(const NodeProcess& node, std::vector<std::string> args, std::string& output) {
  args.insert(args.begin(), RESONANCE_BINARY);
  const std::filesystem::path log = node.dir() / "cli.log";
  std::filesystem::remove(log);
  ChildProcess p(std::move(args), log.string());
  EXPECT_TRUE(p.started());
  const int code = p.wait();
  output = slurp(log);
  return code;
}

}  // namespace resonance::testing
