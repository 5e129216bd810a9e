// Fuzzes the device payload decoder. A decoded payload must re-encode to the input bytes (values
// compared as IEEE 754 bits, so NaN payloads count) and decode again to the same bits.

#include <bit>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "connectors/mqttsn/payload.h"

namespace {
bool same_bits(const resonance::mqttsn::PayloadSample& a, const resonance::mqttsn::PayloadSample& b) {
  return a.ts_ns == b.ts_ns && a.quality == b.quality &&
         std::bit_cast<std::uint64_t>(a.value) == std::bit_cast<std::uint64_t>(b.value);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::mqttsn;
  const std::span<const std::uint8_t> input(data, size);
  auto samples = decode_payload(input);
  if (!samples) {
    if (samples.error().message().empty()) std::abort();
    return 0;
  }
  if (samples->size() != 1) std::abort();  // the only format so far is one sample
  const auto encoded = encode_single_sample(samples->front());
  if (!std::equal(encoded.begin(), encoded.end(), input.begin(), input.end())) std::abort();
  auto again = decode_payload(encoded);
  if (!again || again->size() != 1 || !same_bits(again->front(), samples->front())) std::abort();
  return 0;
}
