#pragma once
// RFC 9162 §2.1 hashing: SHA-256 with a one-byte domain separator so a leaf can never be passed
// off as an interior node (leaf = H(0x00 || entry), node = H(0x01 || left || right)).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "resonance/core/status.h"

namespace resonance::audit {

using Hash = std::array<std::uint8_t, 32>;

Hash sha256(std::span<const std::uint8_t> data);
Hash leaf_hash(std::span<const std::uint8_t> entry);
Hash node_hash(const Hash& left, const Hash& right);
Hash empty_tree_hash();  // MTH({}) = SHA-256("")

// Standard base64 (RFC 4648 §4, padded). Decoding is strict: it rejects anything that would not
// re-encode to the same text, so one value never has two spellings in a signed note.
std::string base64_encode(std::span<const std::uint8_t> bytes);
Result<std::string> base64_decode(std::string_view text);
Result<Hash> hash_from_base64(std::string_view text);
std::string hex(std::span<const std::uint8_t> bytes);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace resonance::audit
