// The evidence a running node leaves: its transparency log verifies offline with nothing running
// (every durable batch and the policy load are entries), its provenance answers per series, and
// the policy in force is served.

#include <gtest/gtest.h>

#include <fstream>

#include "node_fixture.h"

namespace resonance::testing {
namespace {

std::string run_and_capture(const std::vector<std::string>& argv, const std::filesystem::path& log, int& rc) {
  ChildProcess p(argv, log.string());
  EXPECT_TRUE(p.started());
  rc = p.wait();
  std::ifstream in(log);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Evidence, AuditLogVerifiesOfflineAndProvenanceAndPolicyAreServed) {
  NodeProcess node("evidence");
  node.start();
  auto sim = node.simulator(1, 2.0, 5.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());
  EXPECT_EQ(sim->wait(), 0);
  const std::size_t acked = node.expect_all_acked_stored(node.dir() / "acks.log");
  ASSERT_GT(acked, 0u);

  auto policy = http_get(node.api_port(), "/api/v1/policy");
  ASSERT_TRUE(policy && policy->status == 200) << (policy ? policy->body : "no connection");
  EXPECT_NE(policy->body.find("builtin-deny-all"), std::string::npos) << policy->body;

  const auto acks = read_ack_log(node.dir() / "acks.log");
  ASSERT_FALSE(acks.empty());
  const std::string series = acks.begin()->first;
  // Provenance is written in the background (every 200 ms): poll briefly.
  std::string body;
  for (int i = 0; i < 50; ++i) {
    auto r = http_get(node.api_port(), "/api/v1/provenance?series=" + url_encode(series));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no connection");
    body = r->body;
    if (body.find("\"connector\":\"mqttsn\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(body.find("\"connector\":\"mqttsn\""), std::string::npos) << body;
  EXPECT_EQ(node.stop(), 0);

  // Offline: nothing running, a copy of the log directory and the verifier key.
  const auto copy = node.dir() / "audit-copy";
  std::filesystem::copy(node.dir() / "data" / "audit", copy, std::filesystem::copy_options::recursive);
  std::filesystem::remove(copy / "LOCK");
  const std::string vkey = "@" + (node.dir() / "data" / "audit-key" / "node.vkey").string();
  int rc = -1;
  std::string out = run_and_capture({RESONANCE_BINARY, "audit", "verify", "--key", vkey, copy.string()},
                                    node.dir() / "verify.log", rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(": ok"), std::string::npos) << out;

  // One altered byte in an entry bundle (what auditors read) is found.
  std::filesystem::path bundle;
  for (const auto& e : std::filesystem::recursive_directory_iterator(copy / "tile" / "entries"))
    if (e.is_regular_file()) {
      bundle = e.path();
      break;
    }
  ASSERT_FALSE(bundle.empty()) << "no entry bundle under " << copy / "tile" / "entries";
  {
    std::fstream f(bundle, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-3, std::ios::end);
    char c = 0;
    f.get(c);
    f.seekp(-3, std::ios::end);
    f.put(static_cast<char>(c ^ 0x20));
  }
  out = run_and_capture({RESONANCE_BINARY, "audit", "verify", "--key", vkey, copy.string()},
                        node.dir() / "verify2.log", rc);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("entry"), std::string::npos) << out;
}

}  // namespace
}  // namespace resonance::testing
