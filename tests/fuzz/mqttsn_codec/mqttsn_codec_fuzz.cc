// Fuzzes the MQTT-SN datagram decoder. Whatever decodes must re-encode, in the same length form,
// to exactly the input bytes (the decoder keeps every bit) and decode again to an equal message.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "connectors/mqttsn/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::mqttsn;
  const std::span<const std::uint8_t> input(data, size);
  auto message = decode(input);
  if (!message) {
    if (message.error().message().empty()) std::abort();  // every error says what and where
    return 0;
  }
  auto encoded = encode(*message, length_form_of(input));
  if (!encoded) std::abort();
  if (!std::equal(encoded->begin(), encoded->end(), input.begin(), input.end())) std::abort();
  auto again = decode(*encoded);
  if (!again || !(*again == *message)) std::abort();
  return 0;
}
