// The TOMBSTONES codec (docs/formats/tombstones.md): round trip, and a precise error for each kind
// of damage.
#include "historian/tombstones.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace resonance::historian {
namespace {

std::vector<Tombstone> sample_list() {
  return {{7, 3, 120}, {9, 5, 400}, {4'000'000'000u, 1, 1}};
}

Result<std::vector<Tombstone>> parse(const std::vector<std::uint8_t>& b) {
  return parse_tombstones(b, "TOMBSTONES");
}

TEST(Tombstones, RoundTripIsExactAndCanonical) {
  const auto bytes = encode_tombstones(sample_list());
  EXPECT_EQ(bytes.size(), 8 + 3 * kTombstoneEntryBytes + 4);
  auto back = parse(bytes);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, sample_list());
  EXPECT_EQ(encode_tombstones(*back), bytes);
  auto empty = parse(encode_tombstones({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(Tombstones, EveryDamageIsACorruptionNamingWhere) {
  const auto good = encode_tombstones(sample_list());
  auto expect_error = [](const std::vector<std::uint8_t>& b, const std::string& part) {
    auto r = parse(b);
    ASSERT_FALSE(r) << part;
    EXPECT_EQ(r.error().code(), StatusCode::kCorruption);
    EXPECT_NE(r.error().message().find("TOMBSTONES: "), std::string::npos) << r.error().to_string();
    EXPECT_NE(r.error().message().find(part), std::string::npos) << r.error().to_string();
  };
  expect_error({}, "shorter than the 12-byte minimum");
  auto magic = good;
  magic[0] ^= 1;
  expect_error(magic, "at byte 0");
  auto count = good;
  count[4] = 200;
  expect_error(count, "count 200 at byte 4");
  auto truncated = good;
  truncated.pop_back();
  expect_error(truncated, "the file has");
  auto flipped = good;
  flipped[20] ^= 0x10;
  expect_error(flipped, "CRC");
  expect_error(encode_tombstones(std::vector<Tombstone>{{7, 1, 1}, {7, 2, 2}}),
               "series 7 listed twice");
  // Every single-bit flip anywhere is caught (by the magic, the count or the CRC).
  for (std::size_t i = 0; i < good.size() * 8; ++i) {
    auto b = good;
    b[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    EXPECT_FALSE(parse(b)) << "bit " << i;
  }
}

// The fuzz seeds are real encoder output, not hand-made look-alikes.
TEST(Tombstones, FuzzSeedsAreWhatTheEncoderWrites) {
  const std::filesystem::path corpus =
      std::filesystem::path(RESONANCE_SOURCE_DIR) / "tests/fuzz/historian_tombstones/corpus";
  auto read = [&](const char* name) {
    std::ifstream in(corpus / name, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(read("one_series.bin"), encode_tombstones(std::vector<Tombstone>{{7, 3, 120}}));
  EXPECT_EQ(read("three_series.bin"), encode_tombstones(sample_list()));
  EXPECT_EQ(read("empty_list.bin"), encode_tombstones({}));
  EXPECT_FALSE(parse(read("crc_mismatch.bin")));
  EXPECT_FALSE(parse(read("huge_count.bin")));
}

}  // namespace
}  // namespace resonance::historian
