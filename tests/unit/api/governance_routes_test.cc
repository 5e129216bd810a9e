// GET /api/v1/policy and GET /api/v1/provenance through the Router: the policy in force as the
// governance library renders it, provenance per series and time range, and every refusal precise.
#include <nlohmann/json.hpp>

#include "resonance/governance/policy.h"
#include "resonance/governance/provenance_store.h"
#include "router_fixture.h"

namespace resonance::api::testing {
namespace {

using nlohmann::json;

class GovernanceRoutesTest : public RouterTest {
 protected:
  void SetUp() override {
    auto policy = governance::parse_policy(
        "schema_version = 1\nkind = \"policy\"\nversion = \"2026-11-21.1\"\n[node]\njurisdiction = \"CN\"\n", "test-policy.toml");
    ASSERT_TRUE(policy.has_value()) << policy.error().to_string();
    policy_ = std::move(*policy);
    auto store = governance::ProvenanceStore::open(":memory:");
    ASSERT_TRUE(store.has_value()) << store.error().to_string();
    store_ = std::move(*store);
    RouterTest::SetUp();
  }
  RouterOptions options() override {
    RouterOptions o = RouterTest::options();
    o.policy = &policy_;
    o.provenance = store_.get();
    return o;
  }
  void record(SeriesId series, TimestampNs from, TimestampNs to, std::string client) {
    SampleBatch batch;
    batch.provenance = {"mqttsn", std::move(client), to + 5, {"validation", "infomodel"}};
    batch.samples.push_back({series, from, 1.0, {}});
    batch.samples.push_back({series, to, 2.0, {}});
    ASSERT_TRUE(store_->record(governance::summarize(batch)).has_value());
  }

  governance::Policy policy_;
  std::unique_ptr<governance::ProvenanceStore> store_;
};

TEST_F(GovernanceRoutesTest, PolicyShowsTheVersionInForce) {
  const Response r = get("/api/v1/policy");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_NE(r.body.find("2026-11-21.1"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("CN"), std::string::npos) << r.body;
  expect_error(get("/api/v1/policy?x=1"), 400, "invalid_argument");
  EXPECT_EQ(router_->handle("POST", "/api/v1/policy").status, 405);
}

TEST_F(GovernanceRoutesTest, ProvenanceBySeriesAndTimeRange) {
  record(pump_, 1'000, 2'000, "pump-device");
  record(motor_, 1'000, 2'000, "motor-device");
  record(pump_, 10'000, 11'000, "pump-device-2");

  Response r = get("/api/v1/provenance?series=plant1/area1/line1/pump1/pressure");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j.at("batches").size(), 2u) << r.body;
  EXPECT_EQ(j["batches"][0]["client_id"], "pump-device");
  EXPECT_EQ(j["batches"][0]["connector"], "mqttsn");
  EXPECT_EQ(j["batches"][0]["transformations"], json::array({"validation", "infomodel"}));

  r = get("/api/v1/provenance?series=plant1/area1/line1/pump1/pressure&from=9000&to=20000");
  ASSERT_EQ(r.status, 200) << r.body;
  j = json::parse(r.body);
  ASSERT_EQ(j.at("batches").size(), 1u) << r.body;
  EXPECT_EQ(j["batches"][0]["client_id"], "pump-device-2");
}

TEST_F(GovernanceRoutesTest, ProvenanceRefusalsArePrecise) {
  EXPECT_NE(expect_error(get("/api/v1/provenance"), 400, "invalid_argument").find("'series': required"),
            std::string::npos);
  EXPECT_NE(expect_error(get("/api/v1/provenance?series=a/b/c/d/e"), 404, "not_found").find("not in the catalog"),
            std::string::npos);
  EXPECT_NE(expect_error(get("/api/v1/provenance?series=plant1/area1/line1/pump1/pressure&limit=0"), 400,
                         "invalid_argument")
                .find("'limit': expected an integer from 1 to 1000"),
            std::string::npos);
  EXPECT_NE(expect_error(get("/api/v1/provenance?series=plant1/area1/line1/pump1/pressure&from=5&to=1"), 400,
                         "invalid_argument")
                .find("'from' is after 'to'"),
            std::string::npos);
  expect_error(get("/api/v1/provenance?series=x&bogus=1"), 400, "invalid_argument");
}

TEST_F(RouterTest, WithoutPolicyOrProvenanceTheRoutesSayWhy) {
  EXPECT_NE(expect_error(get("/api/v1/policy"), 404, "not_found").find("no policy attached"), std::string::npos);
  EXPECT_NE(expect_error(get("/api/v1/provenance?series=x"), 404, "not_found").find("provenance is off"),
            std::string::npos);
}

}  // namespace
}  // namespace resonance::api::testing
