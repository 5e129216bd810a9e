// Block codecs: bit-exact round trips on realistic and adversarial data, the codec the chooser
// picks for each kind of signal, and precise errors on damaged blocks.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "historian/chunk_format.h"
#include "historian/codec.h"

namespace resonance::historian::codec {
namespace {

std::vector<std::uint64_t> bits(const std::vector<double>& v) {
  std::vector<std::uint64_t> out;
  for (double d : v) out.push_back(std::bit_cast<std::uint64_t>(d));
  return out;
}

std::vector<std::uint8_t> roundtrip_values(const std::vector<double>& v) {
  std::vector<std::uint8_t> block;
  encode_values(v, block);
  std::vector<double> back(v.size());
  const Status s = decode_values(block, back);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(bits(back), bits(v));
  return block;
}

std::vector<std::uint8_t> roundtrip_ts(const std::vector<std::int64_t>& t) {
  std::vector<std::uint8_t> block;
  encode_timestamps(t, block);
  std::vector<std::int64_t> back(t.size());
  const Status s = decode_timestamps(block, back);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(back, t);
  return block;
}

ValueCodec codec_of(const std::vector<std::uint8_t>& block) { return static_cast<ValueCodec>(block[0]); }

TEST(Codec, DriftWithNoiseQuantisedToHundredthsUsesDecimalAndIsSmall) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 0.005);
  std::vector<double> v;
  double level = 5.0;
  for (int i = 0; i < 1024; ++i) {
    level += noise(rng);
    v.push_back(std::round(level * 100) / 100);
  }
  const auto block = roundtrip_values(v);
  EXPECT_EQ(codec_of(block), ValueCodec::kDecimal);
  EXPECT_LT(block.size(), 1024u * 8 / 10) << "expected well under 8 bits per value";
}

TEST(Codec, RandomWalkDeltasAreRiceCodedWithSpikesAndSpecialValues) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> step(0, 0.02);
  std::vector<double> v;
  double level = 40.0;
  for (int i = 0; i < 1024; ++i) {
    level += step(rng);
    v.push_back(std::round(level * 10) / 10);  // mostly equal neighbours, some ±0.1
  }
  auto block = roundtrip_values(v);
  ASSERT_EQ(codec_of(block), ValueCodec::kDecimal);
  EXPECT_EQ(block[2], 3) << "flags: delta, Rice-coded";
  EXPECT_LT(block.size(), 1024u * 2 / 8) << "bit packing pays 2 bits a value here; Rice about 1";
  // A spike far beyond the escape threshold, and exceptions, in the same Rice-coded block.
  v[100] = 1e9;
  v[101] = std::bit_cast<double>(std::uint64_t{0x7ff8dead00000001});
  v[102] = -0.0;
  v[103] = -std::numeric_limits<double>::infinity();
  block = roundtrip_values(v);
  EXPECT_EQ(block[2], 3);
}

// The Rice decoder has a buffered fast path (k <= 24, 8 bytes left) and a bit-by-bit one (escapes,
// larger k, the last bytes): blocks of every length around the 8-byte edge, Rice parameters from 0
// to beyond 24, and escapes at every position all decode to the values encoded.
TEST(Codec, RiceDecodesTheSameOnTheFastAndTheCarefulPath) {
  std::mt19937_64 rng(29);
  int rice_blocks = 0;
  for (const double spread : {0.0, 1.0, 40.0, 3e3, 5e8, 4e11}) {
    for (std::size_t n : {2u, 3u, 5u, 9u, 17u, 31u, 64u, 65u, 333u, 1024u}) {
      std::normal_distribution<double> step(0, spread);
      std::vector<double> v;
      double level = 1000;
      for (std::size_t i = 0; i < n; ++i) {
        level += std::round(step(rng));
        v.push_back(level / 10);  // 0.1 resolution
      }
      if (n > 4) v[rng() % n] += 1e9;  // a spike: an escape somewhere
      for (const bool predict : {false, true}) {
        if (predict)
          for (std::size_t i = 0; i < n; ++i) v[i] = std::round(1e4 * std::sin(0.3 * static_cast<double>(i)) + step(rng)) / 10;
        SCOPED_TRACE(testing::Message() << "spread " << spread << " n " << n << (predict ? " sine" : " walk"));
        const auto block = roundtrip_values(v);
        rice_blocks += codec_of(block) == ValueCodec::kDecimal && (block[2] == 3 || block[2] == 5);
      }
    }
  }
  EXPECT_GE(rice_blocks, 60) << "most of the 120 blocks should be Rice-coded, or this test tests little";
}

TEST(Codec, DamagedRiceStreamsGivePreciseErrors) {
  // Deltas 0, +1 and +2 (in tenths), first value 0: FOR would pay 2 bits for each.
  std::vector<double> v;
  std::mt19937_64 rng(4);
  int level = 0;
  for (int i = 0; i < 512; ++i) {
    const auto r = rng() % 16;
    level += r == 0 ? 2 : r < 3 ? 1 : 0;
    v.push_back(level / 10.0);
  }
  std::vector<std::uint8_t> block;
  encode_values(v, block);
  ASSERT_EQ(block[2], 3);
  std::vector<double> back(v.size());
  auto truncated = block;
  truncated.resize(block.size() - 2);
  Status s = decode_values(truncated, back);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("Rice bit stream ends early"), std::string::npos) << s.message();
  // The Rice parameter follows e, flags, the exception count (0) and the first value (1 byte: 0).
  auto bad_k = block;
  ASSERT_EQ(bad_k[3], 0);
  bad_k[5] = 63;
  s = decode_values(bad_k, back);
  EXPECT_NE(s.message().find("Rice parameter 63"), std::string::npos) << s.message();
  auto bad_flags = block;
  bad_flags[2] = 2;
  s = decode_values(bad_flags, back);
  EXPECT_NE(s.message().find("unknown decimal flags"), std::string::npos) << s.message();
}

TEST(Codec, StepStatesUseRunLengthOrConstant) {
  std::vector<double> v(1024, 0.0);
  for (int i = 300; i < 700; ++i) v[i] = 1.0;
  auto block = roundtrip_values(v);
  EXPECT_LE(block.size(), 40u);
  std::vector<double> c(1024, 42.5);
  block = roundtrip_values(c);
  EXPECT_EQ(codec_of(block), ValueCodec::kConstant);
  EXPECT_EQ(block.size(), 9u);
}

TEST(Codec, RandomDoublesRoundTripAndNeverExceedRaw) {
  std::mt19937_64 rng(2);
  std::vector<double> v;
  for (int i = 0; i < 1024; ++i) v.push_back(std::bit_cast<double>(rng()));
  const auto block = roundtrip_values(v);
  EXPECT_LE(block.size(), 1 + 1024u * 8);
  std::uniform_real_distribution<double> u(-1e3, 1e3);
  std::vector<double> w;
  for (int i = 0; i < 1024; ++i) w.push_back(u(rng));
  roundtrip_values(w);
}

TEST(Codec, Float32OriginValuesUseTheFloat32Path) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<double> v;
  double level = 20.0;
  for (int i = 0; i < 1024; ++i) {
    level += noise(rng);
    v.push_back(static_cast<double>(static_cast<float>(std::round(level * 10) / 10)));
  }
  const auto block = roundtrip_values(v);
  EXPECT_EQ(codec_of(block), ValueCodec::kFloat32Decimal);
  EXPECT_LT(block.size(), 1024u);
}

TEST(Codec, SpecialValuesRoundTripBitExactly) {
  const double qnan_payload = std::bit_cast<double>(0x7ff8'0000'dead'beefULL);
  const double snan = std::bit_cast<double>(0x7ff0'0000'0000'0001ULL);
  const double neg_nan = std::bit_cast<double>(0xfff8'0000'0000'0000ULL);
  std::vector<double> v;
  for (int i = 0; i < 1024; ++i) v.push_back(i * 0.25);
  v[3] = -0.0;
  v[10] = qnan_payload;
  v[11] = snan;
  v[12] = neg_nan;
  v[100] = std::numeric_limits<double>::infinity();
  v[101] = -std::numeric_limits<double>::infinity();
  v[200] = std::numeric_limits<double>::denorm_min();
  v[201] = std::numeric_limits<double>::max();
  roundtrip_values(v);
  for (ValueCodec c : {ValueCodec::kRle, ValueCodec::kDecimal, ValueCodec::kFloat32Decimal, ValueCodec::kXor,
                       ValueCodec::kRaw}) {
    std::vector<std::uint8_t> block;
    if (!encode_values_with(c, v, block)) continue;
    std::vector<double> back(v.size());
    ASSERT_TRUE(decode_values(block, back).is_ok()) << static_cast<int>(c);
    EXPECT_EQ(bits(back), bits(v)) << static_cast<int>(c);
  }
  roundtrip_values(std::vector<double>(5, -0.0));
  roundtrip_values(std::vector<double>(5, qnan_payload));
}

TEST(Codec, EmptyAndSingleSampleBlocks) {
  roundtrip_values({});
  roundtrip_values({3.25});
  roundtrip_values({-0.0});
  roundtrip_ts({});
  roundtrip_ts({1'704'067'200'000'000'000});
  std::vector<std::uint8_t> q;
  encode_quality({}, q);
  std::vector<std::uint32_t> none;
  EXPECT_TRUE(decode_quality(q, none).is_ok());
}

TEST(Codec, RegularTimestampsCostAFewBytesJitteredStayCompact) {
  std::vector<std::int64_t> t;
  for (int i = 0; i < 1024; ++i) t.push_back(1'704'067'200'000'000'000 + i * 10'000'000LL);
  auto block = roundtrip_ts(t);
  EXPECT_EQ(block[0], static_cast<std::uint8_t>(TsCodec::kGrid));
  EXPECT_LT(block.size(), 20u);
  t[500] += 3;  // one late sample: an exception, still on the grid path
  block = roundtrip_ts(t);
  EXPECT_EQ(block[0], static_cast<std::uint8_t>(TsCodec::kGrid));
  EXPECT_LT(block.size(), 30u);
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<int> jitter(-500, 500);
  for (int i = 0; i < 1024; ++i) t[i] = 1'704'067'200'000'000'000 + i * 10'000'000LL + jitter(rng) * 1000LL;
  block = roundtrip_ts(t);
  EXPECT_EQ(block[0], static_cast<std::uint8_t>(TsCodec::kDeltaFor));
  EXPECT_LT(block.size(), 1024u * 12 / 8 + 32);
  roundtrip_ts({std::numeric_limits<std::int64_t>::min(), -1, 0, std::numeric_limits<std::int64_t>::max()});
}

TEST(Codec, QualityRunLength) {
  std::vector<std::uint32_t> q(1024, 0);
  for (int i = 10; i < 20; ++i) q[i] = 0x80310000u;
  std::vector<std::uint8_t> block;
  encode_quality(q, block);
  EXPECT_LT(block.size(), 16u);
  std::vector<std::uint32_t> back(q.size());
  ASSERT_TRUE(decode_quality(block, back).is_ok());
  EXPECT_EQ(back, q);
}

TEST(Codec, DamagedBlocksGivePreciseErrors) {
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) v.push_back(i * 0.1);
  std::vector<std::uint8_t> block;
  encode_values(v, block);
  std::vector<double> back(v.size());
  auto truncated = block;
  truncated.resize(block.size() - 1);
  Status s = decode_values(truncated, back);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("value block"), std::string::npos) << s.message();
  block.push_back(0);
  s = decode_values(block, back);
  EXPECT_NE(s.message().find("trailing"), std::string::npos) << s.message();
  const std::vector<std::uint8_t> unknown = {0x7f};
  s = decode_values(unknown, back);
  EXPECT_NE(s.message().find("unknown value codec 127"), std::string::npos) << s.message();
  std::vector<double> more(v.size() + 1);  // wrong expected count
  block.pop_back();
  EXPECT_FALSE(decode_values(block, more).is_ok());
}

// RW-10M's vibration: a fast sine under noise, quantised to 0.001. Deltas leave the sine's slope
// (about 11 bits a sample); the order-2 predictor leaves the noise alone.
TEST(Codec, NoisyOscillationUsesThePredictor) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> v;
  double phase = 1.0;
  for (int i = 0; i < 1024; ++i) {
    phase += 0.3;
    v.push_back(std::round((std::sin(phase) * 2.5 + g(rng) * 0.05) * 1000) / 1000);
  }
  v[100] = NAN;  // an exception inside the prediction
  const auto block = roundtrip_values(v);
  ASSERT_EQ(codec_of(block), ValueCodec::kDecimal);
  EXPECT_EQ(block[2], 5) << "flags: predictor + Rice";
  EXPECT_LT(block.size(), 1024u * 10 / 8) << "expected under 10 bits per value";
}

// The encoder chooses from a sample and from computed sizes; the old one built every candidate.
// The choice must cost next to nothing in size.
TEST(Codec, SampledChoiceStaysWithinOnePercentOfBuildingEveryCandidate) {
  std::mt19937_64 rng(6);
  std::normal_distribution<double> g(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::vector<double>> blocks(6);
  double temp = 40, press = 5, count = 1000;
  for (int i = 0; i < 1024; ++i) {
    blocks[0].push_back(std::round((temp += g(rng) * 0.02) * 10) / 10);
    blocks[1].push_back(std::round((press += g(rng) * 0.005) * 100) / 100);
    blocks[2].push_back(std::round((std::sin(i * 0.3) * 2.5 + g(rng) * 0.05) * 1000) / 1000);
    blocks[3].push_back(count += u(rng) < 0.3);
    blocks[4].push_back(static_cast<float>(40 + 10 * std::sin(i / 20.0) + 0.5 * g(rng)));
    blocks[5].push_back(100 * std::sin(i / 7.0) + 0.01 * g(rng));
  }
  for (const auto& v : blocks) {
    std::vector<std::uint8_t> chosen, exhaustive;
    encode_values(v, chosen);
    encode_values_exhaustive(v, exhaustive);
    EXPECT_LE(chosen.size(), exhaustive.size() + exhaustive.size() / 100 + 4)
        << "codec " << int(chosen[0]) << " vs " << int(exhaustive[0]);
    roundtrip_values(v);
  }
}

TEST(Codec, DamagedPredictorBlocksGivePreciseErrors) {
  std::vector<double> v;
  for (int i = 0; i < 64; ++i) v.push_back(std::round(std::sin(i * 0.3) * 2500 + (i * 37 % 11)) / 1000);
  std::vector<std::uint8_t> block;
  encode_values(v, block);
  ASSERT_EQ(block[2], 5);
  std::vector<double> out(v.size());
  auto cut = block;
  cut.resize(cut.size() - 3);
  EXPECT_FALSE(decode_values(cut, out).is_ok());
  // Taps far outside ±16 (the first svarint after "first"): 0xff.. makes a huge tap.
  auto bad = block;
  std::size_t at = 4;  // codec, e, flags, 0 exceptions
  while (bad[at] & 0x80) ++at;  // skip "first"
  ++at;
  bad.insert(bad.begin() + static_cast<std::ptrdiff_t>(at), {0xff, 0xff, 0xff, 0x7f});
  const Status s = decode_values(bad, out);
  EXPECT_FALSE(s.is_ok());
}

TEST(ChunkFormat, FileRoundTripAndCorruptionIsDetected) {
  std::vector<TimestampNs> ts;
  std::vector<double> vals;
  std::vector<std::uint32_t> q;
  for (int i = 0; i < 1024; ++i) {
    ts.push_back(1000 + i * 10);
    vals.push_back(i % 7 == 0 ? NAN : i * 0.5);
    q.push_back(0);
  }
  std::vector<std::uint8_t> c1, c2;
  encode_chunk(7, ts, vals, q, c1);
  encode_chunk(9, std::span(ts).first(3), std::span(vals).subspan(1, 3), std::span(q).first(3), c2);
  ChunkFileBuilder b(0, 3'600'000'000'000);
  b.add(7, c1);
  b.add(9, c2);
  const auto file = b.finish();
  auto info = parse_chunk_file(file);
  ASSERT_TRUE(info) << info.error().to_string();
  ASSERT_EQ(info->index.size(), 2u);
  auto chunks = chunks_of(file, info->index[0]);
  ASSERT_TRUE(chunks);
  const ChunkHeader& h = (*chunks)[0].header;
  EXPECT_EQ(h.count, 1024);
  EXPECT_EQ(h.value_count, 1024 - 147);
  EXPECT_EQ(h.t_min, 1000);
  EXPECT_EQ(h.t_max, 1000 + 1023 * 10);
  EXPECT_EQ(h.min, 0.5);
  EXPECT_EQ(h.max, 1023 * 0.5);
  EXPECT_TRUE(std::isnan(h.first));
  ChunkColumns cols;
  ASSERT_TRUE(decode_chunk((*chunks)[0], cols).is_ok());
  EXPECT_EQ(cols.ts, ts);
  EXPECT_EQ(bits(cols.values), bits(vals));
  for (std::size_t at : {std::size_t{40}, std::size_t{200}, file.size() - 60, file.size() - 5}) {
    auto bad = file;
    bad[at] ^= 0x10;
    EXPECT_FALSE(parse_chunk_file(bad)) << "flip at " << at;
  }
}

}  // namespace
}  // namespace resonance::historian::codec

// Writes the fuzz seed corpus (tests/fuzz/historian_chunk/corpus) when RESONANCE_WRITE_FUZZ_SEEDS
// names a directory; otherwise does nothing. Run once after a format change.
#include <cstdlib>
#include <fstream>
namespace resonance::historian::codec {
namespace {
TEST(Codec, DISABLED_WriteFuzzSeedsWhenAsked) {
  const char* dir = std::getenv("RESONANCE_WRITE_FUZZ_SEEDS");
  // A tool, run by hand with --gtest_also_run_disabled_tests to refresh the fuzz corpus.
  ASSERT_NE(dir, nullptr) << "set RESONANCE_WRITE_FUZZ_SEEDS=<dir> to write seeds";
  int k = 0;
  auto emit = [&](std::uint8_t target, std::size_t n, const std::vector<std::uint8_t>& body) {
    std::vector<std::uint8_t> f = {target, static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8)};
    if (target == 3) f = {3};
    f.insert(f.end(), body.begin(), body.end());
    // seed_<k> were written before chunk format 2 and stay in the corpus as version 1 inputs.
    std::ofstream(std::string(dir) + "/seed_v2_" + std::to_string(k++), std::ios::binary)
        .write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  };
  std::mt19937_64 rng(9);
  std::vector<double> dec, f32, rnd, vib, states(300, 0.0);
  std::vector<std::int64_t> grid, jit;
  for (int i = 0; i < 300; ++i) {
    dec.push_back(std::round((5 + std::sin(i * 0.01)) * 100) / 100);
    f32.push_back(static_cast<float>(20 + i * 0.1));
    rnd.push_back(std::bit_cast<double>(rng()) * 0 + static_cast<double>(rng()) / 3.0);
    grid.push_back(1'000'000'000 + i * 10'000'000LL);
    jit.push_back(1'000'000'000 + i * 10'000'000LL + static_cast<std::int64_t>(rng() % 1000) * 1000);
    if (i > 100) states[i] = 1;
    vib.push_back(std::round((std::sin(i * 0.3) * 2.5 + static_cast<double>(rng() % 100) / 1000) * 1000) / 1000);
  }
  dec[7] = NAN;
  dec[8] = -0.0;
  for (ValueCodec c : {ValueCodec::kConstant, ValueCodec::kRle, ValueCodec::kDecimal, ValueCodec::kFloat32Decimal,
                       ValueCodec::kXor, ValueCodec::kRaw})
    for (const auto* v : {&dec, &f32, &rnd, &states, &vib}) {
      std::vector<std::uint8_t> b;
      if (encode_values_with(c, *v, b)) emit(1, v->size(), b);
    }
  for (const auto* t : {&grid, &jit}) {
    std::vector<std::uint8_t> b;
    encode_timestamps(*t, b);
    emit(0, t->size(), b);
  }
  std::vector<std::uint32_t> q(300, 0);
  q[5] = 0x80000000u;
  std::vector<std::uint8_t> qb;
  encode_quality(q, qb);
  emit(2, q.size(), qb);
  ChunkFileBuilder fb(0, 3'600'000'000'000);
  std::vector<std::uint8_t> c1, c2;
  encode_chunk(1, grid, dec, q, c1);
  encode_chunk(2, jit, states, q, c2);
  std::vector<std::uint8_t> c3;
  encode_chunk(3, grid, vib, q, c3);
  fb.add(1, c1);
  fb.add(2, c2);
  fb.add(3, c3);
  emit(3, 0, fb.finish());
  ChunkFileBuilder v1(0, 3'600'000'000'000, kChunkFormatVersionV1);
  std::vector<std::uint8_t> o1;
  encode_chunk_v1(1, grid, dec, q, o1);
  v1.add(1, o1);
  emit(3, 0, v1.finish());
}
}  // namespace
}  // namespace resonance::historian::codec
