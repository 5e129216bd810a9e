#include "api/http_target.h"

#include <gtest/gtest.h>

namespace resonance::api {
namespace {

TEST(HttpTarget, SplitsPathAndDecodesParams) {
  auto t = parse_target("/api/v1/query?series=plant%2Fa%2Fb%2Fc%2Fd&from=1&to=2+3");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/api/v1/query");
  ASSERT_EQ(t->params.size(), 3u);
  EXPECT_EQ(t->param("series"), "plant/a/b/c/d");
  EXPECT_EQ(t->param("from"), "1");
  EXPECT_EQ(t->param("to"), "2 3");  // '+' is a space in a query string
  EXPECT_FALSE(t->param("limit").has_value());
}

TEST(HttpTarget, PathWithoutQuery) {
  auto t = parse_target("/metrics");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/metrics");
  EXPECT_TRUE(t->params.empty());
}

TEST(HttpTarget, ToleratesEmptyPairsKeyOnlyAndFragment) {
  auto t = parse_target("/x?a=1&&b&=v&#frag=ignored");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->param("a"), "1");
  EXPECT_EQ(t->param("b"), "");
  EXPECT_EQ(t->param(""), "v");
  EXPECT_FALSE(t->param("frag").has_value());
}

TEST(HttpTarget, RejectsNonOriginForm) {
  for (auto target : {"", "*", "http://host/api", "api/v1/health"}) {
    auto t = parse_target(target);
    ASSERT_FALSE(t.has_value()) << target;
    EXPECT_EQ(t.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(t.error().message().find("request target: expected a path starting with '/'"),
              std::string::npos)
        << t.error().message();
  }
}

TEST(HttpTarget, RejectsBrokenEscapesNamingTheParameter) {
  auto t = parse_target("/q?series=%zz");
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().message(),
            "query parameter 'series': expected %XX escapes with two hex digits, found '%zz'");
  auto truncated = parse_target("/q?from=12%4");
  ASSERT_FALSE(truncated.has_value());
  EXPECT_NE(truncated.error().message().find("'from'"), std::string::npos);
  auto key = parse_target("/q?se%G1ries=1");
  ASSERT_FALSE(key.has_value());
  EXPECT_NE(key.error().message().find("parameter name"), std::string::npos);
}

TEST(HttpTarget, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b%2fc", false), "a b/c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
  EXPECT_FALSE(percent_decode("%", false).has_value());
  EXPECT_FALSE(percent_decode("%a", false).has_value());
  EXPECT_FALSE(percent_decode("ab%", false).has_value());
}

TEST(HttpTarget, QuotedCutsLongInput) {
  EXPECT_EQ(quote_input("abc"), "'abc'");
  const std::string long_text(1000, 'x');
  const std::string q = quote_input(long_text);
  EXPECT_LT(q.size(), 150u);
  EXPECT_NE(q.find("(1000 bytes)"), std::string::npos);
}

}  // namespace
}  // namespace resonance::api
