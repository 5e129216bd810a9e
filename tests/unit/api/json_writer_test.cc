// The shared JSON writer (resonance/core/json_writer.h). Numbers of the data routes: every finite double reads back bit for bit, in the same text
// whether the decimal shortcut or the general algorithm wrote it; NaN/inf are null, -0.0 keeps its
// sign through a parser.
#include "resonance/core/json_writer.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace resonance::json_writer {
namespace {

std::string text_of(double v, unsigned scale = 0) {
  char buf[kMaxDoubleChars];
  return {buf, write_double(buf, v, scale)};
}

std::string general_text_of(double v) {
  char buf[kMaxDoubleChars];
  return {buf, write_double_general(buf, v)};
}

void expect_round_trip(double v) {
  const std::string text = text_of(v);
  ASSERT_LE(text.size(), 24u) << text;
  const double back = std::strtod(text.c_str(), nullptr);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(v)) << text;
}

TEST(JsonNumbers, NonFiniteIsNullAndSignedZeroKeepsItsSign) {
  EXPECT_EQ(text_of(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(text_of(-std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(text_of(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(text_of(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(text_of(0.0), "0");
  EXPECT_EQ(text_of(-0.0), "-0.0");
  // "-0" would come back from nlohmann (and Python) as the integer 0.
  const auto parsed = nlohmann::json::parse(text_of(-0.0));
  ASSERT_TRUE(parsed.is_number_float());
  EXPECT_TRUE(std::signbit(parsed.get<double>()));
}

TEST(JsonNumbers, PlainBetweenTenToTheMinusFiveAndTenToTheSixteen) {
  EXPECT_EQ(text_of(4.01), "4.01");
  EXPECT_EQ(text_of(100000.0), "100000");
  EXPECT_EQ(text_of(-0.005), "-0.005");
  EXPECT_EQ(text_of(0.00001), "0.00001");
  EXPECT_EQ(text_of(1234567890123456.7), "1234567890123456.8");
  EXPECT_EQ(text_of(1e16), "1e+16");
  EXPECT_EQ(text_of(2.5e-7), "2.5e-07");
  EXPECT_EQ(text_of(0.1 + 0.2), "0.30000000000000004");
}

TEST(JsonNumbers, EveryFiniteDoubleReadsBackBitForBit) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200'000; ++i) {
    const double v = std::bit_cast<double>(rng());
    if (std::isfinite(v)) expect_round_trip(v);
  }
  for (double v : {std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                   std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(),
                   4.5e15, 9.1e15})
    expect_round_trip(v);
}

// The decimal shortcut (n / 10^k printed from n) must give the general algorithm's text, whatever
// decimals the previous value had.
TEST(JsonNumbers, DecimalShortcutWritesTheGeneralText) {
  std::mt19937_64 rng(9);
  for (int i = 0; i < 200'000; ++i) {
    const auto n = static_cast<std::int64_t>(rng() % 20'000'000'000ULL) - 10'000'000'000LL;
    double v = static_cast<double>(n) / kPow10[rng() % 9];
    if (i % 3 == 0) v = static_cast<double>(static_cast<float>(v));  // a float32 source
    if (v == 0) continue;
    const auto scale = static_cast<unsigned>(rng() % 9);
    const std::string text = text_of(v, scale);
    ASSERT_EQ(text, general_text_of(v)) << "scale " << scale;
    const double back = std::strtod(text.c_str(), nullptr);
    ASSERT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(v)) << text;
  }
}

TEST(JsonNumbers, Integers) {
  char buf[kMaxInt64Chars];
  EXPECT_EQ(std::string(buf, write_int(buf, std::numeric_limits<std::int64_t>::min())),
            "-9223372036854775808");
  EXPECT_EQ(std::string(buf, write_int(buf, std::numeric_limits<std::int64_t>::max())),
            "9223372036854775807");
  EXPECT_EQ(std::string(buf, write_uint(buf, std::numeric_limits<std::uint32_t>::max())),
            "4294967295");
}

TEST(JsonNumbers, TimestampWriterWritesWhatWriteIntWrites) {
  std::mt19937_64 rng(13);
  std::vector<std::int64_t> ts = {std::numeric_limits<std::int64_t>::min(),
                                  -1'000'000'001,
                                  -5,
                                  0,
                                  999'999'999,
                                  1'000'000'000,
                                  1'000'000'001,
                                  std::numeric_limits<std::int64_t>::max()};
  std::int64_t t = 1'795'255'199'990'000'000;
  for (int i = 0; i < 5000; ++i)
    ts.push_back(t += static_cast<std::int64_t>(rng() % 20'000'000));             // a series
  for (int i = 0; i < 1000; ++i) ts.push_back(static_cast<std::int64_t>(rng()));  // anything
  TimestampWriter writer;
  for (const std::int64_t v : ts) {
    char expected[kMaxInt64Chars], got[kMaxInt64Chars];
    ASSERT_EQ(std::string(got, writer.write(got, v)),
              std::string(expected, write_int(expected, v)));
  }
}

TEST(JsonWriter, StringsAreEscapedAsNlohmannEscapesThem) {
  std::string every;
  for (int c = 1; c < 128; ++c) every.push_back(static_cast<char>(c));
  for (const std::string& text :
       {std::string(), std::string("plant/area1/line1/eq0001/value"), std::string("a\"b\\c\nd\te\x01\x1f"),
        std::string("grüße °C"), every}) {
    std::string out;
    append_string(out, text);
    EXPECT_EQ(out, nlohmann::json(text).dump()) << text;
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), text);
  }
}

TEST(JsonWriter, DoubleWithFractionKeepsPointZeroAndReadsBack) {
  auto text_of = [](double v) {
    std::string out = "x";
    append_double_with_fraction(out, v);
    return out.substr(1);
  };
  EXPECT_EQ(text_of(1), "1.0");
  EXPECT_EQ(text_of(0), "0.0");
  EXPECT_EQ(text_of(-0.0), "-0.0");
  EXPECT_EQ(text_of(100000), "100000.0");
  EXPECT_EQ(text_of(0.25), "0.25");
  EXPECT_EQ(text_of(1e16), "1e+16");
  EXPECT_EQ(text_of(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(text_of(-std::numeric_limits<double>::infinity()), "null");
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const double v = std::bit_cast<double>(rng());
    if (!std::isfinite(v)) continue;
    const std::string t = text_of(v);
    ASSERT_NE(t.find_first_of(".e"), std::string::npos) << t;
    ASSERT_EQ(std::bit_cast<std::uint64_t>(std::strtod(t.c_str(), nullptr)), std::bit_cast<std::uint64_t>(v)) << t;
  }
}

}  // namespace
}  // namespace resonance::json_writer
