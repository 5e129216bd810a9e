#include "connectors/mqttsn/payload.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

namespace resonance::mqttsn {
namespace {

constexpr std::size_t kSingleSampleBytes = 21;  // tag(1) ts_ns(8) value(8) quality(4)

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_be(std::span<const std::uint8_t> in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  return v;
}

}  // namespace

std::vector<std::uint8_t> encode_single_sample(const PayloadSample& sample) {
  std::vector<std::uint8_t> out;
  out.reserve(kSingleSampleBytes);
  out.push_back(kPayloadSingleSample);
  put_be(out, static_cast<std::uint64_t>(sample.ts_ns), 8);
  // The value travels as its IEEE 754 bit pattern, so NaN payloads and -0.0 survive unchanged.
  put_be(out, std::bit_cast<std::uint64_t>(sample.value), 8);
  put_be(out, sample.quality.code, 4);
  return out;
}

Result<std::vector<PayloadSample>> decode_payload(std::span<const std::uint8_t> bytes) {
  if (bytes.empty())
    return error(StatusCode::kInvalidArgument, "payload: empty, expected a format tag at offset 0");
  if (bytes[0] != kPayloadSingleSample)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("payload: unknown format tag 0x{:02x} at offset 0 (supported: 0x01 single sample)",
                             bytes[0]));
  if (bytes.size() != kSingleSampleBytes)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("payload: {} bytes, single sample needs {}", bytes.size(), kSingleSampleBytes));
  PayloadSample s;
  s.ts_ns = static_cast<TimestampNs>(get_be(bytes, 1, 8));
  s.value = std::bit_cast<double>(get_be(bytes, 9, 8));
  s.quality.code = static_cast<std::uint32_t>(get_be(bytes, 17, 4));
  return std::vector<PayloadSample>{s};
}

}  // namespace resonance::mqttsn
