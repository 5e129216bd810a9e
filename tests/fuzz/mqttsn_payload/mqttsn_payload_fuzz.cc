// Fuzzes the device payload decoder (every form: 0x01, 0x02, 0x03, JSON). A decoded binary
// payload must re-encode: 0x01 and 0x02 (float64) to the input bytes exactly, 0x03 to a payload
// that decodes to the same signals (entries are re-ordered by time, so bytes may differ). Values
// are compared as IEEE 754 bits so NaN payloads count; binary32 NaNs are skipped (converting a
// signalling NaN to binary64 quiets it). Errors must say something.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "connectors/mqttsn/payload.h"

namespace {
using namespace resonance::mqttsn;

bool same_bits(const PayloadSample& a, const PayloadSample& b, bool f32) {
  if (a.ts_ns != b.ts_ns || a.quality != b.quality) return false;
  if (f32 && a.value != a.value) return b.value != b.value;
  return std::bit_cast<std::uint64_t>(a.value) == std::bit_cast<std::uint64_t>(b.value);
}

bool same_samples(const std::vector<PayloadSample>& a, const std::vector<PayloadSample>& b, bool f32) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same_bits(a[i], b[i], f32)) return false;
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  auto decoded = decode_any_payload(input);
  auto single = decode_payload(input);
  if (!decoded) {
    if (decoded.error().message().empty() || single) std::abort();
    return 0;
  }
  if (decoded->is_multi_signal() == static_cast<bool>(single)) std::abort();
  const bool f32 = decoded->encoding.float32_values;
  switch (decoded->format) {
    case PayloadFormat::kSingleSample: {
      const auto encoded = encode_single_sample(decoded->samples.at(0));
      if (!std::equal(encoded.begin(), encoded.end(), input.begin(), input.end())) std::abort();
      break;
    }
    case PayloadFormat::kBatch: {
      auto encoded = encode_batch(decoded->samples, decoded->encoding);
      if (!encoded) std::abort();
      if (!f32 && !std::equal(encoded->begin(), encoded->end(), input.begin(), input.end())) std::abort();
      auto again = decode_payload(*encoded);
      if (!again || !same_samples(*again, decoded->samples, f32)) std::abort();
      break;
    }
    case PayloadFormat::kMultiSignal: {
      auto encoded = encode_multi_signal(decoded->signals, decoded->encoding);
      if (!encoded) std::abort();
      auto again = decode_any_payload(*encoded);
      if (!again || again->signals.size() != decoded->signals.size()) std::abort();
      for (std::size_t i = 0; i < again->signals.size(); ++i)
        if (again->signals[i].suffix != decoded->signals[i].suffix ||
            !same_samples(again->signals[i].samples, decoded->signals[i].samples, f32))
          std::abort();
      break;
    }
    case PayloadFormat::kJson: {
      std::size_t total = decoded->samples.size();
      for (const auto& s : decoded->signals) total += s.samples.size();
      if (total == 0 || total > kMaxPayloadSamples) std::abort();
      break;
    }
  }
  return 0;
}
