// GET /api/v1/query's two point layouts: rows (the default) and columns; the values read back as
// the doubles stored, non-finite ones as null.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "router_fixture.h"

namespace resonance::api::testing {
namespace {

using nlohmann::json;

TEST_F(RouterTest, QueryColumnsHoldTheSamePointsAsRows) {
  const auto path = fmt::format("/api/v1/query?series={}&from={}&to={}&limit=4", pump_,
                                kNow - 10 * kNanosPerSecond, kNow);
  const json rows = body_json(get(path));
  const Response r = get(path + "&format=columns");
  ASSERT_EQ(r.status, 200) << r.body;
  const json columns = body_json(r);
  ASSERT_TRUE(columns["points"].is_object()) << r.body;
  const json& p = columns["points"];
  ASSERT_EQ(p["t"].size(), 4u);
  ASSERT_EQ(p["v"].size(), 4u);
  ASSERT_EQ(p["q"].size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(p["t"][i], rows["points"][i][0]);
    EXPECT_EQ(p["v"][i], rows["points"][i][1]);
    EXPECT_EQ(p["q"][i], rows["points"][i][2]);
  }
  for (const char* key : {"series", "path", "unit", "from", "to", "truncated", "next_from"})
    EXPECT_EQ(columns[key], rows[key]) << key;
  EXPECT_EQ(body_json(get(path + "&format=rows")), rows);
}

TEST_F(RouterTest, QueryRefusesAnUnknownFormat) {
  const auto message = expect_error(get(fmt::format("/api/v1/query?series={}&format=csv", pump_)),
                                    400, "invalid_argument");
  EXPECT_EQ(message, "query parameter 'format': expected rows or columns, found 'csv'");
  expect_error(get(fmt::format("/api/v1/query?series={}&format=rows&format=rows", pump_)), 400,
               "invalid_argument");
}

TEST_F(RouterTest, QueryValuesReadBackBitForBitInBothFormats) {
  std::vector<double> stored = {-0.0,
                                0.0,
                                std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::max(),
                                0.1 + 0.2,
                                21.37,
                                -0.005,
                                1e16};
  std::mt19937_64 rng(3);
  while (stored.size() < 500) {
    const double v = std::bit_cast<double>(rng());
    stored.push_back(std::isfinite(v) ? v : 1.0);
  }
  for (std::size_t i = 0; i < stored.size(); ++i)
    historian_.add({empty_, kNow - 1000 + static_cast<TimestampNs>(i), stored[i], {}});
  for (const char* format : {"rows", "columns"}) {
    SCOPED_TRACE(format);
    const Response r =
        get(fmt::format("/api/v1/query?series={}&from={}&format={}", empty_, kNow - 1000, format));
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = body_json(r);
    const bool rows = std::string_view(format) == "rows";
    const json& values = rows ? j["points"] : j["points"]["v"];
    ASSERT_EQ(values.size(), stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
      SCOPED_TRACE(i);
      const json& v = rows ? values[i][1] : values[i];
      const json& ts = rows ? values[i][0] : j["points"]["t"][i];
      EXPECT_EQ(ts.get<TimestampNs>(), kNow - 1000 + static_cast<TimestampNs>(i));
      if (!std::isfinite(stored[i])) {
        EXPECT_TRUE(v.is_null()) << v;  // JSON has no NaN or infinity
        continue;
      }
      ASSERT_TRUE(v.is_number()) << v;
      EXPECT_EQ(std::bit_cast<std::uint64_t>(v.get<double>()),
                std::bit_cast<std::uint64_t>(stored[i]))
          << v;
    }
  }
}

}  // namespace
}  // namespace resonance::api::testing
