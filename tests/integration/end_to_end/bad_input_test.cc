// Bad input from outside — datagrams, HTTP requests, configuration files — gets a precise error,
// is counted, and never takes the node down or costs it data it already accepted.

#include <boost/asio/ip/udp.hpp>

#include <random>

#include "node_fixture.h"

namespace resonance::testing {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `resonance ARGS...`, returning the exit code and what it printed (stdout and stderr).
std::pair<int, std::string> run_cli(std::vector<std::string> args, const std::filesystem::path& out) {
  std::filesystem::remove(out);
  args.insert(args.begin(), RESONANCE_BINARY);
  ChildProcess p(args, out.string());
  const int code = p.wait();
  return {code, read_file(out)};
}

std::uint64_t metric_value(const std::string& metrics_text, const std::string& name) {
  std::istringstream in(metrics_text);
  std::string line;
  std::uint64_t total = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0 && line.size() > name.size() &&
        (line[name.size()] == ' ' || line[name.size()] == '{'))
      total += static_cast<std::uint64_t>(std::stod(line.substr(line.rfind(' ') + 1)));
  }
  return total;
}

TEST(BadInput, MalformedDatagramsAreCountedAndHarmless) {
  NodeProcess node("bad_datagrams");
  ASSERT_NO_FATAL_FAILURE(node.start());
  // First store some data, so we can check it is still there afterwards.
  const auto ack_log = node.dir() / "acks.log";
  ASSERT_TRUE(node.simulator(1, 1.5, 5.0, ack_log)->wait_for(std::chrono::seconds(60)));

  boost::asio::io_context io;
  boost::asio::ip::udp::socket sock(io, boost::asio::ip::udp::v4());
  const boost::asio::ip::udp::endpoint gw(boost::asio::ip::make_address("127.0.0.1"), node.mqttsn_port());
  const std::vector<std::vector<std::uint8_t>> crafted = {
      {},                                  // empty datagram
      {0x00},                              // length 0
      {0x01},                              // 3-octet form cut short
      {0x01, 0x00, 0x02},                  // 3-octet length < 4
      {0x05, 0x0c, 0x00},                  // length says 5, datagram has 3
      {0x03, 0x0c, 0x00, 0xff},            // datagram longer than its length
      {0x02, 0x03},                        // reserved message type
      {0x06, 0x04, 0x04, 0x02, 0x00, 0x3c},  // CONNECT with protocol id 2 and no client id
      {0x0c, 0x0c, 0x03, 0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0},  // reserved topic id type
  };
  for (const auto& d : crafted) sock.send_to(boost::asio::buffer(d), gw);
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk(rng() % 80);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    sock.send_to(boost::asio::buffer(junk), gw);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(node.running()) << "the server died on malformed datagrams";
  auto metrics = http_get(node.api_port(), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_GE(metric_value(metrics->body, "resonance_mqttsn_malformed_total"), crafted.size() - 1)
      << metrics->body;
  // A well-behaved device still gets through, and nothing stored earlier was lost.
  const auto ack_log2 = node.dir() / "acks2.log";
  ASSERT_TRUE(node.simulator(1, 1.5, 5.0, ack_log2)->wait_for(std::chrono::seconds(60)));
  EXPECT_GT(node.expect_all_acked_stored(ack_log), 10u);
  EXPECT_GT(node.expect_all_acked_stored(ack_log2), 10u);
  EXPECT_EQ(node.stop(), 0);
}

TEST(BadInput, BadQueriesGetClear4xxErrors) {
  NodeProcess node("bad_queries");
  ASSERT_NO_FATAL_FAILURE(node.start());
  // Some data first, so that series 1 exists and the errors below are about the parameters.
  ASSERT_TRUE(node.simulator(1, 1.0, 5.0, node.dir() / "acks.log")->wait_for(std::chrono::seconds(60)));
  struct Case {
    std::string target;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"/api/v1/query", 400, "series"},
      {"/api/v1/query?series=no/such/series/at/all", 404, "no/such/series/at/all"},
      {"/api/v1/query?series=1&from=yesterday", 400, "from"},
      {"/api/v1/query?series=1&from=10&to=5", 400, "to"},
      {"/api/v1/query?series=1&limit=-3", 400, "limit"},
      {"/api/v1/series/notanumber/latest", 400, "notanumber"},
      {"/api/v1/series/999999/latest", 404, "999999"},
      {"/api/v1/nothing-here", 404, "/api/v1/nothing-here"},
  };
  for (const auto& c : cases) {
    auto r = http_get(node.api_port(), c.target);
    ASSERT_TRUE(r) << c.target;
    EXPECT_EQ(r->status, c.status) << c.target << " -> " << r->body;
    EXPECT_NE(r->body.find(c.says), std::string::npos) << c.target << " -> " << r->body;
    auto doc = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << "error body is not JSON: " << r->body;
    EXPECT_TRUE(doc.contains("error")) << r->body;
  }
  auto health = http_get(node.api_port(), "/api/v1/health");
  ASSERT_TRUE(health && health->status == 200);
  EXPECT_EQ(node.stop(), 0);
}

TEST(BadInput, ConfigErrorsNameFileLineKeyExpectedAndFound) {
  const auto dir = std::filesystem::temp_directory_path() / ("resonance_cfg_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto out = dir / "out.txt";
  struct Case {
    std::string toml;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"[historian]\ndurability = \"fast\"\n", "bad.toml:2:14: key 'historian.durability': expected one of sync, none, found \"fast\""},
      {"[api]\nport = 70000\n", "bad.toml:2:8: key 'api.port': expected an integer in 0..65535, found 70000"},
      {"[api]\nprot = 8080\n", "unknown key 'prot' in [api]"},
      {"[mqtt_sn]\nport = 1\n", "unknown section [mqtt_sn]"},
      {"[mqttsn]\nenabled = \"yes\"\n", "key 'mqttsn.enabled': expected true or false, found the string \"yes\""},
      {"[node\nname = 1\n", "bad.toml:1:"},
  };
  for (const auto& c : cases) {
    std::ofstream(dir / "bad.toml") << c.toml;
    auto [code, text] = run_cli({"config", "check", (dir / "bad.toml").string()}, out);
    EXPECT_EQ(code, 2) << c.toml;
    EXPECT_NE(text.find(c.says), std::string::npos) << "expected: " << c.says << "\ngot: " << text;
    // `serve` refuses the same file the same way, before binding anything.
    auto [serve_code, serve_text] = run_cli({"serve", "--config", (dir / "bad.toml").string()}, out);
    EXPECT_EQ(serve_code, 2);
    EXPECT_NE(serve_text.find(c.says), std::string::npos) << serve_text;
  }
  std::filesystem::remove_all(dir);
}

TEST(BadInput, SecondNodeOnTheSameDataDirectoryIsRefused) {
  NodeProcess node("locked");
  ASSERT_NO_FATAL_FAILURE(node.start());
  // Same config: same data directory (and ports); the data directory is checked first.
  auto [code, text] = run_cli({"serve", "--config", node.config_file().string()}, node.dir() / "second.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(text.find("is in use by another resonance process"), std::string::npos) << text;
  EXPECT_TRUE(node.running());
  EXPECT_EQ(node.stop(), 0);
}

TEST(Cli, ExampleConfigPassesCheck) {
  const auto out = std::filesystem::temp_directory_path() / ("resonance_example_" + std::to_string(::getpid()));
  auto [code, text] = run_cli({"config", "check", std::string(RESONANCE_SOURCE_DIR) + "/examples/resonance.toml"}, out);
  EXPECT_EQ(code, 0) << text;
  EXPECT_NE(text.find(": ok"), std::string::npos) << text;
  std::filesystem::remove(out);
}

TEST(Cli, HelpOnEveryCommand) {
  const auto out = std::filesystem::temp_directory_path() / ("resonance_help_" + std::to_string(::getpid()));
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--help"}, {"serve", "--help"}, {"demo", "--help"}, {"sim", "--help"},
        {"config", "--help"}, {"config", "check", "--help"}, {"config", "schema", "--help"},
        {"version", "--help"}}) {
    auto [code, text] = run_cli(args, out);
    EXPECT_EQ(code, 0) << args[0];
    EXPECT_NE(text.find("Usage:"), std::string::npos) << text;
  }
  auto [code, text] = run_cli({"version"}, out);
  EXPECT_EQ(code, 0);
  EXPECT_NE(text.find("resonance 0."), std::string::npos);
  std::filesystem::remove(out);
}

TEST(Cli, ConfigReferenceIsCurrent) {
  // docs/configuration.md is generated from the schema; a stale copy misleads users.
  const auto out = std::filesystem::temp_directory_path() / ("resonance_schema_" + std::to_string(::getpid()));
  auto [code, text] = run_cli({"config", "schema", "--markdown"}, out);
  ASSERT_EQ(code, 0);
  const std::string doc = read_file(std::string(RESONANCE_SOURCE_DIR) + "/docs/configuration.md");
  EXPECT_NE(doc.find(text), std::string::npos)
      << "docs/configuration.md is stale: regenerate it with `resonance config schema --markdown`";
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace resonance::testing
