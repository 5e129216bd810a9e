#pragma once
// Chunk security for SecurityPolicy Basic256Sha256 (OPC 10000-6, 6.7.2 and 6.7.4), as pure
// functions over bytes so each rule is unit-testable without a socket or a peer:
//   OPN chunks: asymmetric header (policy, sender certificate, receiver thumbprint), RSA-OAEP
//   encryption with the receiver's key, RSA-SHA256 signature with the sender's key. OPN is signed
//   and encrypted in both Sign and SignAndEncrypt modes.
//   MSG/CLO chunks: HMAC-SHA256 signature (Sign), plus AES-256-CBC from the sequence header on
//   (SignAndEncrypt), with the keys derived from the two nonces of the token.
// The plain chunk layout (headers and bodies) is transport.h's; these functions wrap and unwrap
// it. The byte layout is in docs/formats/opcua-binary.md. Nothing here logs: key material never
// leaves the structures that hold it.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "connectors/opcua/crypto.h"
#include "connectors/opcua/transport.h"

namespace resonance::opcua {

inline constexpr std::string_view kSecurityPolicyBasic256Sha256 =
    "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
inline constexpr std::string_view kRsaSha256Uri = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
inline constexpr std::string_view kRsaOaepUri = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
inline constexpr std::size_t kBasic256Sha256NonceSize = 32;
inline constexpr std::size_t kHmacSha256Size = 32;
inline constexpr std::size_t kAesBlockSize = 16;

enum class SecurityPolicy : std::uint8_t { kNone, kBasic256Sha256 };
// Wire mode as in MessageSecurityMode (1 None, 2 Sign, 3 SignAndEncrypt).
enum class ChunkSecurity : std::uint8_t { kNone = 1, kSign = 2, kSignAndEncrypt = 3 };

// How many bytes follow the payload so that payload + padding + signature fills whole blocks of
// `block` bytes: the PaddingSize byte, PaddingSize padding bytes (each equal to PaddingSize's low
// byte) and, when the encrypting key is longer than 2048 bits, the ExtraPaddingSize byte (the high
// byte of PaddingSize). Returns the whole count (at least 1).
std::size_t padding_length(std::size_t payload, std::size_t signature_size, std::size_t block, bool extra_byte);
void append_padding(Bytes& out, std::size_t length, bool extra_byte);
// The padding length found at the end of `plain` (which ends where the signature starts), after
// checking every padding byte; fails naming the offset.
Result<std::size_t> strip_padding(std::span<const std::uint8_t> plain, bool extra_byte);

// One end of the asymmetric exchange. The pointers are borrowed for the call.
struct AsymmetricContext {
  const Certificate* own_certificate = nullptr;
  EVP_PKEY* own_key = nullptr;
  const Certificate* peer_certificate = nullptr;
};

// The asymmetric security header that follows ChannelId in every OPN chunk.
struct AsymmetricHeader {
  std::uint32_t channel_id = 0;
  std::string security_policy_uri;
  std::span<const std::uint8_t> sender_certificate;     // points into the chunk; empty = null
  std::span<const std::uint8_t> receiver_thumbprint;    // points into the chunk; empty = null
  std::size_t end = 0;                                  // offset of the sequence header
};
Result<AsymmetricHeader> parse_asymmetric_header(std::span<const std::uint8_t> chunk);

// An OPN chunk for Basic256Sha256: signed with our key, encrypted with the peer's.
Result<Bytes> encode_secured_open_chunk(std::uint32_t channel_id, std::uint32_t sequence_number,
                                        std::uint32_t request_id, std::span<const std::uint8_t> body,
                                        const AsymmetricContext& ctx);

struct SecuredOpenChunk {
  std::uint32_t channel_id = 0;
  std::uint32_t sequence_number = 0;
  std::uint32_t request_id = 0;
  Bytes body;
};
// Checks the policy, that the sender is the peer certificate and the receiver thumbprint is ours,
// decrypts with our key, verifies the peer's signature and the padding.
Result<SecuredOpenChunk> decode_secured_open_chunk(std::span<const std::uint8_t> chunk, const AsymmetricContext& ctx);

// Body bytes a MSG/CLO chunk of at most `max_chunk_size` bytes can carry under `mode`.
std::size_t symmetric_max_body(ChunkSecurity mode, std::size_t max_chunk_size);
// `plain` is a whole symmetric chunk as encode_symmetric_chunks builds it (24 header bytes, body);
// returns it signed (and encrypted), with MessageSize patched.
Result<Bytes> protect_symmetric_chunk(ChunkSecurity mode, const SymmetricKeys& own, std::span<const std::uint8_t> plain);
// The inverse with the peer's keys: a plain chunk (padding and signature removed, MessageSize
// patched) that parse_symmetric_chunk accepts. A bad signature fails with kCorruption.
Result<Bytes> unprotect_symmetric_chunk(ChunkSecurity mode, const SymmetricKeys& peer, std::span<const std::uint8_t> chunk);

}  // namespace resonance::opcua
