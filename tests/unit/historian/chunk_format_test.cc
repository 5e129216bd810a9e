// Chunk format (docs/formats/chunk.md): version 2's compact header keeps every statistic
// bit-exact, version 1 files written before it still read, and damage is caught.
#include "historian/chunk_format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "historian/codec.h"
#include "historian/crc32c.h"

namespace resonance::historian {
namespace {

std::uint64_t bits_of(double d) {
  return std::bit_cast<std::uint64_t>(d);
}

std::vector<std::uint64_t> bits(std::span<const double> v) {
  std::vector<std::uint64_t> out;
  for (double d : v) out.push_back(bits_of(d));
  return out;
}

struct Columns {
  std::vector<TimestampNs> ts;
  std::vector<double> values;
  std::vector<std::uint32_t> quality;
};

Columns grid_of(const std::vector<double>& values, TimestampNs t0 = 1'767'225'600'000'000'000) {
  Columns c;
  c.values = values;
  for (std::size_t i = 0; i < values.size(); ++i) {
    c.ts.push_back(t0 + static_cast<TimestampNs>(i) * 10'000'000);
    c.quality.push_back(i % 100 == 0 ? 0x40000000u : 0);
  }
  return c;
}

// Writes `c` as a one-chunk file in `version`, reads it back and checks every column and
// statistic bit for bit against what the samples say.
ChunkHeader round_trip(const Columns& c, std::uint32_t version = kChunkFormatVersion) {
  std::vector<std::uint8_t> chunk;
  if (version == kChunkFormatVersion)
    encode_chunk(42, c.ts, c.values, c.quality, chunk);
  else
    encode_chunk_v1(42, c.ts, c.values, c.quality, chunk);
  ChunkFileBuilder b(0, std::int64_t{1} << 62, version);
  b.add(42, chunk);
  const auto file = b.finish();
  auto info = parse_chunk_file(file);
  EXPECT_TRUE(info) << info.error().to_string();
  if (!info) return {};
  EXPECT_EQ(info->version, version);
  auto chunks = chunks_of(file, info->index.at(0));
  EXPECT_TRUE(chunks && chunks->size() == 1);
  if (!chunks || chunks->empty()) return {};
  const ChunkView& v = chunks->front();
  ChunkColumns cols;
  const Status s = decode_chunk(v, cols);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(cols.ts, c.ts);
  EXPECT_EQ(bits(cols.values), bits(c.values));
  EXPECT_EQ(cols.quality, c.quality);
  const ChunkHeader& h = v.header;
  EXPECT_EQ(h.series, 42u);
  EXPECT_EQ(h.count, c.ts.size());
  EXPECT_EQ(h.t_min, c.ts.front());
  EXPECT_EQ(h.t_max, c.ts.back());
  EXPECT_EQ(bits_of(h.first), bits_of(c.values.front()));
  EXPECT_EQ(bits_of(h.last), bits_of(c.values.back()));
  std::size_t value_count = 0;
  double mn = NAN, mx = NAN;
  for (double x : c.values) {
    if (std::isnan(x)) continue;
    mn = value_count == 0 ? x : std::min(mn, x);
    mx = value_count == 0 ? x : std::max(mx, x);
    ++value_count;
  }
  EXPECT_EQ(h.value_count, value_count);
  EXPECT_EQ(bits_of(h.min), bits_of(mn));
  EXPECT_EQ(bits_of(h.max), bits_of(mx));
  EXPECT_EQ(h.total_bytes, chunk.size());
  return h;
}

TEST(ChunkFormatV2, DecimalStatisticsAreIntegersAndTheHeaderIsSmall) {
  std::vector<double> v;
  double level = 21.3;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g(0, 0.02);
  for (int i = 0; i < 1024; ++i) v.push_back(std::round((level += g(rng)) * 10) / 10);
  const ChunkHeader h = round_trip(grid_of(v));
  EXPECT_LE(h.header_bytes, 45u) << "v1 spent 88";
  EXPECT_LE(h.ts_bytes, 8u) << "a regular grid relative to t_min";
  // The sum is the in-order double sum, as decoding adds it up (stored as an integer only when
  // that gives the same bits; here it does not, so it is raw).
  double in_order = 0;
  for (double x : v) in_order += x;
  EXPECT_EQ(bits_of(h.sum), bits_of(in_order));
  // Halves, whose running sums are exact in binary: the integer form reproduces the sum.
  std::vector<double> halves;
  double at = 21.0;
  for (int i = 0; i < 1024; ++i) halves.push_back(at += (rng() % 3 == 0 ? 0.5 : -0.5) * (rng() % 2 == 0 ? 1 : -1));
  const ChunkHeader hh = round_trip(grid_of(halves));
  double halves_sum = 0;
  for (double x : halves) halves_sum += x;
  EXPECT_EQ(bits_of(hh.sum), bits_of(halves_sum));
}

TEST(ChunkFormatV2, SpecialValuesInStatisticsRoundTripBitExactly) {
  const double nan_payload = std::bit_cast<double>(0x7ff8'0000'dead'beefULL);
  const double neg_nan = std::bit_cast<double>(0xfff4'0000'0000'0001ULL);  // signalling, negative
  std::vector<std::vector<double>> cases = {
      {-0.0, 1.5, 2.5, -0.0},             // -0.0 first and last
      {nan_payload, 1.25, 3.5, neg_nan},  // NaN first and last with payloads
      {nan_payload, nan_payload},         // no value: min/max NaN, sum 0
      {-0.0, -0.0, -0.0},                 // constant -0.0
      {1.0, std::numeric_limits<double>::infinity(), -2.0},
      {0.1, 0.2, 0.30000000000000004, 1e300},  // decimals with a non-decimal exception
      {1e-310, 2e-310, 5e-324},                // subnormals
  };
  std::vector<double> f32;
  for (int i = 0; i < 500; ++i)
    f32.push_back(static_cast<float>(40 + std::sin(i * 0.1) * 10 + i * 0.001));
  cases.push_back(f32);
  std::vector<double> states(700, 0.0);
  for (int i = 300; i < 700; ++i) states[static_cast<std::size_t>(i)] = 1;
  cases.push_back(states);
  std::mt19937_64 rng(11);
  std::vector<double> rnd;
  for (int i = 0; i < 64; ++i) rnd.push_back(std::bit_cast<double>(rng() & 0x7fefffffffffffffULL));
  cases.push_back(rnd);
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "case of " << c.size() << " starting " << c.front());
    round_trip(grid_of(c));
    round_trip(grid_of(c), kChunkFormatVersionV1);
  }
}

TEST(ChunkFormatV2, NegativeAndJitteredTimestampsRoundTrip) {
  Columns c;
  std::mt19937_64 rng(2);
  TimestampNs t = -5'000'000'000;
  for (int i = 0; i < 300; ++i) {
    t += 1 + static_cast<TimestampNs>(rng() % 20'000'000);
    c.ts.push_back(t);
    c.values.push_back(std::round(std::sin(i * 0.05) * 1000) / 1000);
    c.quality.push_back(0);
  }
  round_trip(c);
  round_trip(c, kChunkFormatVersionV1);
  Columns one = grid_of({3.25});
  const ChunkHeader h = round_trip(one);
  EXPECT_EQ(h.count, 1);
}

// The bytes of docs/formats/chunk.md's version 1 example, as a store written before version 2
// holds them: they must keep decoding to the same samples and statistics.
TEST(ChunkFormatV2, Version1FileFromTheFormatDocStillReads) {
  const std::vector<std::uint8_t> file = {
      0x52, 0x53, 0x4e, 0x43, 0x48, 0x4e, 0x4b, 0x31, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0xb8, 0x30, 0x46, 0x03,
      0x00, 0x00, 0x6a, 0x00, 0x00, 0x00, 0xc8, 0xcf, 0x5d, 0x4b, 0x07, 0x00, 0x00, 0x00, 0x04,
      0x00, 0x04, 0x00, 0x01, 0x03, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
      0x04, 0x00, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x34, 0x40, 0x33, 0x33,
      0x33, 0x33, 0x33, 0xb3, 0x34, 0x40, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0x54, 0x40, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x80, 0x34, 0x40, 0x33, 0x33, 0x33, 0x33, 0x33, 0xb3, 0x34, 0x40,
      0x01, 0xd0, 0x0f, 0x14, 0x00, 0x03, 0x01, 0x00, 0x00, 0x9a, 0x03, 0x01, 0x02, 0x94, 0x01,
      0x01, 0x00, 0x04, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x8a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
      0x00, 0x5b, 0xe7, 0xfd, 0xab, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x8a, 0x86, 0x9d, 0x78, 0x52, 0x53, 0x4e, 0x43, 0x45, 0x4e, 0x44, 0x31};
  auto info = parse_chunk_file(file);
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->version, kChunkFormatVersionV1);
  auto salvaged = salvage_chunk_file(file);
  ASSERT_TRUE(salvaged);
  EXPECT_TRUE(salvaged->damage.empty());
  auto chunks = chunks_of(file, info->index.at(0));
  ASSERT_TRUE(chunks);
  const ChunkHeader& h = chunks->at(0).header;
  EXPECT_EQ(h.series, 7u);
  EXPECT_EQ(h.header_bytes, kChunkHeaderBytesV1);
  EXPECT_EQ(h.t_min, 1000);
  EXPECT_EQ(h.t_max, 1030);
  EXPECT_EQ(h.min, 20.5);
  EXPECT_EQ(h.max, 20.7);
  EXPECT_EQ(h.sum, 20.5 + 20.6 + 20.6 + 20.7);
  ChunkColumns cols;
  ASSERT_TRUE(decode_chunk(chunks->at(0), cols).is_ok());
  EXPECT_EQ(cols.ts, (std::vector<TimestampNs>{1000, 1010, 1020, 1030}));
  EXPECT_EQ(cols.values, (std::vector<double>{20.5, 20.6, 20.6, 20.7}));
  EXPECT_EQ(cols.quality, (std::vector<std::uint32_t>{0, 0, 0, 0}));
}

TEST(ChunkFormatV2, EveryFlippedBitIsCaughtAndSalvageKeepsTheOtherSeries) {
  const Columns a = grid_of({1.5, 2.5, 3.5, 4.5, 5.5});
  const Columns b = grid_of({7.0, 7.0, 8.0});
  std::vector<std::uint8_t> ca, cb;
  encode_chunk(1, a.ts, a.values, a.quality, ca);
  encode_chunk(2, b.ts, b.values, b.quality, cb);
  ChunkFileBuilder fb(0, std::int64_t{1} << 62);
  fb.add(1, ca);
  fb.add(2, cb);
  const auto file = fb.finish();
  ASSERT_TRUE(parse_chunk_file(file));
  for (std::size_t at = kChunkFileHeaderBytes; at < kChunkFileHeaderBytes + ca.size(); ++at) {
    auto bad = file;
    bad[at] ^= 0x04;
    EXPECT_FALSE(parse_chunk_file(bad)) << "flip at " << at;
    auto salvaged = salvage_chunk_file(bad);
    ASSERT_TRUE(salvaged) << "flip at " << at;
    ASSERT_EQ(salvaged->info.index.size(), 1u) << "flip at " << at;
    EXPECT_EQ(salvaged->info.index[0].series, 2u);
  }
}

TEST(ChunkFormatV2, DamagedHeaderFieldsGivePreciseErrors) {
  // A hand-built header with a valid CRC but impossible fields: each is named.
  auto chunk_with = [](std::vector<std::uint8_t> payload) {
    std::vector<std::uint8_t> out = {static_cast<std::uint8_t>(payload.size())};
    const std::uint32_t crc = crc32c(payload);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
  };
  // series 1, count 0, no NaN, 1 + 1 block bytes, t_min 0, span 0, raw statistics, 3 block bytes.
  std::vector<std::uint8_t> zero = {1, 0, 0, 1, 1, 0, 0, 0xff};
  zero.resize(zero.size() + 5 * 8 + 3, 1);
  auto zero_count = parse_chunk(chunk_with(zero));
  ASSERT_FALSE(zero_count);
  EXPECT_NE(zero_count.error().message().find("count 0"), std::string::npos)
      << zero_count.error().message();
  // series 1, count 1, no NaN, 1 + 1 block bytes, t_min 0, span 0, scale e = 19: out of range.
  auto bad_scale = parse_chunk(chunk_with({1, 1, 0, 1, 1, 0, 0, 19, 0, 0, 0, 0, 0, 1, 6, 1}));
  ASSERT_FALSE(bad_scale);
  EXPECT_NE(bad_scale.error().message().find("exponent 19"), std::string::npos)
      << bad_scale.error().message();
}

}  // namespace
}  // namespace resonance::historian
