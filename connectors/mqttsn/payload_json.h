#pragma once
// The JSON device payload (docs/formats/mqttsn-payload.md, "JSON"). Internal to payload.cc; a
// strict hand-written parser so every error carries the JSON pointer and the byte offset, with no
// exceptions and bounded nesting (the grammar is at most four levels deep).

#include <cstdint>
#include <span>

#include "connectors/mqttsn/payload.h"

namespace resonance::mqttsn {

Result<DecodedPayload> decode_json_payload(std::span<const std::uint8_t> bytes);

}  // namespace resonance::mqttsn
