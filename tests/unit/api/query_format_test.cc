// GET /api/v1/query's two point layouts: rows (the default) and columns; the values read back as
// the doubles stored, non-finite ones as null.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "resonance/api/points_binary.h"
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

// format=binary (docs/formats/points-binary.md): the same points and paging fields as JSON, values
// bit for bit, read back by the documented reader.
TEST_F(RouterTest, QueryBinaryHoldsTheSamePointsAsRows) {
  const auto path = fmt::format("/api/v1/query?series={}&from={}&to={}&limit=4", pump_,
                                kNow - 10 * kNanosPerSecond, kNow);
  const json rows = body_json(get(path));
  const Response r = get(path + "&format=binary");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, kPointsBinaryType);
  EXPECT_EQ(r.body.size(), kPointsBinaryHeaderBytes + 4 * 20);
  const auto parsed =
      read_points_binary(std::span(reinterpret_cast<const std::uint8_t*>(r.body.data()), r.body.size()));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(parsed->series, rows["series"].get<SeriesId>());
  EXPECT_EQ(parsed->from_ns, rows["from"].get<TimestampNs>());
  EXPECT_EQ(parsed->to_ns, rows["to"].get<TimestampNs>());
  EXPECT_EQ(parsed->truncated, rows["truncated"].get<bool>());
  EXPECT_EQ(std::to_string(parsed->next_from_ns), rows["next_from"].get<std::string>());
  ASSERT_EQ(parsed->ts.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(parsed->ts[i], rows["points"][i][0].get<TimestampNs>());
    EXPECT_EQ(parsed->values[i], rows["points"][i][1].get<double>());
    EXPECT_EQ(parsed->quality[i], rows["points"][i][2].get<std::uint32_t>());
  }
}

TEST(PointsBinary, RoundTripsBitForBitAndRefusesEveryDamagedLength) {
  std::vector<Sample> points;
  std::mt19937_64 rng(41);
  for (int i = 0; i < 300; ++i)
    points.push_back(Sample{7, static_cast<TimestampNs>(rng()), std::bit_cast<double>(rng()),
                            Quality{static_cast<std::uint32_t>(rng())}});
  std::string text;
  write_points_binary(text, 7, -5, 99, 100, true, points);
  const std::vector<std::uint8_t> bytes(text.begin(), text.end());
  ASSERT_EQ(bytes.size(), kPointsBinaryHeaderBytes + 300 * 20);
  EXPECT_EQ(std::string(text, 0, 4), "RSNP");
  const auto back = read_points_binary(bytes);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->series, 7u);
  EXPECT_TRUE(back->truncated);
  EXPECT_EQ(back->from_ns, -5);
  EXPECT_EQ(back->to_ns, 99);
  EXPECT_EQ(back->next_from_ns, 100);
  ASSERT_EQ(back->ts.size(), points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(back->ts[i], points[i].ts_ns);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(back->values[i]), std::bit_cast<std::uint64_t>(points[i].value));
    EXPECT_EQ(back->quality[i], points[i].quality.code);
  }
  // Every shorter or longer input, and a count that does not match, is refused with a reason.
  for (std::size_t cut = 0; cut < bytes.size(); cut += 7)
    EXPECT_FALSE(read_points_binary(std::span(bytes).first(cut)).has_value()) << cut;
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(read_points_binary(longer).has_value());
  auto wrong_count = bytes;
  wrong_count[16] ^= 1;
  const auto refused = read_points_binary(wrong_count);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("count 301 at byte 16"), std::string::npos) << refused.error().message();
  auto huge_count = bytes;
  huge_count[23] = 0xff;
  EXPECT_FALSE(read_points_binary(huge_count).has_value());
  auto bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_FALSE(read_points_binary(bad_magic).has_value());
  std::string empty;
  write_points_binary(empty, 1, 0, 1, 0, false, {});
  const auto none = read_points_binary(std::vector<std::uint8_t>(empty.begin(), empty.end()));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->ts.empty());
}

TEST_F(RouterTest, QueryRefusesAnUnknownFormat) {
  const auto message = expect_error(get(fmt::format("/api/v1/query?series={}&format=csv", pump_)),
                                    400, "invalid_argument");
  EXPECT_EQ(message, "query parameter 'format': expected rows, columns or binary, found 'csv'");
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
