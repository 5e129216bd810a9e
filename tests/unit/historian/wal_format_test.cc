#include "historian/wal_format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "historian/crc32c.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::bit_equal;
using testing::make_batch;

SampleBatch odd_batch() {
  SampleBatch b = make_batch(7, 1'700'000'000'000'000'000, 3, 1.5);
  b.samples[0].value = std::bit_cast<double>(std::uint64_t{0x7FF8'0000'DEAD'BEEF});  // NaN payload
  b.samples[1].value = -0.0;
  b.samples[2].value = -std::numeric_limits<double>::infinity();
  b.samples[2].ts_ns = -5;  // before the epoch: still a valid int64
  b.samples[2].quality = Quality{Quality::kBadNoCommunication};
  b.provenance.transformations = {"validate", "", "govern"};
  b.provenance.client_id = std::string("dev\0ice", 7);
  return b;
}

TEST(HistorianWalFormat, RoundTripIsBitExact) {
  const SampleBatch in = odd_batch();
  std::vector<std::uint8_t> bytes;
  encode_record(42, in, bytes);
  ASSERT_EQ(bytes.size(), encoded_record_size(in));
  auto out = decode_record(bytes);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(out->framed_bytes, bytes.size());
  EXPECT_EQ(out->record.sequence, 42u);
  const Provenance& p = out->record.batch.provenance;
  EXPECT_EQ(p.connector, in.provenance.connector);
  EXPECT_EQ(p.client_id, in.provenance.client_id);
  EXPECT_EQ(p.receive_ts_ns, in.provenance.receive_ts_ns);
  EXPECT_EQ(p.transformations, in.provenance.transformations);
  ASSERT_EQ(out->record.batch.samples.size(), in.samples.size());
  for (std::size_t i = 0; i < in.samples.size(); ++i)
    EXPECT_TRUE(bit_equal(out->record.batch.samples[i], in.samples[i])) << i;
  EXPECT_TRUE(std::signbit(out->record.batch.samples[1].value));
}

TEST(HistorianWalFormat, EveryShortPrefixIsTornNotCorrupt) {
  std::vector<std::uint8_t> bytes;
  encode_record(1, odd_batch(), bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto out = decode_record(std::span<const std::uint8_t>(bytes).first(n));
    ASSERT_FALSE(out) << n;
    // A prefix that cuts the length field itself can read as an implausible length.
    if (n >= kFrameHeaderBytes) {
      EXPECT_EQ(out.error().code(), StatusCode::kOutOfRange) << n;
    }
  }
}

TEST(HistorianWalFormat, EveryBitFlipIsDetected) {
  std::vector<std::uint8_t> bytes;
  encode_record(9, odd_batch(), bytes);
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    auto copy = bytes;
    copy[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    auto out = decode_record(copy);
    EXPECT_FALSE(out) << "bit " << bit;
  }
}

TEST(HistorianWalFormat, ScanStopsAtFirstBadRecordAndChecksSequence) {
  std::vector<std::uint8_t> seg;
  std::vector<std::size_t> starts;
  for (std::uint64_t seq = 5; seq < 9; ++seq) {
    starts.push_back(seg.size());
    encode_record(seq, make_batch(1, static_cast<TimestampNs>(seq * 10), 2), seg);
  }
  std::vector<std::uint64_t> seen;
  auto clean = scan_segment(seg, 5, [&](WalRecord&& r) { seen.push_back(r.sequence); });
  EXPECT_EQ(clean.stop, ScanStop::kCleanEnd);
  EXPECT_EQ(clean.valid_bytes, seg.size());
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{5, 6, 7, 8}));
  EXPECT_EQ(clean.samples, 8u);

  auto wrong_start = scan_segment(seg, 4, {});
  EXPECT_EQ(wrong_start.stop, ScanStop::kCorrupt);
  EXPECT_EQ(wrong_start.valid_bytes, 0u);

  auto flipped = seg;
  flipped[starts[2] + 20] ^= 0x10;
  auto bad = scan_segment(flipped, std::nullopt, {});
  EXPECT_EQ(bad.stop, ScanStop::kCorrupt);
  EXPECT_EQ(bad.valid_bytes, starts[2]);
  EXPECT_EQ(bad.records, 2u);
  EXPECT_EQ(bad.last_sequence, 6u);
  EXPECT_NE(bad.reason.find("checksum"), std::string::npos) << bad.reason;

  auto zero_tail = seg;
  zero_tail.resize(seg.size() + 4096, 0);
  auto zt = scan_segment(zero_tail, std::nullopt, {});
  EXPECT_EQ(zt.stop, ScanStop::kTornTail);
  EXPECT_EQ(zt.valid_bytes, seg.size());
}

// Rewrites the CRC so that only the structural checks stand between the bytes and the decoder.
void reseal(std::vector<std::uint8_t>& frame) {
  const std::span<const std::uint8_t> all(frame);
  const std::uint32_t crc = crc32c_extend(crc32c(all.first(4)), all.subspan(kFrameHeaderBytes));
  for (int i = 0; i < 4; ++i) frame[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
}

TEST(HistorianWalFormat, StructuralErrorsBehindAValidChecksumAreCorruption) {
  std::vector<std::uint8_t> bytes;
  encode_record(1, make_batch(1, 1, 1), bytes);
  // Offset of the transformation count: header, version+type, sequence, "test", "client-1", receive_ts.
  const std::size_t at = kFrameHeaderBytes + 2 + 8 + (4 + 4) + (4 + 8) + 8;
  {
    auto hostile = bytes;  // 2^32-1 transformations must not make the decoder reserve gigabytes
    for (int i = 0; i < 4; ++i) hostile[at + static_cast<std::size_t>(i)] = 0xFF;
    reseal(hostile);
    auto out = decode_record(hostile);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code(), StatusCode::kCorruption);
    EXPECT_NE(out.error().message().find("transformation count"), std::string::npos) << out.error().message();
  }
  {
    auto version = bytes;
    version[kFrameHeaderBytes] = 2;
    reseal(version);
    auto out = decode_record(version);
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().message().find("version 2"), std::string::npos) << out.error().message();
  }
  {
    auto count = bytes;  // sample count 2 with bytes for 1
    count[at + 4] = 2;
    reseal(count);
    auto out = decode_record(count);
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().message().find("sample count 2"), std::string::npos) << out.error().message();
  }
  reseal(bytes);
  EXPECT_TRUE(decode_record(bytes));  // the helper itself is right
}

}  // namespace
}  // namespace resonance::historian
