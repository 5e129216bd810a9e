#include <gtest/gtest.h>

#include "resonance/audit/entry.h"
#include "resonance/audit/tiles.h"

namespace resonance::audit {
namespace {

TEST(Entry, EncodesAndDecodesEveryType) {
  for (int t = 1; t <= 7; ++t) {
    Entry e{static_cast<EntryType>(t), 1'732'000'000'123'456'789, "{\"k\":1}"};
    std::vector<std::uint8_t> bytes;
    ASSERT_TRUE(encode_entry(e, bytes).is_ok());
    ASSERT_EQ(bytes.size(), kEntryHeaderSize + e.body.size());
    EXPECT_EQ(bytes[0], 1);
    auto back = decode_entry(bytes);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(back->type, e.type);
    EXPECT_EQ(back->ts_ns, e.ts_ns);
    EXPECT_EQ(back->body, e.body);
    EXPECT_EQ(entry_type_from_string(to_string(e.type)), e.type);
  }
}

TEST(Entry, RejectsOversizeAndBadHeaders) {
  std::vector<std::uint8_t> bytes;
  EXPECT_EQ(encode_entry(Entry{EntryType::kLogMeta, 0, std::string(65526, 'x')}, bytes).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(encode_entry(Entry{EntryType::kLogMeta, 0, std::string(65525, 'x')}, bytes).is_ok());
  const std::vector<std::uint8_t> short_entry{1, 1, 0};
  EXPECT_NE(decode_entry(short_entry).error().message().find("shorter"), std::string::npos);
  std::vector<std::uint8_t> v2{2, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_NE(decode_entry(v2).error().message().find("version"), std::string::npos);
  std::vector<std::uint8_t> t99{1, 99, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_NE(decode_entry(t99).error().message().find("type 99"), std::string::npos);
}

TEST(Tiles, PathsFollowTlogTiles) {
  EXPECT_EQ(tile_path(0, 0, 256), "tile/0/000");
  EXPECT_EQ(tile_path(0, 1234067, 256), "tile/0/x001/x234/067");
  EXPECT_EQ(tile_path(1, 5, 17), "tile/1/005.p/17");
  EXPECT_EQ(tile_path(kEntriesLevel, 1000, 3), "tile/entries/x001/000.p/3");
  EXPECT_EQ(tile_width(0, 0, 300), 256u);
  EXPECT_EQ(tile_width(0, 1, 300), 44u);
  EXPECT_EQ(tile_width(0, 2, 300), 0u);
  EXPECT_EQ(tile_width(1, 0, 300), 1u);
  EXPECT_EQ(tile_width(1, 0, 255), 0u);
}

TEST(Tiles, BundlesSplitAndRejectOverruns) {
  std::string bundle;
  append_to_bundle("abc", bundle);
  append_to_bundle("", bundle);
  auto parts = parse_bundle(bundle);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(*parts, (std::vector<std::string>{"abc", ""}));
  auto cut = parse_bundle(bundle.substr(0, 4));
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().message().find("claims 3 bytes"), std::string::npos);
}

}  // namespace
}  // namespace resonance::audit
