// Remote clients through the Router with a real EgressGate: a client outside [api] local_clients
// is remote access, so every data read asks the gate for the configured remote destination
// before a sample is read; local clients never ask; networks parse with precise errors.
#include "gated_router_fixture.h"

namespace resonance::api::testing {
namespace {

// vendor-de may read general, green data for remote maintenance; the pump's pressure is made
// important by the policy, so without a route it stays home.
constexpr std::string_view kPolicy = R"(schema_version = 1
kind = "policy"
version = "remote-test-1"
[node]
jurisdiction = "CN"

[[destination]]
id = "vendor-de"
jurisdiction = "DE"
max_sharing = "green"
purposes = ["remote_access"]

[[label]]
pattern = "plant1/area1/line1/pump1/pressure"
grade = "important"
)";

ClientAddress address(std::string_view text) {
  auto nets = parse_client_networks(text);
  EXPECT_TRUE(nets.has_value() && nets->size() == 1) << text;
  return nets->front().base;
}

class RemoteAccessTest : public GatedRouterTest {
 protected:
  RemoteAccessTest() : GatedRouterTest(kPolicy) {}
  RouterOptions options() override {
    RouterOptions o = RouterTest::options();
    o.remote.destination = destination_;
    o.remote.local_clients = *parse_client_networks("127.0.0.0/8, ::1, 10.20.0.0/16");
    o.remote.gate = gate();
    return o;
  }
  Response get_from(std::string_view client, std::string_view target) {
    return router_->handle("GET", target, address(client));
  }

  std::string destination_ = "vendor-de";
};

TEST_F(RemoteAccessTest, LocalClientsReadWithoutAskingTheGate) {
  for (std::string_view client : {"127.0.0.1", "127.9.8.7", "::1", "10.20.3.4"}) {
    const Response r = get_from(client, fmt::format("/api/v1/query?series={}&from=0", pump_));
    EXPECT_EQ(r.status, 200) << client << ": " << r.body;
  }
  EXPECT_EQ(router_->handle("GET", fmt::format("/api/v1/query?series={}&from=0", pump_)).status, 200);
  EXPECT_TRUE(asked_paths_.empty());
  EXPECT_EQ(sink_.size(), 0u);
}

TEST_F(RemoteAccessTest, RemoteReadOfAllowedSeriesAsksTheGateByPath) {
  const Response r = get_from("192.0.2.7", fmt::format("/api/v1/query?series={}&from=0", motor_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("1450"), std::string::npos);
  ASSERT_EQ(asked_paths_.size(), 1u);
  EXPECT_EQ(asked_paths_[0], "plant1/area1/line1/motor1/speed");  // an id is judged by its path
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(sink_.records().front().destination, "vendor-de");
  EXPECT_EQ(sink_.records().front().purpose, "remote_access");
}

TEST_F(RemoteAccessTest, RemoteReadOfDeniedSeriesGets403AndNoSampleOnEveryDataRoute) {
  const std::string pump = std::to_string(pump_);
  for (const std::string& target :
       {"/api/v1/query?series=" + pump + "&from=0", "/api/v1/series/" + pump + "/latest",
        "/api/v1/aggregate?series=" + pump + "&from=0&step=1s",
        "/api/v1/frame?series=" + std::to_string(motor_) + "," + pump + "&from=0&step=1s",
        std::string("/api/v1/query?series=plant1/area1/line1/pump1/pressure&from=0"),
        "/api/v1/provenance?series=" + pump}) {
    const Response r = get_from("2001:db8::5", target);
    const std::string message = expect_error(r, 403, "egress_denied");
    EXPECT_TRUE(message.starts_with("deny.important.no_route: ")) << target << ": " << message;
    EXPECT_EQ(r.body.find("1.5"), std::string::npos) << r.body;
  }
}

TEST_F(RemoteAccessTest, QuarantineIsLocalOnlyAndMetadataRoutesPass) {
  const Response q = get_from("192.0.2.7", "/api/v1/quarantine");
  EXPECT_TRUE(expect_error(q, 403, "egress_denied").starts_with("deny.remote.no_subject: "));
  for (std::string_view target : {"/api/v1/health", "/metrics", "/api/v1/infomodel"})
    EXPECT_EQ(get_from("192.0.2.7", target).status, 200) << target;
  EXPECT_TRUE(asked_paths_.empty());
}

TEST_F(RemoteAccessTest, SeriesListShowsARemoteClientOnlyWhatItMayRead) {
  const Response remote = get_from("192.0.2.7", "/api/v1/series");
  ASSERT_EQ(remote.status, 200) << remote.body;
  std::vector<std::string> paths;
  const auto listing = body_json(remote);
  for (const auto& entry : listing["series"]) paths.push_back(entry["path"].get<std::string>());
  EXPECT_EQ(paths, (std::vector<std::string>{"plant1/area1/line1/motor1/speed", "plant1/area1/line1/pump1/flow"}));
  EXPECT_EQ(remote.body.find("pump1/pressure"), std::string::npos);  // nor its latest value
  EXPECT_EQ(asked_paths_.size(), 3u);
  EXPECT_EQ(body_json(get("/api/v1/series"))["series"].size(), 3u);  // the local operator sees all
}

TEST_F(RemoteAccessTest, UnknownIdIsDeniedWithoutRevealingMore) {
  const Response r = get_from("192.0.2.7", "/api/v1/query?series=999&from=0");
  EXPECT_TRUE(expect_error(r, 403, "egress_denied").starts_with("deny.remote.unknown_series: "));
}

TEST_F(RemoteAccessTest, ExportMustNameTheRemoteDestination) {
  const Response r = get_from(
      "192.0.2.7", "/api/v1/export?series=plant1/area1/line1/motor1/speed&destination=cloud&purpose=remote_access");
  EXPECT_TRUE(expect_error(r, 403, "egress_denied").starts_with("deny.remote.destination_mismatch: "));
}

class RemoteAccessWithoutDestinationTest : public RemoteAccessTest {
 protected:
  void SetUp() override {
    destination_.clear();
    RemoteAccessTest::SetUp();
  }
};

TEST_F(RemoteAccessWithoutDestinationTest, RemoteClientsReadNoData) {
  const Response r = get_from("192.0.2.7", fmt::format("/api/v1/query?series={}&from=0", motor_));
  EXPECT_TRUE(expect_error(r, 403, "egress_denied").starts_with("deny.remote.no_destination: "));
  EXPECT_TRUE(asked_paths_.empty());
}

// The refusal must not depend on whether the id exists, or a remote client could probe the catalog.
TEST_F(RemoteAccessWithoutDestinationTest, MissingAndExistingIdsGetTheSameRefusal) {
  const Response missing = get_from("192.0.2.7", "/api/v1/query?series=999&from=0");
  const Response existing = get_from("192.0.2.7", fmt::format("/api/v1/query?series={}&from=0", motor_));
  EXPECT_TRUE(expect_error(missing, 403, "egress_denied").starts_with("deny.remote.no_destination: "));
  EXPECT_EQ(missing.body, existing.body);
}

TEST(ClientNetworks, ParseAndMatch) {
  auto nets = parse_client_networks(" 192.168.0.0/16 ,fd00::/8, 10.1.2.3");
  ASSERT_TRUE(nets.has_value()) << nets.error().to_string();
  ASSERT_EQ(nets->size(), 3u);
  EXPECT_TRUE((*nets)[0].contains(address("192.168.255.1")));
  EXPECT_FALSE((*nets)[0].contains(address("192.169.0.1")));
  EXPECT_TRUE((*nets)[1].contains(address("fdab::1")));
  EXPECT_FALSE((*nets)[1].contains(address("fe80::1")));
  EXPECT_TRUE((*nets)[2].contains(address("10.1.2.3")));
  EXPECT_FALSE((*nets)[2].contains(address("10.1.2.4")));
  // An IPv4 network never holds an IPv6 address that merely shares bytes.
  EXPECT_FALSE((*nets)[0].contains(address("c0a8::1")));
  EXPECT_TRUE(parse_client_networks("").value().empty());
}

TEST(ClientNetworks, ErrorsNameTheEntry) {
  for (const auto& [text, fragment] :
       {std::pair{"127.0.0.0/8, localhost", "entry 2 'localhost': expected an IPv4 or IPv6 address"},
        std::pair{"10.0.0.0/33", "entry 1 '10.0.0.0/33': expected a prefix length from 0 to 32, found '33'"},
        std::pair{"::1/x", "expected a prefix length from 0 to 128"},
        std::pair{"10.1.2.3/8", "host bits are set beyond the /8 prefix"}}) {
    auto nets = parse_client_networks(text);
    ASSERT_FALSE(nets.has_value()) << text;
    EXPECT_NE(nets.error().message().find(fragment), std::string::npos) << nets.error().message();
  }
}

}  // namespace
}  // namespace resonance::api::testing
