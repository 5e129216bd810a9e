// GET /api/v1/export through the Router with a real EgressGate: CSV of one series only after the
// gate allows (destination, purpose); a denial is a 403 naming the rule, with no sample in it,
// and every request that reaches the gate is one recorded decision.
#include "gated_router_fixture.h"

namespace resonance::api::testing {
namespace {

constexpr std::string_view kPolicy = R"(schema_version = 1
kind = "policy"
version = "export-test-1"
[node]
jurisdiction = "CN"

[[destination]]
id = "cloud-eu"
jurisdiction = "DE"
max_sharing = "green"
purposes = ["monitoring"]
)";

constexpr std::string_view kPump = "plant1/area1/line1/pump1/pressure";

class ExportRouteTest : public GatedRouterTest {
 protected:
  ExportRouteTest() : GatedRouterTest(kPolicy) {}
  RouterOptions options() override {
    RouterOptions o = RouterTest::options();
    o.export_gate = gate();
    return o;
  }
  static std::string target(std::string_view destination, std::string_view purpose = "monitoring") {
    return fmt::format("/api/v1/export?series={}&destination={}&purpose={}&from=0", kPump, destination, purpose);
  }
};

TEST_F(ExportRouteTest, AllowedDestinationGetsEverySampleAsCsv) {
  const Response r = get(target("cloud-eu"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8; header=present");
  EXPECT_EQ(r.header("X-Resonance-Egress-Rule"), "allow");
  EXPECT_EQ(r.header("X-Resonance-Truncated"), "false");
  std::string expected = "ts,value,quality\n";
  for (int i = 0; i < 10; ++i) expected += fmt::format("{},{},0\n", kNow - (10 - i) * kNanosPerSecond, 1.5 + i);
  EXPECT_EQ(r.body, expected);
  ASSERT_EQ(sink_.size(), 1u);
  const auto rec = sink_.records().front();
  EXPECT_TRUE(rec.decision.allowed());
  EXPECT_EQ(rec.destination, "cloud-eu");
  EXPECT_EQ(rec.purpose, "monitoring");
  ASSERT_EQ(asked_paths_.size(), 1u);
  EXPECT_EQ(asked_paths_.front(), kPump);
}

TEST_F(ExportRouteTest, DeniedDestinationGets403WithRuleAndNoData) {
  for (const auto& [destination, purpose, rule] :
       {std::tuple{"partner-x", "monitoring", "deny.destination.unknown"},
        std::tuple{"cloud-eu", "marketing", "deny.destination.purpose"}}) {
    const Response r = get(target(destination, purpose));
    const std::string message = expect_error(r, 403, "egress_denied");
    EXPECT_TRUE(message.starts_with(std::string(rule) + ": ")) << message;
    EXPECT_EQ(r.body.find("1.5"), std::string::npos) << r.body;  // no sample value leaks
  }
  ASSERT_EQ(sink_.size(), 2u);
  for (const auto& rec : sink_.records()) EXPECT_FALSE(rec.decision.allowed());
}

TEST_F(ExportRouteTest, LimitTruncatesAndSaysWhereToContinue) {
  const Response r = get(target("cloud-eu") + "&limit=3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 4);  // header + 3 rows
  EXPECT_EQ(r.header("X-Resonance-Truncated"), "true");
  EXPECT_EQ(r.header("X-Resonance-Next-From"), fmt::format("{}", kNow - 8 * kNanosPerSecond + 1));
}

TEST_F(ExportRouteTest, BadRequestsAreRefusedBeforeTheGateIsAsked) {
  expect_error(get("/api/v1/export?destination=cloud-eu&purpose=monitoring"), 400, "invalid_argument");
  expect_error(get(fmt::format("/api/v1/export?series={}&purpose=monitoring", kPump)), 400, "invalid_argument");
  expect_error(get(fmt::format("/api/v1/export?series={}&destination=cloud-eu", kPump)), 400, "invalid_argument");
  expect_error(get("/api/v1/export?series=1&destination=cloud-eu&purpose=monitoring"), 400, "invalid_argument");
  expect_error(get(target("cloud-eu") + "&from=yesterday"), 400, "invalid_argument");
  expect_error(get(target("cloud-eu") + "&colour=red"), 400, "invalid_argument");
  expect_error(get(target("cloud-eu") + "&purpose=x"), 400, "invalid_argument");  // repeated
  expect_error(get(target("cloud-eu") + "&limit=0"), 400, "invalid_argument");
  EXPECT_EQ(sink_.size(), 0u);
  EXPECT_EQ(router_->handle("POST", target("cloud-eu")).status, 405);
}

TEST_F(ExportRouteTest, UnknownSeriesIs404OnlyAfterTheGateAllows) {
  const std::string unknown = "/api/v1/export?series=plant1/area1/line1/pump9/pressure&purpose=monitoring";
  expect_error(get(unknown + "&destination=cloud-eu"), 404, "not_found");
  expect_error(get(unknown + "&destination=partner-x"), 403, "egress_denied");
}

TEST(ExportRouteNoGate, EveryExportIsDenied) {
  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog.has_value());
  ASSERT_TRUE((*catalog)->resolve(kPump, "bar").has_value());
  FakeHistorian historian;
  MetricsRegistry metrics;
  RouterOptions o;
  o.clock = [] { return kNow; };
  const Router router(o, **catalog, historian, metrics);
  const Response r = router.handle(
      "GET", fmt::format("/api/v1/export?series={}&destination=cloud-eu&purpose=monitoring", kPump));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("deny.gate.absent"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace resonance::api::testing
