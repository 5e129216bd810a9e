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
  const Bytes unknown = {0x7f, 0x00};
  auto tag = decode_payload(unknown);
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().message(),
            "payload: unknown format tag 0x7f at offset 0 (supported: 0x01 single sample, 0x02 batch, "
            "0x03 multi-signal, '{' JSON)");
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

// ---- v2: batch (0x02) ----

Bytes hex(std::string_view text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size();) {
    if (text[i] == ' ') { ++i; continue; }
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

constexpr TimestampNs kT0 = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

TEST(MqttsnPayloadBatch, SpecExampleBytes) {
  // docs/formats/mqttsn-payload.md, "Tag 0x02 example": three samples 1 s apart, ms deltas,
  // per-sample quality, float64 values.
  const std::vector<PayloadSample> samples = {
      {kT0, 21.5, {}}, {kT0 + 1'000'000'000, 21.75, {}}, {kT0 + 2'000'000'000, 22.0, {Quality::kUncertain}}};
  const BatchEncoding enc{.per_sample_quality = true, .float32_values = false, .delta_unit = DeltaUnit::kMillis};
  const Bytes expected = hex(
      "02 09 18 86 72 51 ed fa 00 00 03"
      " 00 40 35 80 00 00 00 00 00 00 00"
      " e8 07 40 35 c0 00 00 00 00 00 00 00"
      " e8 07 40 36 00 00 00 00 00 00 40 00");
  auto wire = encode_batch(samples, enc);
  ASSERT_TRUE(wire) << wire.error().message();
  EXPECT_EQ(*wire, expected);
  auto decoded = decode_payload(expected);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(*decoded, samples);
  auto any = decode_any_payload(expected);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->format, PayloadFormat::kBatch);
  EXPECT_EQ(any->encoding.delta_unit, DeltaUnit::kMillis);
}

TEST(MqttsnPayloadBatch, RoundTripEveryEncoding) {
  const std::vector<PayloadSample> samples = {
      {-3'000'000'000, -0.5, {}}, {-3'000'000'000, 1.0, {}}, {9'000'000'000, 1e300, {}}};
  for (int unit = 0; unit < 4; ++unit)
    for (bool q : {false, true}) {
      const BatchEncoding enc{.per_sample_quality = q, .float32_values = false,
                              .delta_unit = static_cast<DeltaUnit>(unit)};
      auto wire = encode_batch(samples, enc);
      ASSERT_TRUE(wire) << unit << " " << wire.error().message();
      auto back = decode_payload(*wire);
      ASSERT_TRUE(back) << back.error().message();
      EXPECT_EQ(*back, samples);
    }
  // float32 keeps values that are exact in binary32.
  auto wire = encode_batch(std::vector<PayloadSample>{{5, 0.25, {}}, {7, -2.0, {Quality::kBad}}},
                           {.per_sample_quality = true, .float32_values = true});
  ASSERT_TRUE(wire);
  EXPECT_EQ(wire->size(), 11u + 2 * (1 + 4 + 2));
  auto back = decode_payload(*wire);
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)[1], (PayloadSample{7, -2.0, {Quality::kBad}}));
}

TEST(MqttsnPayloadBatch, ExtremeTimestampsAreExact) {
  const TimestampNs lo = std::numeric_limits<TimestampNs>::min();
  const TimestampNs hi = std::numeric_limits<TimestampNs>::max();
  const std::vector<PayloadSample> samples = {{lo, 1, {}}, {hi, 2, {}}};
  auto wire = encode_batch(samples);
  ASSERT_TRUE(wire);
  auto back = decode_payload(*wire);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, samples);
}

TEST(MqttsnPayloadBatch, EncoderRefusesWhatItCannotRepresent) {
  EXPECT_FALSE(encode_batch({}));
  EXPECT_FALSE(encode_batch(std::vector<PayloadSample>{{10, 1, {}}, {9, 1, {}}}));  // decreasing
  EXPECT_FALSE(encode_batch(std::vector<PayloadSample>{{0, 1, {}}, {1500, 1, {}}},
                            {.delta_unit = DeltaUnit::kMicros}));  // not whole µs
  EXPECT_FALSE(encode_batch(std::vector<PayloadSample>{{0, 1, {0x80310001}}}));  // low bits
  EXPECT_FALSE(encode_batch(std::vector<PayloadSample>{{0, 1, {Quality::kBad}}},
                            {.per_sample_quality = false}));
}

std::string batch_error(const Bytes& b) {
  auto r = decode_payload(b);
  return r ? std::string("(decoded)") : r.error().message();
}

TEST(MqttsnPayloadBatch, ErrorsNameTheOffset) {
  EXPECT_EQ(batch_error(hex("02")), "payload (batch): flags at offset 1 needs 1 bytes, 0 left");
  EXPECT_EQ(batch_error(hex("02 10 00 00 00 00 00 00 00 00 01")),
            "payload (batch): flags 0x10 set reserved bits 4-7 at offset 1");
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 00")),
            "payload (batch): count 0 must be 1..16384 at offset 10");
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 80 01")),
            "payload (batch): count 128 needs at least 1152 bytes of entries, 0 left at offset 10");
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 01 80")),
            "payload (batch): count 1 needs at least 9 bytes of entries, 1 left at offset 10");
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 01 80 80 80 80 80 80 80 80 80")),
            "payload (batch): delta varint at offset 11 is cut off at the end of the payload");
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 01 80 00 00 00 00 00 00 00 00 00")),
            "payload (batch): delta varint at offset 11 is not minimal (trailing 0x00)");
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 ff")),
            "payload (batch): 1 bytes after the last of 1 entries at offset 20");
  // base = INT64_MAX - 0, delta 1 ns overflows.
  EXPECT_EQ(batch_error(hex("02 00 7f ff ff ff ff ff ff ff 02 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00")),
            "payload (batch): entry 1: delta 1 overflows the timestamp (past year 2262) at offset 20");
  // Found by libFuzzer: a first delta other than 0 would give one batch two encodings.
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 01 80 2b 00 00 00 00 00 00 00 00")),
            "payload (batch): entry 0: delta 5504 must be 0 (base_ts_ns is the first entry's time) at offset 11");
  EXPECT_EQ(batch_error(hex("02 00 00 00 00 00 00 00 00 00 01 ff ff ff ff ff ff ff ff ff 02 00 00 00 00 00 00 00 00")),
            "payload (batch): delta varint at offset 11 exceeds 64 bits");
}

// ---- v2: multi-signal (0x03) ----

TEST(MqttsnPayloadMulti, SpecExampleBytes) {
  // docs/formats/mqttsn-payload.md, "Tag 0x03 example": two signals, float32, no quality, ms.
  const std::vector<SignalSamples> signals = {
      {"temperature", {{kT0, 21.5, {}}, {kT0 + 500'000'000, 21.75, {}}}},
      {"spindle.speed", {{kT0, 1200.0, {}}}}};
  const BatchEncoding enc{.per_sample_quality = false, .float32_values = true, .delta_unit = DeltaUnit::kMillis};
  const Bytes expected = hex(
      "03 0a 18 86 72 51 ed fa 00 00 02"
      " 0b 74 65 6d 70 65 72 61 74 75 72 65"
      " 0d 73 70 69 6e 64 6c 65 2e 73 70 65 65 64"
      " 03"
      " 00 00 41 ac 00 00"
      " 01 00 44 96 00 00"
      " 00 f4 03 41 ae 00 00");
  auto wire = encode_multi_signal(signals, enc);
  ASSERT_TRUE(wire) << wire.error().message();
  EXPECT_EQ(*wire, expected);
  EXPECT_EQ(wire->size(), 57u);
  auto decoded = decode_any_payload(expected);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->format, PayloadFormat::kMultiSignal);
  EXPECT_EQ(decoded->signals, signals);
  // The single-series API refuses it: the samples belong to other series.
  auto single = decode_payload(expected);
  ASSERT_FALSE(single);
  EXPECT_NE(single.error().message().find("path prefix"), std::string::npos);
}

TEST(MqttsnPayloadMulti, Errors) {
  auto err = [](std::string_view h) {
    auto r = decode_any_payload(hex(h));
    return r ? std::string("(decoded)") : r.error().message();
  };
  EXPECT_EQ(err("03 00 00 00 00 00 00 00 00 00 00"),
            "payload (multi-signal): signal count 0, must be 1..255 at offset 10");
  EXPECT_EQ(err("03 00 00 00 00 00 00 00 00 00 01 02 61 20"),
            "payload (multi-signal): signal 0: byte 0x20 in the suffix, expected [A-Za-z0-9_.-/] at offset 13");
  EXPECT_EQ(err("03 00 00 00 00 00 00 00 00 00 02 01 61 01 61 01"),
            "payload (multi-signal): signal 1: suffix 'a' repeats signal 0 at offset 13");
  EXPECT_EQ(err("03 00 00 00 00 00 00 00 00 00 01 01 61 01 05 00 00 00 00 00 00 00 00 00"),
            "payload (multi-signal): entry 0: signal index 5 but the table has 1 signals at offset 14");
  EXPECT_EQ(err("03 00 00 00 00 00 00 00 00 00 02 01 61 01 62 01 00 00 00 00 00 00 00 00 00 00"),
            "payload (multi-signal): signal 1 ('b') has no entries");
}

TEST(MqttsnPayloadMulti, SignalSeriesPath) {
  auto p = signal_series_path("plant1/press/line2/p7", "temperature");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "plant1/press/line2/p7/temperature");
  EXPECT_EQ(*signal_series_path("plant1/press/line2", "p7/temperature"), "plant1/press/line2/p7/temperature");
  EXPECT_FALSE(signal_series_path("plant1/press/line2/p7/temperature", "x"));  // six segments
  EXPECT_FALSE(signal_series_path("plant1/press/line2/p7", "a//b"));
}

// ---- v2: JSON ----

Result<DecodedPayload> json(std::string_view text) {
  return decode_any_payload(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

TEST(MqttsnPayloadJson, SingleSampleForms) {
  auto a = json(R"({"ts":"2026-01-01T00:00:00Z","v":21.5})");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->format, PayloadFormat::kJson);
  ASSERT_EQ(a->samples.size(), 1u);
  EXPECT_EQ(a->samples[0], (PayloadSample{kT0, 21.5, {}}));
  auto b = json("{\n \"v\": -1e3, \"q\": \"bad\", \"ts\": 1767225600000000001 } ");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->samples[0], (PayloadSample{kT0 + 1, -1000.0, {Quality::kBad}}));
  auto c = json(R"({"ts":0,"v":true,"q":1083179008})");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->samples[0], (PayloadSample{0, 1.0, {Quality::kUncertainLastUsable}}));
  // The single-series API sees the same samples.
  const std::string_view text = R"({"samples":[{"ts":1,"v":1},{"ts":2,"v":2,"q":"uncertain"}]})";
  auto d = decode_payload(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, (std::vector<PayloadSample>{{1, 1, {}}, {2, 2, {Quality::kUncertain}}}));
}

TEST(MqttsnPayloadJson, Signals) {
  auto r = json(R"({"signals":{"temperature":{"ts":1,"v":20},"spindle.speed":[{"ts":1,"v":1200},{"ts":2,"v":1210}]}})");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->signals.size(), 2u);
  EXPECT_EQ(r->signals[0].suffix, "temperature");
  EXPECT_EQ(r->signals[1].samples.size(), 2u);
  EXPECT_TRUE(r->is_multi_signal());
}

TEST(MqttsnPayloadJson, ErrorsNamePointerAndOffset) {
  auto err = [](std::string_view text) {
    auto r = json(text);
    return r ? std::string("(decoded)") : r.error().message();
  };
  EXPECT_EQ(err(R"({"ts":1})"), "payload (JSON) at the top level (offset 0): missing \"v\"");
  EXPECT_EQ(err(R"({"samples":[{"ts":1,"v":1},{"ts":2,"v":"x"}]})"),
            "payload (JSON) at /samples/1/v (offset 39): expected a number or a boolean, found a string");
  EXPECT_EQ(err(R"({"ts":"yesterday","v":1})"),
            "payload (JSON) at /ts (offset 6): expected an RFC 3339 time like \"2026-11-21T10:00:00Z\", found "
            "\"yesterday\"");
  EXPECT_EQ(err(R"({"ts":1.5,"v":1})"),
            "payload (JSON) at /ts (offset 6): expected an integer of ns since 1970 within int64, found 1.5");
  EXPECT_EQ(err(R"({"ts":1,"v":1,"unit":"C"})"),
            "payload (JSON) at /unit (offset 21): unknown key; a sample has \"ts\", \"v\" and optionally \"q\"");
  EXPECT_EQ(err(R"({"ts":1,"v":1,"q":"meh"})"),
            "payload (JSON) at /q (offset 18): expected \"good\", \"uncertain\" or \"bad\", found \"meh\"");
  EXPECT_EQ(err(R"({"ts":1,"v":1e999})"),
            "payload (JSON) at /v (offset 12): number 1e999 is out of the binary64 range");
  EXPECT_EQ(err(R"({"ts":1,"v":1,})"), "payload (JSON): expected a '\"' starting a key at offset 14, found '}'");
  EXPECT_EQ(err(R"({"ts":1,"ts":2,"v":1})"), "payload (JSON): key \"ts\" at offset 8 repeats an earlier key");
  EXPECT_EQ(err(R"({"samples":[]})"), "payload (JSON) at /samples (offset 11): empty array; at least one sample");
  EXPECT_EQ(err(R"({"signals":{"a b":{"ts":1,"v":1}}})"),
            "payload (JSON) at /signals/a b (offset 18): signal suffix must be 1..128 bytes of [A-Za-z0-9_.-/]");
  EXPECT_EQ(err(R"({"samples":[{"ts":1,"v":1}],"x":1})"),
            "payload (JSON) at the top level (offset 0): a batch object has exactly one key, \"samples\" or \"signals\"");
  EXPECT_EQ(err("{\"ts\":1,\"v\":01}"), "payload (JSON): expected ',' or '}' at offset 13, found '1'");
  EXPECT_EQ(err(R"({"ts":1,"v":1})" " x"), "payload (JSON): expected end of the document at offset 15, found 'x'");
  EXPECT_EQ(err("[1]"), "payload: unknown format tag 0x5b at offset 0 (supported: 0x01 single sample, "
                       "0x02 batch, 0x03 multi-signal, '{' JSON)");
  EXPECT_EQ(err(std::string(200, '[').insert(0, "{\"ts\":")), "payload (JSON): nesting deeper than 8 at offset 14");
}

}  // namespace
}  // namespace resonance::mqttsn
