// Router: the successful answer of every endpoint, the dashboard assets and /metrics.
#include <cmath>
#include <limits>

#include "router_fixture.h"

namespace resonance::api::testing {
namespace {

using nlohmann::json;

TEST_F(RouterTest, HealthReportsVersionUptimeAndHistorianStats) {
  const Response r = get("/api/v1/health");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  const json j = body_json(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["version"], RESONANCE_VERSION);
  EXPECT_EQ(j["node"], "test-node");
  EXPECT_GE(j["uptime_s"].get<double>(), 0.0);
  EXPECT_EQ(j["time"], format_rfc3339(kNow));
  EXPECT_EQ(j["series_count"], 3);
  EXPECT_EQ(j["historian"]["head_samples"], 11);
  EXPECT_EQ(j["historian"]["series"], 2);
  for (auto key : {"batches_appended", "samples_appended", "group_commits", "bytes_synced",
                   "retry_later", "recovered_records", "recovered_samples",
                   "recovery_truncated_bytes"})
    EXPECT_TRUE(j["historian"].contains(key)) << key;
}

TEST_F(RouterTest, SeriesListHasPathUnitAndLatestWhenThereIsData) {
  const Response r = get("/api/v1/series");
  ASSERT_EQ(r.status, 200) << r.body;
  const json list = body_json(r)["series"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["id"], pump_);
  EXPECT_EQ(list[0]["path"], "plant1/area1/line1/pump1/pressure");
  EXPECT_EQ(list[0]["unit"], "bar");
  EXPECT_EQ(list[0]["latest"]["value"], 10.5);
  EXPECT_EQ(list[0]["latest"]["ts_ns"], kNow - kNanosPerSecond);
  EXPECT_EQ(list[0]["latest"]["ts"], format_rfc3339(kNow - kNanosPerSecond));
  EXPECT_EQ(list[1]["latest"]["quality"], Quality::kUncertain);
  EXPECT_TRUE(list[2]["latest"].is_null());
}

TEST_F(RouterTest, LatestOfKnownSeries) {
  const Response r = get(fmt::format("/api/v1/series/{}/latest", motor_));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = body_json(r);
  EXPECT_EQ(j["series"], motor_);
  EXPECT_EQ(j["path"], "plant1/area1/line1/motor1/speed");
  EXPECT_EQ(j["unit"], "rpm");
  EXPECT_EQ(j["value"], 1450.0);
  EXPECT_EQ(j["quality"], Quality::kUncertain);
}

TEST_F(RouterTest, QueryByIdWithIntegerRange) {
  // [from, to) is half-open: the sample at `to` is excluded.
  const Response r = get(fmt::format("/api/v1/query?series={}&from={}&to={}", pump_,
                                     kNow - 5 * kNanosPerSecond, kNow - 2 * kNanosPerSecond));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = body_json(r);
  EXPECT_EQ(j["series"], pump_);
  EXPECT_EQ(j["path"], "plant1/area1/line1/pump1/pressure");
  EXPECT_EQ(j["unit"], "bar");
  ASSERT_EQ(j["points"].size(), 3u);
  EXPECT_EQ(j["points"][0][0], kNow - 5 * kNanosPerSecond);
  EXPECT_EQ(j["points"][0][1], 6.5);
  EXPECT_EQ(j["points"][0][2], 0);
  EXPECT_EQ(j["truncated"], false);
  EXPECT_EQ(j["next_from"], std::to_string(kNow - 3 * kNanosPerSecond + 1));
}

TEST_F(RouterTest, QueryByEncodedAndPlainPathWithRfc3339) {
  const std::string from = format_rfc3339(kNow - 3 * kNanosPerSecond);
  for (auto series : {"plant1%2Farea1%2Fline1%2Fpump1%2Fpressure",
                      "plant1/area1/line1/pump1/pressure"}) {
    const Response r = get(fmt::format("/api/v1/query?series={}&from={}", series, from));
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = body_json(r);
    EXPECT_EQ(j["series"], pump_);
    EXPECT_EQ(j["points"].size(), 3u) << r.body;  // to defaults to now (exclusive)
  }
}

TEST_F(RouterTest, QueryRfc3339WithOffsetAndFraction) {
  // 11:00:00.5+01:00 is 10:00:00.5Z; to=kNow excludes nothing later.
  const Response r = get(fmt::format(
      "/api/v1/query?series={}&from=2026-11-21T10:59:55.5%2B01:00&to=2026-11-21T10:00:00Z", pump_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["points"].size(), 4u) << r.body;  // -4s .. -1s
}

TEST_F(RouterTest, QueryDefaultsToTheLastHourUpToNow) {
  historian_.add({pump_, kNow - 2 * 3600 * kNanosPerSecond, 99.0, {}});  // outside the hour
  historian_.add({pump_, kNow, 100.0, {}});  // at `to`: excluded
  const Response r = get(fmt::format("/api/v1/query?series={}", pump_));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = body_json(r);
  EXPECT_EQ(j["to"], kNow);
  EXPECT_EQ(j["from"], kNow - 3600 * kNanosPerSecond);
  EXPECT_EQ(j["points"].size(), 10u);
}

TEST_F(RouterTest, FromDefaultsToOneHourBeforeAGivenTo) {
  const TimestampNs to = kNow - 5 * kNanosPerSecond;
  const json j = body_json(get(fmt::format("/api/v1/query?series={}&to={}", pump_, to)));
  EXPECT_EQ(j["from"], to - 3600 * kNanosPerSecond);
  EXPECT_EQ(j["points"].size(), 5u);
}

TEST_F(RouterTest, QueryLimitTruncatesAndTheCursorContinues) {
  const Response r = get(fmt::format("/api/v1/query?series={}&limit=4", pump_));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = body_json(r);
  EXPECT_EQ(j["points"].size(), 4u);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(historian_.last_limit(), 5u);  // one extra point detects truncation

  // Following next_from pages through the rest without gaps or repeats.
  const std::string next = j["next_from"];
  const json rest = body_json(get(fmt::format("/api/v1/query?series={}&from={}", pump_, next)));
  EXPECT_EQ(rest["points"].size(), 6u);
  EXPECT_EQ(rest["truncated"], false);
  EXPECT_EQ(rest["points"][0][1], 5.5);
}

TEST_F(RouterTest, QueryLimitAtTheBoundsIsAccepted) {
  EXPECT_EQ(get(fmt::format("/api/v1/query?series={}&limit=1", pump_)).status, 200);
  const Response r = get(fmt::format("/api/v1/query?series={}&limit=1000", pump_));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_json(r)["truncated"], false);
}

TEST_F(RouterTest, QueryEmptyRangeKeepsTheCursorAtFrom) {
  const Response r =
      get(fmt::format("/api/v1/query?series={}&from={}&to={}", empty_, kNow - 10, kNow - 10));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = body_json(r);
  EXPECT_TRUE(j["points"].empty());
  EXPECT_EQ(j["next_from"], std::to_string(kNow - 10));
}

TEST_F(RouterTest, NonFiniteValuesBecomeNull) {
  historian_.add({empty_, kNow - 2, std::numeric_limits<double>::quiet_NaN(), {Quality::kBad}});
  historian_.add({empty_, kNow - 1, std::numeric_limits<double>::infinity(), {}});
  const Response r = get(fmt::format("/api/v1/query?series={}", empty_));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = body_json(r);
  ASSERT_EQ(j["points"].size(), 2u);
  EXPECT_TRUE(j["points"][0][1].is_null());
  EXPECT_EQ(j["points"][0][2], Quality::kBad);
  EXPECT_TRUE(j["points"][1][1].is_null());
  EXPECT_TRUE(body_json(get(fmt::format("/api/v1/series/{}/latest", empty_)))["value"].is_null());
}

TEST_F(RouterTest, HeadAnswersLikeGet) {
  const Response r = router_->handle("HEAD", "/api/v1/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());  // the socket layer drops it, keeping Content-Length
}

TEST_F(RouterTest, MetricsInPrometheusTextFormatWithRequestCounters) {
  get("/api/v1/health");
  get("/api/v1/nope");
  get("/api/v1/query?series=abc");
  const Response r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("# TYPE resonance_api_requests_total counter"), std::string::npos);
  // /metrics renders before its own response is counted.
  EXPECT_NE(r.body.find("resonance_api_requests_total{class=\"2xx\"} 1\n"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("resonance_api_requests_total{class=\"4xx\"} 2\n"), std::string::npos);
  EXPECT_NE(r.body.find("resonance_api_bad_requests_total{reason=\"not_found\"} 1\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("resonance_api_bad_requests_total{reason=\"invalid_argument\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(metrics_.counter_value("resonance_api_requests_total", "class=\"2xx\""), 2u);
}

TEST_F(RouterTest, ServesTheEmbeddedDashboard) {
  const Response index = get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.header("Cache-Control"), "no-cache");
  EXPECT_NE(index.body.find("/assets/app.js"), std::string::npos);
  EXPECT_EQ(get("/index.html").body, index.body);

  const Response js = get("/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("Cache-Control"), "public, max-age=300");
  EXPECT_EQ(get("/assets/style.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(get("/assets/uPlot.min.css").content_type, "text/css; charset=utf-8");
  const Response uplot = get("/assets/uPlot.iife.min.js");
  EXPECT_EQ(uplot.status, 200);
  EXPECT_TRUE(uplot.body.starts_with("/*! https://github.com/leeoniya/uPlot")) << uplot.body.substr(0, 80);
}

TEST(EmbeddedAssets, HoldTheFiveDashboardFilesByteForByte) {
  const auto assets = embedded_assets();
  ASSERT_EQ(assets.size(), 5u);
  for (const auto& a : assets) {
    EXPECT_FALSE(a.bytes.empty()) << a.name;
    EXPECT_EQ(a.bytes.find('\0'), std::string_view::npos) << a.name << " has a NUL: length wrong?";
  }
}

TEST_F(RouterTest, AnExceptionBelowBecomesACounted500) {
  historian_.set_throw(true);
  const Response r = get("/api/v1/health");
  const std::string message = expect_error(r, 500, "internal");
  EXPECT_NE(message.find("disk on fire"), std::string::npos);
  EXPECT_EQ(metrics_.counter_value("resonance_api_requests_total", "class=\"5xx\""), 1u);
}

}  // namespace
}  // namespace resonance::api::testing
