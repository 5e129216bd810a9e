// SHA-256 through OpenSSL's low-level interface: it uses the SHA-NI/AVX2 code paths without the
// per-call algorithm fetch of EVP, which costs more than hashing a 65-byte node.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "resonance/audit/hash.h"

#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>

namespace resonance::audit {

namespace {
Hash finish(SHA256_CTX& ctx) {
  Hash out;
  SHA256_Final(out.data(), &ctx);
  return out;
}
}  // namespace

Hash sha256(std::span<const std::uint8_t> data) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  return finish(ctx);
}

Hash leaf_hash(std::span<const std::uint8_t> entry) {
  static constexpr std::uint8_t kLeafPrefix = 0x00;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, &kLeafPrefix, 1);
  SHA256_Update(&ctx, entry.data(), entry.size());
  return finish(ctx);
}

Hash node_hash(const Hash& left, const Hash& right) {
  std::uint8_t buf[65];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return sha256(buf);
}

Hash empty_tree_hash() { return sha256({}); }

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // libsodium counts the terminating NUL
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size())
    return error(StatusCode::kInvalidArgument, "not valid base64");
  out.resize(len);
  if (base64_encode(as_bytes(out)) != text)
    return error(StatusCode::kInvalidArgument, "base64 is not in canonical padded form");
  return out;
}

Result<Hash> hash_from_base64(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes) return error(bytes.error());
  if (bytes->size() != 32)
    return error(StatusCode::kInvalidArgument, "a hash is 32 bytes, this base64 holds " + std::to_string(bytes->size()));
  Hash h;
  std::memcpy(h.data(), bytes->data(), 32);
  return h;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace resonance::audit
