#include "resonance/core/time.h"

#include <gtest/gtest.h>

namespace resonance {
namespace {

TEST(Time, FormatsEpochAndKnownInstant) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
  // 2026-11-21T10:02:20.5Z
  EXPECT_EQ(format_rfc3339(1'795'255'340'500'000'000), "2026-11-21T10:02:20.500000000Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST(Time, ParsesRfc3339AndIntegers) {
  EXPECT_EQ(parse_timestamp("2026-11-21T10:02:20.5Z").value(), 1'795'255'340'500'000'000);
  EXPECT_EQ(parse_timestamp("2026-11-21T18:02:20.5+08:00").value(), 1'795'255'340'500'000'000);
  EXPECT_EQ(parse_timestamp("1795255340500000000").value(), 1'795'255'340'500'000'000);
  EXPECT_EQ(parse_timestamp("-5").value(), -5);
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00.000000001Z").value(), 1);
}

TEST(Time, RoundTripsThroughText) {
  for (TimestampNs ts : {0LL, 1LL, 1'795'255'340'123'456'789LL, 951'782'400'000'000'000LL}) {
    EXPECT_EQ(parse_timestamp(format_rfc3339(ts)).value(), ts) << ts;
  }
}

TEST(Time, RejectsBadTextWithReason) {
  for (const char* bad : {"", "abc", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-21T25:00:00Z", "2026-11-21T10:02:20", "2026-11-21T10:02:20.Z",
                          "2026-11-21T10:02:20Zjunk", "99999999999999999999"}) {
    auto r = parse_timestamp(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_FALSE(r.error().message().empty());
  }
  EXPECT_NE(parse_timestamp("2026-11-21T10:02:20").error().message().find("time zone"), std::string::npos);
}

TEST(Time, ClocksAreSane) {
  const TimestampNs now = unix_now_ns();
  EXPECT_GT(now, 1'700'000'000LL * kNanosPerSecond);  // after 2023
  const MonoTime a = mono_now();
  const MonoTime b = mono_now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace resonance
