// GET /api/v1/inference over the Router: parameters parsed into the query the node answers, errors
// that name the parameter, and remote clients seeing only records whose outputs the gate allows.
#include "gated_router_fixture.h"

namespace resonance::api::testing {
namespace {

// The motor's model outputs are ordinary data; the pump's are made important, so a remote client
// without a route for important data must not see the pump's records.
constexpr std::string_view kPolicy = R"(schema_version = 1
kind = "policy"
version = "inference-route-test-1"
[node]
jurisdiction = "CN"

[[destination]]
id = "vendor-de"
jurisdiction = "DE"
max_sharing = "green"
purposes = ["remote_access"]

[[label]]
pattern = "plant1/area1/line1/pump1/ai.anomaly_detection.anomalous"
grade = "important"
)";

InferenceRecordView view(std::string_view equipment, TimestampNs to_ns) {
  const std::string eq(equipment);
  return {
      fmt::format(
          R"({{"equipment":"{}","from_ns":{},"input_sha256":"{}","latency_ns":900,"model":"limit",)"
          R"("outputs":[1.0],"samples":1,"to_ns":{},"version":"3"}})",
          eq, to_ns, std::string(64, 'a'), to_ns),
      {eq + "/ai.anomaly_detection.anomalous"}};
}

class InferenceRouteTest : public GatedRouterTest {
 protected:
  InferenceRouteTest() : GatedRouterTest(kPolicy) {}
  RouterOptions options() override {
    RouterOptions o = RouterTest::options();
    o.remote.destination = "vendor-de";
    o.remote.gate = gate();
    o.inference = [this](const InferenceQuery& q) -> Result<std::vector<InferenceRecordView>> {
      asked_.push_back(q);
      return records_;
    };
    return o;
  }
  Response get_remote(std::string_view target) {
    return router_->handle("GET", target, parse_client_networks("192.0.2.7")->front().base);
  }

  std::vector<InferenceRecordView> records_ = {view("plant1/area1/line1/motor1", kNow - 2),
                                               view("plant1/area1/line1/pump1", kNow - 1)};
  std::vector<InferenceQuery> asked_;
};

TEST_F(InferenceRouteTest, ParametersBecomeTheQueryAndRecordsComeBackAsJson) {
  auto r =
      get("/api/v1/inference?model=limit&from=2026-11-21T09:00:00Z&to=" + std::to_string(kNow) +
          "&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_EQ(asked_[0].model, "limit");
  EXPECT_EQ(asked_[0].from_ns, kNow - 3600 * kNanosPerSecond);
  EXPECT_EQ(asked_[0].to_ns, kNow);
  EXPECT_EQ(asked_[0].limit, 5u);
  const auto j = body_json(r);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["records"][1]["equipment"], "plant1/area1/line1/pump1");
  EXPECT_EQ(j["records"][1]["version"], "3");
  EXPECT_EQ(j["records"][1]["input_sha256"], std::string(64, 'a'));
  EXPECT_FALSE(j.contains("withheld"));  // a local client sees everything
  // Defaults: every model, all time, the newest 100.
  ASSERT_EQ(get("/api/v1/inference").status, 200);
  EXPECT_EQ(asked_[1].model, "");
  EXPECT_EQ(asked_[1].limit, 100u);
  EXPECT_EQ(asked_[1].from_ns, INT64_MIN);
}

TEST_F(InferenceRouteTest, BadParametersAreNamed) {
  EXPECT_NE(expect_error(get("/api/v1/inference?series=1"), 400, "invalid_argument")
                .find("'series': unknown"),
            std::string::npos);
  for (const char* limit : {"0", "1001", "-1", "ten", ""})
    EXPECT_NE(
        expect_error(get(std::string("/api/v1/inference?limit=") + limit), 400, "invalid_argument")
            .find("'limit': expected an integer from 1 to 1000"),
        std::string::npos)
        << limit;
  EXPECT_NE(
      expect_error(get("/api/v1/inference?model=a%20b"), 400, "invalid_argument").find("'model'"),
      std::string::npos);
  EXPECT_NE(
      expect_error(get("/api/v1/inference?from=yesterday"), 400, "invalid_argument").find("'from'"),
      std::string::npos);
  EXPECT_NE(
      expect_error(get("/api/v1/inference?from=10&to=5"), 400, "invalid_argument").find("after"),
      std::string::npos);
  EXPECT_NE(expect_error(get("/api/v1/inference?model=a&model=b"), 400, "invalid_argument")
                .find("repeated"),
            std::string::npos);
  const auto post = router_->handle("POST", "/api/v1/inference");
  expect_error(post, 405, "method_not_allowed");
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  EXPECT_TRUE(asked_.empty());  // nothing was read for a refused request
}

TEST_F(InferenceRouteTest, RemoteClientsSeeOnlyRecordsWhoseOutputsTheGateAllows) {
  const auto r = get_remote("/api/v1/inference");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = body_json(r);
  ASSERT_EQ(j["count"], 1);
  EXPECT_EQ(j["records"][0]["equipment"], "plant1/area1/line1/motor1");
  EXPECT_EQ(j["withheld"], 1);
  EXPECT_EQ(asked_paths_,
            (std::vector<std::string>{"plant1/area1/line1/motor1/ai.anomaly_detection.anomalous",
                                      "plant1/area1/line1/pump1/ai.anomaly_detection.anomalous"}));
}

class NoInferenceRouteTest : public RouterTest {};

TEST_F(NoInferenceRouteTest, NodeWithoutInferenceSaysWhy) {
  EXPECT_NE(expect_error(get("/api/v1/inference"), 404, "not_found").find("[inference] enabled"),
            std::string::npos);
}

}  // namespace
}  // namespace resonance::api::testing
