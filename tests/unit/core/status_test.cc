#include "resonance/core/status.h"

#include <gtest/gtest.h>

namespace resonance {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return error(StatusCode::kInvalidArgument, "x must be positive");
  return x;
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(Status, CarriesCodeAndMessage) {
  Status s(StatusCode::kCorruption, "wal segment 3: bad crc at offset 4096");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.to_string(), "corruption: wal segment 3: bad crc at offset 4096");
}

TEST(Result, ValueOrError) {
  EXPECT_EQ(parse_positive(3).value(), 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace resonance
