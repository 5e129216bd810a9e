// The egress gate at the API exit, with the real binary: a policy declares "cloud-eu" (general
// data, an approved route) and not "partner-x". The export to cloud-eu returns the stored samples
// as CSV; partner-x and an undeclared destination get 403 and no sample; every decision is an
// entry of the transparency log, which still verifies offline.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "node_fixture.h"

namespace resonance::testing {
namespace {

constexpr const char* kPolicy = R"(schema_version = 1
kind = "policy"
version = "egress-e2e-1"
[node]
jurisdiction = "CN"

[[destination]]
id = "cloud-eu"
jurisdiction = "DE"
max_sharing = "green"
purposes = ["monitoring"]

[[route]]
id = "SC-EU-1"
type = "standard_contract"
destination = "cloud-eu"
approval_ref = "SC-2026-001"
purposes = ["monitoring"]
valid_until = 2099-01-01T00:00:00Z
)";

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Whether some entry bundle holds a decision with this verdict and destination. Decision bodies
// are canonical JSON (sorted keys), so the pair is one contiguous substring. (Full and partial
// bundles may repeat an entry, so this checks presence, not a count.)
bool log_has_decision(const std::filesystem::path& audit_dir, std::string_view verdict,
                      std::string_view destination) {
  const std::string needle = "\"decision\":\"" + std::string(verdict) + "\",\"destination\":\"" +
                             std::string(destination) + "\"";
  for (const auto& e : std::filesystem::recursive_directory_iterator(audit_dir / "tile" / "entries"))
    if (e.is_regular_file() && read_all(e.path()).find(needle) != std::string::npos) return true;
  return false;
}

TEST(Egress, ApiExportOnlyToAnAllowedDestinationAndEveryDecisionLogged) {
  NodeProcess node("egress");
  const auto policy_file = node.dir() / "policy.toml";
  std::ofstream(policy_file) << kPolicy;
  std::ofstream(node.config_file(), std::ios::app) << "[governance]\npolicy = \"" << policy_file.string() << "\"\n";
  node.start();
  auto sim = node.simulator(1, 2.0, 5.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());
  EXPECT_EQ(sim->wait(), 0);
  node.expect_all_acked_stored(node.dir() / "acks.log");
  const auto acks = read_ack_log(node.dir() / "acks.log");
  ASSERT_FALSE(acks.empty());
  const std::string series = acks.begin()->first;
  const std::vector<AckedSample> stored = node.stored(series);
  ASSERT_FALSE(stored.empty());

  const std::string base = "/api/v1/export?series=" + url_encode(series) + "&purpose=monitoring&from=0";
  auto ok = http_get(node.api_port(), base + "&destination=cloud-eu");
  ASSERT_TRUE(ok && ok->status == 200) << (ok ? ok->body : "no connection");
  // Every stored sample, bit-exact, in order, as CSV rows ts,value,quality.
  std::istringstream lines(ok->body);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line, "ts,value,quality");
  std::vector<AckedSample> exported;
  std::vector<std::string> rows;
  while (std::getline(lines, line)) {
    const auto c1 = line.find(','), c2 = line.rfind(',');
    ASSERT_NE(c1, c2) << line;
    const double v = std::stod(line.substr(c1 + 1, c2 - c1 - 1));
    exported.push_back({std::stoll(line.substr(0, c1)), std::bit_cast<std::uint64_t>(v)});
    rows.push_back(line);
  }
  EXPECT_EQ(exported, stored);

  for (const std::string destination : {"partner-x", "nowhere"}) {
    auto denied = http_get(node.api_port(), base + "&destination=" + destination);
    ASSERT_TRUE(denied) << "no connection";
    EXPECT_EQ(denied->status, 403) << denied->body;
    EXPECT_NE(denied->body.find("\"code\":\"egress_denied\""), std::string::npos) << denied->body;
    EXPECT_NE(denied->body.find("deny.destination.unknown"), std::string::npos) << denied->body;
    // No sample: no CSV header and none of the rows or their (19-digit, unique) timestamps.
    EXPECT_EQ(denied->body.find("ts,value,quality"), std::string::npos) << denied->body;
    for (const auto& row : rows)
      EXPECT_EQ(denied->body.find(row.substr(0, row.find(','))), std::string::npos) << "sample " << row;
  }
  auto metrics = http_get(node.api_port(), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_NE(metrics->body.find("resonance_egress_decisions_total{exit=\"api_export\",verdict=\"allow\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("resonance_egress_decisions_total{exit=\"api_export\",verdict=\"deny\"} 2"),
            std::string::npos)
      << metrics->body;
  EXPECT_EQ(node.stop(), 0);

  // Offline, nothing running: the log verifies and holds the allow and both denials.
  const auto audit_dir = node.dir() / "audit-copy";
  std::filesystem::copy(node.dir() / "data" / "audit", audit_dir, std::filesystem::copy_options::recursive);
  std::filesystem::remove(audit_dir / "LOCK");
  const std::string vkey = "@" + (node.dir() / "data" / "audit-key" / "node.vkey").string();
  ChildProcess verify({RESONANCE_BINARY, "audit", "verify", "--key", vkey, audit_dir.string()},
                      (node.dir() / "verify.log").string());
  ASSERT_TRUE(verify.started());
  EXPECT_EQ(verify.wait(), 0) << read_all(node.dir() / "verify.log");
  EXPECT_TRUE(log_has_decision(audit_dir, "allow", "cloud-eu"));
  EXPECT_TRUE(log_has_decision(audit_dir, "deny", "partner-x"));
  EXPECT_TRUE(log_has_decision(audit_dir, "deny", "nowhere"));
}

}  // namespace
}  // namespace resonance::testing
