#include "historian/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace resonance::historian {
namespace {

std::span<const std::uint8_t> bytes_of(const char* s) {
  return {reinterpret_cast<const std::uint8_t*>(s), std::strlen(s)};
}

TEST(HistorianCrc32c, MatchesPublishedCheckValues) {
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);  // RFC 3720 B.4 / CRC catalogue
  EXPECT_EQ(crc32c({}), 0u);
  std::vector<std::uint8_t> zeros(32, 0), ones(32, 0xFF);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
}

TEST(HistorianCrc32c, InstructionPathEqualsTheTableLoop) {
  std::vector<std::uint8_t> data(1000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + (i >> 3));
  const std::span<const std::uint8_t> all(data);
  for (std::size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 100, 999, 1000})
    for (std::size_t at : {0, 1, 3})
      if (at + len <= data.size())
        EXPECT_EQ(crc32c_extend(0x12345678u, all.subspan(at, len)),
                  crc32c_extend_portable(0x12345678u, all.subspan(at, len)))
            << "length " << len << " at " << at;
  EXPECT_EQ(crc32c_extend_portable(0, bytes_of("123456789")), 0xE3069283u);
}

TEST(HistorianCrc32c, ExtendEqualsOneShotAtEverySplit) {
  std::vector<std::uint8_t> data(100);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 11);
  const std::uint32_t whole = crc32c(data);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    const std::span<const std::uint8_t> all(data);
    EXPECT_EQ(crc32c_extend(crc32c(all.first(split)), all.subspan(split)), whole) << split;
  }
}

}  // namespace
}  // namespace resonance::historian
