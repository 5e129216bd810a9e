#pragma once
// The MQTT-SN v1.2 wire codec: one datagram <-> one `Message`. Pure functions, thread-safe.
//
// Length header (spec 5.2.1): one octet, or 0x01 followed by a two-octet big-endian length. The
// decoder accepts both forms for any size, requires the encoded length to equal the datagram size
// and rejects a one-octet length < 2 or a three-octet length < 4. Errors are kInvalidArgument with
// a message naming the message type, the field and its byte offset in the datagram, e.g.
// "CONNECT: ClientId is 24 bytes at offset 6, must be 1..23".

#include <cstdint>
#include <span>
#include <vector>

#include "connectors/mqttsn/messages.h"
#include "resonance/core/status.h"

namespace resonance::mqttsn {

enum class LengthForm : std::uint8_t {
  kAuto,      // one octet when the message fits in 255 bytes, else three
  kShort,     // one octet (encode fails if the message is longer than 255 bytes)
  kLong,      // 0x01 + two octets, whatever the size
};

inline constexpr std::size_t kMaxMessageBytes = 65535;

Result<Message> decode(std::span<const std::uint8_t> datagram);

// Fails only when the message cannot be represented: longer than 65535 bytes (or 255 with
// kShort), or a field out of range (ClientId length, reserved QoS/TopicIdType combinations are
// representable and are encoded as given).
Result<std::vector<std::uint8_t>> encode(const Message& message, LengthForm form = LengthForm::kAuto);
// The same bytes appended to `out` (nothing appended on error).
Status encode_append(const Message& message, std::vector<std::uint8_t>& out, LengthForm form = LengthForm::kAuto);

// The length form a datagram uses (kLong if its first octet is 0x01); for tests and fuzzers.
inline LengthForm length_form_of(std::span<const std::uint8_t> datagram) {
  return !datagram.empty() && datagram[0] == 0x01 ? LengthForm::kLong : LengthForm::kShort;
}

// "0c 20 00 01" style dump for logs (at most `max_bytes`, then "...").
std::string hex_dump(std::span<const std::uint8_t> bytes, std::size_t max_bytes = 64);

}  // namespace resonance::mqttsn
