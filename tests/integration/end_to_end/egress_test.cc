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

// A stopped node's log copied off the node (as an auditor would) and checked offline by
// `resonance audit verify` with the node's verifier key; empty (and a test failure) if it fails.
std::filesystem::path verified_audit_copy(NodeProcess& node) {
  const auto audit_dir = node.dir() / "audit-copy";
  std::filesystem::remove_all(audit_dir);
  std::filesystem::copy(node.dir() / "data" / "audit", audit_dir, std::filesystem::copy_options::recursive);
  std::filesystem::remove(audit_dir / "LOCK");
  const std::string vkey = "@" + (node.dir() / "data" / "audit-key" / "node.vkey").string();
  ChildProcess verify({RESONANCE_BINARY, "audit", "verify", "--key", vkey, audit_dir.string()},
                      (node.dir() / "verify.log").string());
  if (!verify.started() || verify.wait() != 0) {
    ADD_FAILURE() << "audit verify failed: " << read_all(node.dir() / "verify.log");
    return {};
  }
  return audit_dir;
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
  const auto audit_dir = verified_audit_copy(node);
  ASSERT_FALSE(audit_dir.empty());
  EXPECT_TRUE(log_has_decision(audit_dir, "allow", "cloud-eu"));
  EXPECT_TRUE(log_has_decision(audit_dir, "deny", "partner-x"));
  EXPECT_TRUE(log_has_decision(audit_dir, "deny", "nowhere"));
}

// Remote access: only 127.0.0.1 is local; a client on 127.0.0.2 (still loopback, but outside
// [api] local_clients) is remote and reads as destination vendor-de. General data it may read;
// a series the policy makes important has no route to vendor-de, so that read is a 403 with no
// sample; the same reads from 127.0.0.1 ask nothing. Every remote decision is in the log.
constexpr const char* kRemotePolicy = R"(schema_version = 1
kind = "policy"
version = "remote-e2e-1"
[node]
jurisdiction = "CN"

[[destination]]
id = "vendor-de"
jurisdiction = "DE"
max_sharing = "green"
purposes = ["remote_access"]

[[label]]
pattern = "*/*/*/*/spindle_load"
grade = "important"
)";

TEST(Egress, RemoteClientsReadOnlyWhatTheGateAllows) {
  NodeProcess node("egress_remote");
  const auto policy_file = node.dir() / "policy.toml";
  std::ofstream(policy_file) << kRemotePolicy;
  {
    std::string config = read_all(node.config_file());
    const auto api = config.find("[api]\n");
    ASSERT_NE(api, std::string::npos);
    config.insert(api + 6, "local_clients = \"127.0.0.1/32\"\nremote_destination = \"vendor-de\"\n");
    config += "[governance]\npolicy = \"" + policy_file.string() + "\"\n";
    std::ofstream(node.config_file(), std::ios::trunc) << config;
  }
  node.start();
  auto sim = node.simulator(1, 2.0, 5.0, node.dir() / "acks.log");
  ASSERT_TRUE(sim->started());
  EXPECT_EQ(sim->wait(), 0);
  node.expect_all_acked_stored(node.dir() / "acks.log");
  const auto acks = read_ack_log(node.dir() / "acks.log");
  std::string general, important;
  for (const auto& [path, samples] : acks) {
    if (path.ends_with("/spindle_load")) important = path;
    else if (general.empty() && path.ends_with("/spindle_speed")) general = path;
  }
  ASSERT_FALSE(general.empty());
  ASSERT_FALSE(important.empty());

  const auto query = [](const std::string& path) { return "/api/v1/query?series=" + url_encode(path) + "&from=0"; };
  auto allowed = http_get(node.api_port(), query(general), "127.0.0.2");
  ASSERT_TRUE(allowed) << "no connection from 127.0.0.2";
  EXPECT_EQ(allowed->status, 200) << allowed->body;
  EXPECT_NE(allowed->body.find("\"points\""), std::string::npos) << allowed->body;

  const std::vector<AckedSample> stored = node.stored(important);
  ASSERT_FALSE(stored.empty());
  auto denied = http_get(node.api_port(), query(important), "127.0.0.2");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << denied->body;
  EXPECT_NE(denied->body.find("deny.important.no_route"), std::string::npos) << denied->body;
  for (const auto& s : stored)
    EXPECT_EQ(denied->body.find(std::to_string(s.ts_ns)), std::string::npos) << "sample at " << s.ts_ns << " leaked";
  auto quarantine = http_get(node.api_port(), "/api/v1/quarantine", "127.0.0.2");
  ASSERT_TRUE(quarantine);
  EXPECT_EQ(quarantine->status, 403) << quarantine->body;

  // The local operator reads both without asking the gate.
  auto local = http_get(node.api_port(), query(important));
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200) << local->body;
  auto metrics = http_get(node.api_port(), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_NE(metrics->body.find("resonance_egress_decisions_total{exit=\"api_remote\",verdict=\"allow\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("resonance_egress_decisions_total{exit=\"api_remote\",verdict=\"deny\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_EQ(node.stop(), 0);

  const auto audit_dir = verified_audit_copy(node);
  ASSERT_FALSE(audit_dir.empty());
  EXPECT_TRUE(log_has_decision(audit_dir, "allow", "vendor-de"));
  EXPECT_TRUE(log_has_decision(audit_dir, "deny", "vendor-de"));
}

// Consent changes reach the log across restarts: the first start grants badge-2026; after the
// operator withdraws it and adds camera-2026 in the policy file, the next start records exactly
// a withdrawal and a grant; a third start with the same file records nothing new. The log
// verifies offline after all three.
constexpr const char* kConsentPolicyHead = R"(schema_version = 1
kind = "policy"
version = "consent-e2e-VERSION"
[node]
jurisdiction = "CN"

[[consent]]
id = "badge-2026"
subject = "*/*/*/*/operator_badge"
purposes = ["maintenance"]
legal_basis = "consent"
expires = 2099-06-01T00:00:00Z
)";

std::size_t count_in_entries(const std::filesystem::path& audit_dir, const std::string& needle) {
  // Full and partial bundles repeat entries; the newest full-or-partial bundle per index holds
  // every entry once, so count over the files of the highest level-0 bundles only.
  std::size_t best = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(audit_dir / "tile" / "entries")) {
    if (!e.is_regular_file()) continue;
    const std::string text = read_all(e.path());
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    best = std::max(best, n);
  }
  return best;
}

TEST(Egress, ConsentChangesAreLoggedOncePerChangeAcrossRestarts) {
  NodeProcess node("consents");
  const auto policy_file = node.dir() / "policy.toml";
  std::string head = kConsentPolicyHead;
  const auto write_policy = [&](std::string_view version, std::string_view extra) {
    std::string text = head;
    text.replace(text.find("VERSION"), 7, version);
    std::ofstream(policy_file, std::ios::trunc) << text << extra;
  };
  std::ofstream(node.config_file(), std::ios::app) << "[governance]\npolicy = \"" << policy_file.string() << "\"\n";
  write_policy("1", "");
  node.start();
  EXPECT_EQ(node.stop(), 0);
  write_policy("2", R"(withdrawn = 2026-11-30T00:00:00Z

[[consent]]
id = "camera-2026"
subject = "*/*/*/*/camera_face"
purposes = ["quality"]
legal_basis = "consent"
expires = 2099-01-01T00:00:00Z
sensitive = true
)");
  node.start();
  EXPECT_EQ(node.stop(), 0);
  node.start();
  EXPECT_EQ(node.stop(), 0);

  const auto audit_dir = verified_audit_copy(node);
  ASSERT_FALSE(audit_dir.empty());
  EXPECT_EQ(count_in_entries(audit_dir, R"("action":"grant","at")"), 2u);
  EXPECT_EQ(count_in_entries(audit_dir, R"("action":"withdraw","at")"), 1u);
  EXPECT_EQ(count_in_entries(audit_dir, R"("consent_id":"camera-2026")"), 1u);
  EXPECT_EQ(count_in_entries(audit_dir, R"("consent_id":"badge-2026")"), 2u);
  EXPECT_EQ(count_in_entries(audit_dir, R"("action":"amend")"), 0u);
}

}  // namespace
}  // namespace resonance::testing
