#include "connectors/opcua/secure_channel.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "connectors/opcua/builtin_codec.h"

namespace resonance::opcua {
namespace {

constexpr std::size_t kSequenceHeaderSize = 8;                      // SequenceNumber, RequestId
constexpr std::size_t kSymmetricSecurityHeaderEnd = 16;             // header, ChannelId, TokenId
constexpr std::size_t kRsa2048Bytes = 256;

std::uint32_t get_u32(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}
void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

Status chunk_error(std::string_view what, std::size_t at, std::string detail) {
  return Status(resonance::StatusCode::kInvalidArgument,
                std::string(what) + " at offset " + std::to_string(at) + ": " + detail);
}

std::string_view chunk_name(std::span<const std::uint8_t> chunk) {
  return chunk.size() >= 3 ? std::string_view(reinterpret_cast<const char*>(chunk.data()), 3) : "chunk";
}

}  // namespace

std::size_t padding_length(std::size_t payload, std::size_t signature_size, std::size_t block, bool extra_byte) {
  const std::size_t fixed = 1 + (extra_byte ? 1 : 0);
  const std::size_t used = (payload + signature_size + fixed) % block;
  return fixed + (used == 0 ? 0 : block - used);
}

void append_padding(Bytes& out, std::size_t length, bool extra_byte) {
  const std::size_t n = length - 1 - (extra_byte ? 1 : 0);  // padding bytes besides the size byte(s)
  const auto low = static_cast<std::uint8_t>(n & 0xFF);
  out.push_back(low);
  out.insert(out.end(), n, low);
  if (extra_byte) out.push_back(static_cast<std::uint8_t>(n >> 8));
}

Result<std::size_t> strip_padding(std::span<const std::uint8_t> plain, bool extra_byte) {
  const std::size_t fixed = 1 + (extra_byte ? 1 : 0);
  if (plain.size() < fixed) return error(chunk_error("padding", 0, "no room for the PaddingSize byte"));
  std::size_t n = plain[plain.size() - 1];
  std::uint8_t low = static_cast<std::uint8_t>(n);
  if (extra_byte) {
    low = plain[plain.size() - 2];
    n = n << 8 | low;
  }
  const std::size_t length = n + fixed;
  if (length > plain.size())
    return error(chunk_error("PaddingSize", plain.size() - 1,
                             std::to_string(n) + " padding bytes do not fit in " + std::to_string(plain.size())));
  const std::size_t start = plain.size() - length;
  for (std::size_t i = start; i < start + 1 + n; ++i)
    if (plain[i] != low)
      return error(chunk_error("padding", i, "byte is " + std::to_string(plain[i]) + ", expected " + std::to_string(low)));
  return length;
}

Result<AsymmetricHeader> parse_asymmetric_header(std::span<const std::uint8_t> chunk) {
  Reader r(chunk);
  if (auto s = r.skip(kChunkHeaderSize, "OPN header"); !s) return error(std::move(s));
  AsymmetricHeader h;
  auto id = r.u32("OPN SecureChannelId");
  if (!id) return error(id.error());
  h.channel_id = *id;
  UaString policy;
  if (auto s = decode(r, policy); !s) return error(with_context(std::move(s), "OPN SecurityPolicyUri"));
  h.security_policy_uri = policy.value.value_or("");
  for (auto [out, what] : {std::pair{&h.sender_certificate, "OPN SenderCertificate"},
                           std::pair{&h.receiver_thumbprint, "OPN ReceiverCertificateThumbprint"}}) {
    auto len = r.i32(what);
    if (!len) return error(len.error());
    if (*len < -1) return error(r.fail(what, r.offset() - 4, "length " + std::to_string(*len)));
    if (*len > 0) {
      auto b = r.bytes(static_cast<std::size_t>(*len), what);
      if (!b) return error(b.error());
      *out = *b;
    }
  }
  h.end = r.offset();
  return h;
}

Result<Bytes> encode_secured_open_chunk(std::uint32_t channel_id, std::uint32_t sequence_number,
                                        std::uint32_t request_id, std::span<const std::uint8_t> body,
                                        const AsymmetricContext& ctx) {
  const std::size_t peer_key = ctx.peer_certificate->key_bytes();
  const std::size_t plain_block = peer_key - kOaepSha1Overhead;
  const std::size_t signature_size = rsa_key_bytes(ctx.own_key);
  const bool extra = peer_key > kRsa2048Bytes;

  Writer w;
  w.bytes(std::string_view("OPNF"));
  w.u32(0);
  w.u32(channel_id);
  encode(w, UaString(std::string(kSecurityPolicyBasic256Sha256)));
  const auto& own_der = ctx.own_certificate->der;
  encode(w, ByteString{std::string(own_der.begin(), own_der.end())});
  const auto& thumb = ctx.peer_certificate->thumbprint;
  encode(w, ByteString{std::string(thumb.begin(), thumb.end())});
  const std::size_t header_size = w.size();
  w.u32(sequence_number);
  w.u32(request_id);
  w.bytes(body);
  Bytes signed_part = w.take();
  const std::size_t payload = signed_part.size() - header_size;
  const std::size_t pad = padding_length(payload, signature_size, plain_block, extra);
  const std::size_t encrypted = (payload + pad + signature_size) / plain_block * peer_key;
  put_u32(signed_part, 4, static_cast<std::uint32_t>(header_size + encrypted));
  append_padding(signed_part, pad, extra);
  auto signature = rsa_sign_sha256(ctx.own_key, signed_part);
  if (!signature) return error(with_context(signature.error(), "signing OPN:"));
  signed_part.insert(signed_part.end(), signature->begin(), signature->end());
  auto cipher = rsa_oaep_encrypt(ctx.peer_certificate->public_key(),
                                 std::span(signed_part).subspan(header_size));
  if (!cipher) return error(with_context(cipher.error(), "encrypting OPN:"));
  signed_part.resize(header_size);
  signed_part.insert(signed_part.end(), cipher->begin(), cipher->end());
  return signed_part;
}

Result<SecuredOpenChunk> decode_secured_open_chunk(std::span<const std::uint8_t> chunk, const AsymmetricContext& ctx) {
  auto h = parse_asymmetric_header(chunk);
  if (!h) return error(h.error());
  if (h->security_policy_uri != kSecurityPolicyBasic256Sha256)
    return error(chunk_error("OPN SecurityPolicyUri", 12,
                             "\"" + h->security_policy_uri + "\", expected \"" +
                                 std::string(kSecurityPolicyBasic256Sha256) + "\""));
  const auto& peer = *ctx.peer_certificate;
  // The sender field may hold a chain; its leaf must be the certificate we checked and trusted.
  if (h->sender_certificate.size() < peer.der.size() ||
      !std::equal(peer.der.begin(), peer.der.end(), h->sender_certificate.begin()))
    return error(Status(resonance::StatusCode::kFailedPrecondition,
                        "OPN SenderCertificate is not the server certificate " + peer.thumbprint_hex() +
                            " that the endpoint announced and the trust list accepted"));
  const auto& own = ctx.own_certificate->thumbprint;
  if (!std::equal(own.begin(), own.end(), h->receiver_thumbprint.begin(), h->receiver_thumbprint.end()))
    return error(Status(resonance::StatusCode::kFailedPrecondition,
                        "OPN ReceiverCertificateThumbprint is not our certificate " +
                            ctx.own_certificate->thumbprint_hex()));
  const std::size_t own_key = rsa_key_bytes(ctx.own_key);
  const auto cipher = chunk.subspan(h->end);
  if (cipher.empty() || cipher.size() % own_key != 0)
    return error(chunk_error("OPN encrypted part", h->end,
                             std::to_string(cipher.size()) + " bytes are not whole " + std::to_string(own_key) +
                                 "-byte RSA blocks"));
  auto plain = rsa_oaep_decrypt(ctx.own_key, cipher);
  if (!plain) return error(with_context(plain.error(), "decrypting the OPN response:"));
  const std::size_t signature_size = peer.key_bytes();
  if (plain->size() < kSequenceHeaderSize + 1 + signature_size)
    return error(chunk_error("OPN decrypted part", h->end, std::to_string(plain->size()) + " bytes, too short"));
  const std::size_t signed_end = plain->size() - signature_size;
  Bytes signed_data(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(h->end));
  signed_data.insert(signed_data.end(), plain->begin(), plain->begin() + static_cast<std::ptrdiff_t>(signed_end));
  if (auto s = rsa_verify_sha256(peer.public_key(), signed_data, std::span(*plain).subspan(signed_end)); !s)
    return error(Status(resonance::StatusCode::kCorruption,
                        "OPN from the server: the RSA-SHA256 signature by " + peer.thumbprint_hex() +
                            " does not verify (tampered or wrong key)"));
  auto pad = strip_padding(std::span(*plain).first(signed_end), own_key > kRsa2048Bytes);
  if (!pad) return error(with_context(pad.error(), "OPN"));
  if (signed_end - *pad < kSequenceHeaderSize)
    return error(chunk_error("OPN", h->end, "padding leaves no sequence header"));
  SecuredOpenChunk out;
  out.channel_id = h->channel_id;
  out.sequence_number = get_u32(*plain, 0);
  out.request_id = get_u32(*plain, 4);
  out.body.assign(plain->begin() + kSequenceHeaderSize,
                  plain->begin() + static_cast<std::ptrdiff_t>(signed_end - *pad));
  return out;
}

std::size_t symmetric_max_body(ChunkSecurity mode, std::size_t max_chunk_size) {
  switch (mode) {
    case ChunkSecurity::kNone:
      return max_chunk_size - kSymmetricHeaderSize;
    case ChunkSecurity::kSign:
      return max_chunk_size - kSymmetricHeaderSize - kHmacSha256Size;
    case ChunkSecurity::kSignAndEncrypt: {
      // Whole AES blocks after the 16 clear bytes; at least the PaddingSize byte in the last one.
      const std::size_t encrypted = (max_chunk_size - kSymmetricSecurityHeaderEnd) / kAesBlockSize * kAesBlockSize;
      return encrypted - kSequenceHeaderSize - kHmacSha256Size - 1;
    }
  }
  return 0;
}

Result<Bytes> protect_symmetric_chunk(ChunkSecurity mode, const SymmetricKeys& own, std::span<const std::uint8_t> plain) {
  if (plain.size() < kSymmetricHeaderSize)
    return error(chunk_error("symmetric chunk", 0, std::to_string(plain.size()) + " bytes, too short"));
  Bytes out(plain.begin(), plain.end());
  if (mode == ChunkSecurity::kNone) return out;
  std::size_t pad = 0;
  if (mode == ChunkSecurity::kSignAndEncrypt)
    pad = padding_length(out.size() - kSymmetricSecurityHeaderEnd, kHmacSha256Size, kAesBlockSize, false);
  put_u32(out, 4, static_cast<std::uint32_t>(out.size() + pad + kHmacSha256Size));
  if (pad) append_padding(out, pad, false);
  const auto mac = hmac_sha256(own.signing, out);
  out.insert(out.end(), mac.begin(), mac.end());
  if (mode == ChunkSecurity::kSignAndEncrypt) {
    auto cipher = aes256_cbc(true, own, std::span(out).subspan(kSymmetricSecurityHeaderEnd));
    if (!cipher) return error(cipher.error());
    std::copy(cipher->begin(), cipher->end(), out.begin() + kSymmetricSecurityHeaderEnd);
  }
  return out;
}

Result<Bytes> unprotect_symmetric_chunk(ChunkSecurity mode, const SymmetricKeys& peer, std::span<const std::uint8_t> chunk) {
  const std::string_view what = chunk_name(chunk);
  Bytes plain(chunk.begin(), chunk.end());
  if (mode == ChunkSecurity::kNone) return plain;
  if (chunk.size() < kSymmetricHeaderSize + kHmacSha256Size)
    return error(chunk_error(what, 4, std::to_string(chunk.size()) + " bytes cannot hold headers and a signature"));
  if (mode == ChunkSecurity::kSignAndEncrypt) {
    if ((chunk.size() - kSymmetricSecurityHeaderEnd) % kAesBlockSize != 0)
      return error(chunk_error(what, kSymmetricSecurityHeaderEnd,
                               "encrypted part of " + std::to_string(chunk.size() - kSymmetricSecurityHeaderEnd) +
                                   " bytes is not whole AES blocks"));
    auto clear = aes256_cbc(false, peer, chunk.subspan(kSymmetricSecurityHeaderEnd));
    if (!clear) return error(clear.error());
    std::copy(clear->begin(), clear->end(), plain.begin() + kSymmetricSecurityHeaderEnd);
  }
  const std::size_t signed_end = plain.size() - kHmacSha256Size;
  const auto mac = hmac_sha256(peer.signing, std::span(plain).first(signed_end));
  if (CRYPTO_memcmp(mac.data(), plain.data() + signed_end, kHmacSha256Size) != 0)
    return error(Status(resonance::StatusCode::kCorruption,
                        std::string(what) + " chunk (sequence number " +
                            (mode == ChunkSecurity::kSign ? std::to_string(get_u32(plain, 16)) : std::string("encrypted")) +
                            "): HMAC-SHA256 signature at offset " + std::to_string(signed_end) +
                            " does not match: the chunk was altered or the keys differ"));
  std::size_t end = signed_end;
  if (mode == ChunkSecurity::kSignAndEncrypt) {
    auto pad = strip_padding(std::span(plain).first(signed_end), false);
    if (!pad) return error(with_context(pad.error(), std::string(what)));
    end -= *pad;
  }
  if (end < kSymmetricHeaderSize) return error(chunk_error(what, end, "padding reaches into the headers"));
  plain.resize(end);
  put_u32(plain, 4, static_cast<std::uint32_t>(end));
  return plain;
}

}  // namespace resonance::opcua
