// Ed25519 keys in the signed-note text forms (C2SP signed-note "verifier keys"; the private form
// is Go sumdb/note's, so keys interoperate with Go tooling).
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cstring>

#include "resonance/audit/note.h"
#include "resonance/audit/tiles.h"

namespace resonance::audit {

namespace {

bool valid_key_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == '+' || c == 0x7f) return false;
  return true;
}

Status ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) return Status(StatusCode::kInternal, "libsodium failed to initialise");
  return Status::ok();
}

Result<std::uint32_t> parse_key_id(std::string_view text) {
  if (text.size() != 8) return error(StatusCode::kInvalidArgument, "key id must be 8 hex digits");
  std::uint32_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return error(StatusCode::kInvalidArgument, "key id must be 8 lower-case hex digits");
    v = v << 4 | static_cast<std::uint32_t>(d);
  }
  return v;
}

std::string key_id_hex(std::uint32_t id) {
  const std::uint8_t b[4] = {static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
                             static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  return hex(b);
}

// "name+keyid+base64(type||key)" → parts, checking the name and the key id's syntax.
struct KeyParts {
  std::string name;
  std::uint32_t id;
  std::string material;
};
Result<KeyParts> split_key(std::string_view text, std::string_view what) {
  // Names hold no '+', base64 may: split at the first two.
  const auto mid = text.find('+');
  const auto last = mid == std::string_view::npos ? mid : text.find('+', mid + 1);
  if (mid == 0 || last == std::string_view::npos)
    return error(StatusCode::kInvalidArgument, std::string(what) + ": expected name+keyid+key");
  KeyParts parts;
  parts.name = std::string(text.substr(0, mid));
  if (!valid_key_name(parts.name))
    return error(StatusCode::kInvalidArgument, std::string(what) + ": key name '" + parts.name +
                                                   "' is empty or holds a space, '+' or control character");
  auto id = parse_key_id(text.substr(mid + 1, last - mid - 1));
  if (!id) return error(StatusCode::kInvalidArgument, std::string(what) + ": " + id.error().message());
  parts.id = *id;
  auto material = base64_decode(text.substr(last + 1));
  if (!material) return error(StatusCode::kInvalidArgument, std::string(what) + ": key: " + material.error().message());
  parts.material = std::move(*material);
  return parts;
}

}  // namespace

std::uint32_t key_id(std::string_view name, KeyType type, std::span<const std::uint8_t> public_key) {
  std::string data(name);
  data += '\n';
  data += static_cast<char>(type);
  data.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  const Hash h = sha256(as_bytes(data));
  return std::uint32_t{h[0]} << 24 | std::uint32_t{h[1]} << 16 | std::uint32_t{h[2]} << 8 | h[3];
}

std::string VerifierKey::to_string() const {
  std::string material(1, static_cast<char>(type));
  material.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  return name + "+" + key_id_hex(key_id) + "+" + base64_encode(as_bytes(material));
}

Result<VerifierKey> parse_verifier_key(std::string_view vkey) {
  auto parts = split_key(vkey, "verifier key");
  if (!parts) return error(parts.error());
  if (parts->material.size() != 33)
    return error(StatusCode::kInvalidArgument, "verifier key: expected 1 type byte and a 32-byte Ed25519 key, got " +
                                                   std::to_string(parts->material.size()) + " bytes");
  const auto type = static_cast<std::uint8_t>(parts->material[0]);
  if (type != 0x01 && type != 0x04)
    return error(StatusCode::kInvalidArgument,
                 "verifier key: signature type " + std::to_string(type) + " is not supported (0x01 Ed25519, 0x04 cosignature)");
  VerifierKey key;
  key.name = parts->name;
  key.type = static_cast<KeyType>(type);
  std::memcpy(key.public_key.data(), parts->material.data() + 1, 32);
  key.key_id = key_id(key.name, key.type, key.public_key);
  if (key.key_id != parts->id)
    return error(StatusCode::kInvalidArgument, "verifier key: key id " + key_id_hex(parts->id) +
                                                   " does not match the key (computed " + key_id_hex(key.key_id) + ")");
  return key;
}

Result<Signer> Signer::generate(std::string name, KeyType type) {
  if (auto s = ensure_sodium(); !s) return error(s);
  std::array<std::uint8_t, 32> seed;
  randombytes_buf(seed.data(), seed.size());
  std::string material(1, static_cast<char>(type));
  material.append(reinterpret_cast<const char*>(seed.data()), seed.size());
  sodium_memzero(seed.data(), seed.size());
  Signer signer;
  signer.key_.name = std::move(name);
  if (!valid_key_name(signer.key_.name))
    return error(StatusCode::kInvalidArgument, "key name '" + signer.key_.name + "' is empty or holds a space or '+'");
  signer.key_.type = type;
  crypto_sign_seed_keypair(signer.key_.public_key.data(), signer.secret_.data(),
                           reinterpret_cast<const unsigned char*>(material.data() + 1));
  sodium_memzero(material.data(), material.size());
  signer.key_.key_id = key_id(signer.key_.name, type, signer.key_.public_key);
  return signer;
}

Result<Signer> Signer::parse(std::string_view skey) {
  if (auto s = ensure_sodium(); !s) return error(s);
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (!skey.starts_with(kPrefix)) return error(StatusCode::kInvalidArgument, "private key: must start with PRIVATE+KEY+");
  auto parts = split_key(skey.substr(kPrefix.size()), "private key");
  if (!parts) return error(parts.error());
  if (parts->material.size() != 33)
    return error(StatusCode::kInvalidArgument, "private key: expected 1 type byte and a 32-byte seed");
  const auto type = static_cast<std::uint8_t>(parts->material[0]);
  if (type != 0x01 && type != 0x04)
    return error(StatusCode::kInvalidArgument, "private key: signature type " + std::to_string(type) + " is not supported");
  Signer signer;
  signer.key_.name = parts->name;
  signer.key_.type = static_cast<KeyType>(type);
  crypto_sign_seed_keypair(signer.key_.public_key.data(), signer.secret_.data(),
                           reinterpret_cast<const unsigned char*>(parts->material.data() + 1));
  sodium_memzero(parts->material.data(), parts->material.size());
  signer.key_.key_id = key_id(signer.key_.name, signer.key_.type, signer.key_.public_key);
  if (signer.key_.key_id != parts->id)
    return error(StatusCode::kInvalidArgument, "private key: key id does not match the key");
  return signer;
}

Result<Signer> Signer::load(const std::string& path) {
  auto text = read_file(path);
  if (!text) return error(text.error());
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  auto signer = parse(*text);
  sodium_memzero(text->data(), text->size());
  if (!signer) return error(StatusCode::kInvalidArgument, path + ": " + signer.error().message());
  return signer;
}

std::string Signer::private_key_text() const {
  std::string material(1, static_cast<char>(key_.type));
  material.append(reinterpret_cast<const char*>(secret_.data()), 32);  // the seed half
  std::string out = "PRIVATE+KEY+" + key_.name + "+" + key_id_hex(key_.key_id) + "+" + base64_encode(as_bytes(material));
  sodium_memzero(material.data(), material.size());
  return out;
}

std::array<std::uint8_t, 64> Signer::sign_raw(std::string_view message) const {
  std::array<std::uint8_t, 64> sig;
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return sig;
}

Status save_key_pair(const Signer& signer, const std::string& prefix) {
  const std::string key_path = prefix + ".key";
  const int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status(StatusCode::kIoError, key_path + ": cannot create (" + std::strerror(errno) +
                                            "); an existing key is never overwritten");
  std::string text = signer.private_key_text() + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  sodium_memzero(text.data(), text.size());
  ::close(fd);
  if (!ok) return Status(StatusCode::kIoError, key_path + ": write failed");
  return write_file_atomic(prefix + ".vkey", signer.verifier().to_string() + "\n");
}

}  // namespace resonance::audit
