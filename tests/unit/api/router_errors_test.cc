// Router: every refusal says which parameter or path segment was wrong, what was expected and
// what was found, and is counted.
#include "router_fixture.h"

namespace resonance::api::testing {
namespace {

TEST_F(RouterTest, BadFromNamesParameterExpectationAndInput) {
  const auto message = expect_error(get("/api/v1/query?series=1&from=abc"), 400, "invalid_argument");
  EXPECT_EQ(message,
            "query parameter 'from': expected RFC 3339 time or integer nanoseconds, found 'abc'");
}

TEST_F(RouterTest, BadTo) {
  const auto message =
      expect_error(get("/api/v1/query?series=1&to=2026-13-01T00:00:00Z"), 400, "invalid_argument");
  EXPECT_EQ(message,
            "query parameter 'to': expected RFC 3339 time or integer nanoseconds, found "
            "'2026-13-01T00:00:00Z'");
  expect_error(get("/api/v1/query?series=1&to="), 400, "invalid_argument");
}

TEST_F(RouterTest, FromAfterTo) {
  const auto message =
      expect_error(get("/api/v1/query?series=1&from=2000&to=1000"), 400, "invalid_argument");
  EXPECT_NE(message.find("'from' and 'to': expected from <= to"), std::string::npos) << message;
  EXPECT_NE(message.find("1970-01-01T00:00:00.000002000Z"), std::string::npos) << message;
}

TEST_F(RouterTest, MissingSeries) {
  const auto message = expect_error(get("/api/v1/query?from=1"), 400, "invalid_argument");
  EXPECT_NE(message.find("query parameter 'series': required"), std::string::npos) << message;
  expect_error(get("/api/v1/query?series="), 400, "invalid_argument");
}

TEST_F(RouterTest, UnknownSeriesIdIs404) {
  const auto message = expect_error(get("/api/v1/query?series=77"), 404, "not_found");
  EXPECT_NE(message.find("query parameter 'series': no series with id 77"), std::string::npos);
}

TEST_F(RouterTest, OutOfRangeSeriesIdIs400) {
  for (auto id : {"0", "4294967296", "99999999999999999999999"}) {
    const auto message =
        expect_error(get(fmt::format("/api/v1/query?series={}", id)), 400, "invalid_argument");
    EXPECT_NE(message.find("expected a series id from 1 to 4294967295"), std::string::npos)
        << message;
    EXPECT_NE(message.find(fmt::format("found '{}'", id)), std::string::npos) << message;
  }
}

TEST_F(RouterTest, UnknownSeriesPathIs404) {
  const auto message =
      expect_error(get("/api/v1/query?series=plant1/area1/line1/pump1/nope"), 404, "not_found");
  EXPECT_NE(message.find("no series with path 'plant1/area1/line1/pump1/nope'"), std::string::npos);
}

TEST_F(RouterTest, MalformedSeriesPathIs400) {
  for (auto path : {"abc", "a/b/c/d", "a/b/c/d/e/f", "a/b/c/d/e%20f", "a//c/d/e"}) {
    const auto message =
        expect_error(get(fmt::format("/api/v1/query?series={}", path)), 400, "invalid_argument");
    EXPECT_NE(message.find("query parameter 'series': expected a series id or a path"),
              std::string::npos)
        << message;
  }
}

TEST_F(RouterTest, LimitBounds) {
  for (auto limit : {"0", "1001", "-1", "abc", "", "1e3", "18446744073709551616"}) {
    const auto message = expect_error(get(fmt::format("/api/v1/query?series=1&limit={}", limit)),
                                      400, "invalid_argument");
    EXPECT_EQ(message, fmt::format("query parameter 'limit': expected an integer from 1 to 1000, "
                                   "found '{}'",
                                   limit));
  }
}

TEST_F(RouterTest, UnknownAndRepeatedQueryParameters) {
  auto message = expect_error(get("/api/v1/query?series=1&form=1"), 400, "invalid_argument");
  EXPECT_EQ(message, "query parameter 'form': unknown; expected series, from, to, limit or format");
  message = expect_error(get("/api/v1/query?series=1&limit=2&limit=3"), 400, "invalid_argument");
  EXPECT_EQ(message, "query parameter 'limit': expected at most once, found it repeated");
}

TEST_F(RouterTest, BrokenPercentEncoding) {
  const auto message = expect_error(get("/api/v1/query?series=%G0"), 400, "invalid_argument");
  EXPECT_NE(message.find("query parameter 'series'"), std::string::npos) << message;
}

TEST_F(RouterTest, InvalidUtf8InAnEchoedValueStillGivesJson) {
  const Response r = get("/api/v1/query?series=1&from=%FF%FE");
  expect_error(r, 400, "invalid_argument");
}

TEST_F(RouterTest, LatestWithBadIdSegment) {
  for (auto id : {"abc", "0", "-1", "4294967296", "1.5"}) {
    const auto message =
        expect_error(get(fmt::format("/api/v1/series/{}/latest", id)), 400, "invalid_argument");
    EXPECT_EQ(message, fmt::format("path segment {{id}} of /api/v1/series/{{id}}/latest: "
                                   "expected a series id from 1 to 4294967295, found '{}'",
                                   id));
  }
  expect_error(get("/api/v1/series//latest"), 400, "invalid_argument");
}

TEST_F(RouterTest, LatestOfUnknownSeries) {
  const auto message = expect_error(get("/api/v1/series/42/latest"), 404, "not_found");
  EXPECT_EQ(message, "series 42: no such series (GET /api/v1/series lists them)");
}

TEST_F(RouterTest, LatestOfSeriesWithoutData) {
  const auto message =
      expect_error(get(fmt::format("/api/v1/series/{}/latest", empty_)), 404, "not_found");
  EXPECT_EQ(message,
            fmt::format("series {} ('plant1/area1/line1/pump1/flow'): no data yet", empty_));
}

TEST_F(RouterTest, UnknownPaths) {
  for (auto path : {"/api/v2/health", "/api/v1/series/1", "/api/v1/series/1/latest/x",
                    "/api/v1/health/", "/metricsx", "/favicon.ico"}) {
    const auto message = expect_error(get(path), 404, "not_found");
    EXPECT_NE(message.find(fmt::format("path '{}': no such endpoint; expected one of", path)),
              std::string::npos)
        << message;
  }
}

TEST_F(RouterTest, UnknownAsset) {
  const auto message = expect_error(get("/assets/secret.txt"), 404, "not_found");
  EXPECT_NE(message.find("found 'secret.txt'"), std::string::npos) << message;
  EXPECT_NE(message.find("app.js"), std::string::npos) << message;
  expect_error(get("/assets/../index.html"), 404, "not_found");
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  for (auto method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"}) {
    const Response r = router_->handle(method, "/api/v1/health");
    const auto message = expect_error(r, 405, "method_not_allowed");
    EXPECT_EQ(message, fmt::format("method '{}': '/api/v1/health' accepts GET and HEAD only", method));
    EXPECT_EQ(r.header("Allow"), "GET, HEAD");
  }
  // An unknown path is a 404 whatever the method.
  EXPECT_EQ(router_->handle("POST", "/nope").status, 404);
}

TEST_F(RouterTest, TargetNotOriginForm) {
  const auto message = expect_error(get("http://example.com/api/v1/health"), 400, "invalid_argument");
  EXPECT_NE(message.find("request target: expected a path starting with '/'"), std::string::npos);
}

TEST_F(RouterTest, HugeInputIsCutInTheMessage) {
  const std::string big(10'000, 'x');
  const Response r = get("/api/v1/query?series=1&from=" + big);
  expect_error(r, 400, "invalid_argument");
  EXPECT_LT(r.body.size(), 500u);
}

TEST_F(RouterTest, BadRequestsAreCountedByReason) {
  get("/api/v1/query?series=1&from=abc");
  get("/nope");
  router_->handle("POST", "/metrics");
  EXPECT_EQ(metrics_.counter_value("resonance_api_requests_total", "class=\"4xx\""), 3u);
  EXPECT_EQ(metrics_.counter_value("resonance_api_bad_requests_total",
                                   "reason=\"invalid_argument\""),
            1u);
  EXPECT_EQ(metrics_.counter_value("resonance_api_bad_requests_total", "reason=\"not_found\""), 1u);
  EXPECT_EQ(metrics_.counter_value("resonance_api_bad_requests_total",
                                   "reason=\"method_not_allowed\""),
            1u);
}

}  // namespace
}  // namespace resonance::api::testing
