// The device payload format (docs/formats/mqttsn-payload.md).

#include "connectors/mqttsn/payload.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

namespace resonance::mqttsn {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(MqttsnPayload, SpecExampleBytes) {
  // The example in docs/formats/mqttsn-payload.md: 2026-01-01T00:00:00Z, 21.5, Good.
  const PayloadSample s{.ts_ns = 1'767'225'600'000'000'000, .value = 21.5, .quality = {}};
  const Bytes expected = {0x01, 0x18, 0x86, 0x72, 0x51, 0xed, 0xfa, 0x00, 0x00, 0x40, 0x35, 0x80,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(encode_single_sample(s), expected);
  auto decoded = decode_payload(expected);
  ASSERT_TRUE(decoded) << decoded.error().message();
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ((*decoded)[0], s);
}

TEST(MqttsnPayload, RoundTripKeepsEveryField) {
  const PayloadSample s{.ts_ns = -5, .value = -0.0, .quality = {Quality::kUncertainLastUsable}};
  auto decoded = decode_payload(encode_single_sample(s));
  ASSERT_TRUE(decoded);
  EXPECT_EQ((*decoded)[0].ts_ns, -5);
  EXPECT_TRUE(std::signbit((*decoded)[0].value));
  EXPECT_EQ((*decoded)[0].quality.code, 0x40900000u);
}

TEST(MqttsnPayload, NanBitsSurvive) {
  const std::uint64_t bits = 0x7ff8'0000'0000'0123ULL;  // a quiet NaN with a payload
  const PayloadSample s{.ts_ns = 1, .value = std::bit_cast<double>(bits), .quality = {Quality::kBad}};
  const Bytes wire = encode_single_sample(s);
  EXPECT_EQ(Bytes(wire.begin() + 9, wire.begin() + 17),
            (Bytes{0x7f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x23}));
  auto decoded = decode_payload(wire);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::bit_cast<std::uint64_t>((*decoded)[0].value), bits);
}

TEST(MqttsnPayload, ErrorsNameOffsetAndExpectation) {
  auto empty = decode_payload({});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "payload: empty, expected a format tag at offset 0");
  const Bytes json = {'{', '}'};
  auto tag = decode_payload(json);
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().message(),
            "payload: unknown format tag 0x7b at offset 0 (supported: 0x01 single sample)");
  Bytes shorter(12, 0);
  shorter[0] = kPayloadSingleSample;
  auto size = decode_payload(shorter);
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(size.error().message(), "payload: 12 bytes, single sample needs 21");
  Bytes longer = encode_single_sample({});
  longer.push_back(0);
  EXPECT_EQ(decode_payload(longer).error().message(), "payload: 22 bytes, single sample needs 21");
}

}  // namespace
}  // namespace resonance::mqttsn
