// Fuzzes what a Basic256Sha256 peer controls before any signature is trusted: the OPN asymmetric
// header parser, the unwrapping of signed (and encrypted) MSG/CLO chunks with fixed keys, and the
// padding check. The first input byte picks the decoder (0 header, 1 Sign, 2 SignAndEncrypt,
// 3/4 padding without/with the extra byte); the rest is the chunk. Nothing may crash, errors must
// say where, and a Sign chunk that verifies must be exactly what protecting its plain form gives.

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <span>
#include <string>

#include "connectors/opcua/secure_channel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::opcua;
  if (size == 0) return 0;
  static const SymmetricKeys keys = derive_keys(Bytes(32, 0x01), Bytes(32, 0x02));
  const auto chunk = std::span<const std::uint8_t>(data + 1, size - 1);
  const auto where = [](const resonance::Status& s) {
    if (s.message().find(" at offset ") == std::string::npos) std::abort();
  };
  switch (data[0] % 5) {
    case 0: {
      auto h = parse_asymmetric_header(chunk);
      if (!h) return where(h.error()), 0;
      if (h->end > chunk.size()) std::abort();
      break;
    }
    case 1:
    case 2: {
      const auto mode = data[0] % 5 == 1 ? ChunkSecurity::kSign : ChunkSecurity::kSignAndEncrypt;
      auto plain = unprotect_symmetric_chunk(mode, keys, chunk);
      if (!plain) return where(plain.error()), 0;
      if (plain->size() < kSymmetricHeaderSize || plain->size() > chunk.size()) std::abort();
      if (mode == ChunkSecurity::kSign) {
        auto again = protect_symmetric_chunk(mode, keys, *plain);
        if (!again || !std::equal(again->begin(), again->end(), chunk.begin(), chunk.end())) std::abort();
      }
      break;
    }
    default: {
      auto n = strip_padding(chunk, data[0] % 5 == 4);
      if (!n) return where(n.error()), 0;
      if (*n > chunk.size()) std::abort();
    }
  }
  return 0;
}
