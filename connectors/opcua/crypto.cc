#include "connectors/opcua/crypto.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace resonance::opcua {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* s) const { X509_STORE_CTX_free(s); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};

// OpenSSL keeps its reasons in a per-thread queue; drain it into the message so the next call
// does not report a stale one.
std::string openssl_reason() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL reason" : out;
}

Status crypto_error(std::string what) {
  return Status(resonance::StatusCode::kInvalidArgument, std::move(what) + " (" + openssl_reason() + ")");
}

Result<Bytes> read_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return error(resonance::StatusCode::kNotFound, std::string(what) + " " + path.string() + ": cannot be opened");
  Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.empty()) return error(resonance::StatusCode::kInvalidArgument, std::string(what) + " " + path.string() + ": empty");
  return b;
}

bool looks_pem(const Bytes& b) {
  static constexpr std::string_view kDash = "-----BEGIN";
  const std::string_view text(reinterpret_cast<const char*>(b.data()), b.size());
  return text.find(kDash) != std::string_view::npos;
}

std::string hex(std::span<const std::uint8_t> b) {
  std::string s;
  char two[3];
  for (auto x : b) {
    std::snprintf(two, sizeof two, "%02X", x);
    s += two;
  }
  return s;
}

}  // namespace

std::string Certificate::thumbprint_hex() const { return hex(thumbprint); }

std::string Certificate::subject() const {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(x509.get()), buf, sizeof buf);
  return buf;
}

std::string Certificate::application_uri() const {
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return {};
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = n->d.uniformResourceIdentifier;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  return {};
}

std::size_t rsa_key_bytes(const EVP_PKEY* key) {
  return key ? static_cast<std::size_t>(EVP_PKEY_get_size(key)) : 0;
}

std::size_t Certificate::key_bytes() const { return rsa_key_bytes(public_key()); }

Result<Certificate> parse_certificate_der(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return error(crypto_error("certificate: not a DER X.509 certificate"));
  // A UA certificate field may carry a chain (the leaf first); the leaf is what we use.
  const auto leaf_size = static_cast<std::size_t>(p - der.data());
  Certificate c;
  c.der.assign(der.begin(), der.begin() + static_cast<std::ptrdiff_t>(leaf_size));
  c.x509 = std::move(x);
  SHA1(c.der.data(), c.der.size(), c.thumbprint.data());
  if (EVP_PKEY_get_base_id(c.public_key()) != EVP_PKEY_RSA)
    return error(resonance::StatusCode::kInvalidArgument,
                 "certificate " + c.subject() + ": not an RSA key (Basic256Sha256 needs RSA)");
  return c;
}

Result<Certificate> load_certificate_file(const std::filesystem::path& path) {
  auto bytes = read_file(path, "certificate");
  if (!bytes) return error(bytes.error());
  if (!looks_pem(*bytes)) {
    auto c = parse_certificate_der(*bytes);
    if (!c) return error(Status(c.error().code(), path.string() + ": " + c.error().message()));
    return c;
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(bytes->data(), static_cast<int>(bytes->size())));
  X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x) return error(crypto_error("certificate " + path.string() + ": no PEM certificate"));
  unsigned char* der = nullptr;
  const int n = i2d_X509(x.get(), &der);
  if (n <= 0) return error(crypto_error("certificate " + path.string() + ": cannot be DER-encoded"));
  Bytes d(der, der + n);
  OPENSSL_free(der);
  auto c = parse_certificate_der(d);
  if (!c) return error(Status(c.error().code(), path.string() + ": " + c.error().message()));
  return c;
}

Result<PrivateKey> load_private_key_file(const std::filesystem::path& path) {
  auto bytes = read_file(path, "private key");
  if (!bytes) return error(bytes.error());
  PrivateKey key;
  if (looks_pem(*bytes)) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(bytes->data(), static_cast<int>(bytes->size())));
    // A null password callback with an empty string: an encrypted key fails instead of prompting.
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>("")));
  } else {
    const unsigned char* p = bytes->data();
    key.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(bytes->size())));
  }
  OPENSSL_cleanse(bytes->data(), bytes->size());
  if (!key) return error(crypto_error("private key " + path.string() + ": not an unencrypted PEM or DER key"));
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    return error(resonance::StatusCode::kInvalidArgument,
                 "private key " + path.string() + ": not an RSA key (Basic256Sha256 needs RSA)");
  return key;
}

Status TrustList::add_file(const std::filesystem::path& file) {
  auto c = load_certificate_file(file);
  if (!c) return c.error();
  certs_.push_back(std::move(*c));
  sources_.push_back(file.string());
  return Status::ok();
}

Status TrustList::add_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Status(resonance::StatusCode::kNotFound, "trust directory " + dir.string() + ": " + ec.message());
  for (const auto& entry : it) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension().string();
    if (ext != ".der" && ext != ".pem" && ext != ".crt" && ext != ".cer") continue;
    auto c = load_certificate_file(entry.path());
    if (!c) return c.error();  // a broken file in the trust list is a configuration error
    certs_.push_back(std::move(*c));
  }
  sources_.push_back(dir.string());
  return Status::ok();
}

Status TrustList::check(const Certificate& cert) const {
  const auto named = [&](std::string why) {
    std::string where;
    for (const auto& s : sources_) where += (where.empty() ? "" : ", ") + s;
    return Status(resonance::StatusCode::kFailedPrecondition,
                  "server certificate SHA-1 thumbprint " + cert.thumbprint_hex() + " (" + cert.subject() +
                      ") is not trusted: " + why + " (trust list: " + (where.empty() ? "empty" : where) +
                      "; put the certificate in trust_dir or name it in server_certificate to trust it)");
  };
  if (X509_cmp_current_time(X509_get0_notBefore(cert.x509.get())) > 0)
    return named("it is not valid yet");
  if (X509_cmp_current_time(X509_get0_notAfter(cert.x509.get())) < 0) return named("it has expired");
  for (const auto& t : certs_)
    if (t.thumbprint == cert.thumbprint) return Status::ok();
  // Not pinned: does it chain to a CA in the list? Revocation lists are not consulted.
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  for (const auto& t : certs_) X509_STORE_add_cert(store.get(), t.x509.get());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert.x509.get(), nullptr) != 1)
    return named("the chain could not be checked (" + openssl_reason() + ")");
  if (X509_verify_cert(ctx.get()) == 1) return Status::ok();
  const int why = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return named(std::string("it is not in the trust list and does not chain to it: ") +
               X509_verify_cert_error_string(why));
}

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  // RAND_bytes fails only without an entropy source, which makes every secure channel impossible.
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) std::abort();
  return b;
}

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
  return out;
}

Bytes p_sha256(std::span<const std::uint8_t> secret, std::span<const std::uint8_t> seed, std::size_t length) {
  Bytes out;
  out.reserve(length + 32);
  Bytes a(seed.begin(), seed.end());  // A(0)
  Bytes buf;
  while (out.size() < length) {
    const auto next_a = hmac_sha256(secret, a);
    a.assign(next_a.begin(), next_a.end());
    buf.assign(a.begin(), a.end());
    buf.insert(buf.end(), seed.begin(), seed.end());
    const auto block = hmac_sha256(secret, buf);
    out.insert(out.end(), block.begin(), block.end());
  }
  out.resize(length);
  return out;
}

SymmetricKeys derive_keys(std::span<const std::uint8_t> secret, std::span<const std::uint8_t> seed) {
  SymmetricKeys k;
  auto bytes = p_sha256(secret, seed, k.signing.size() + k.encryption.size() + k.iv.size());
  auto it = bytes.begin();
  std::copy_n(it, k.signing.size(), k.signing.begin());
  it += static_cast<std::ptrdiff_t>(k.signing.size());
  std::copy_n(it, k.encryption.size(), k.encryption.begin());
  it += static_cast<std::ptrdiff_t>(k.encryption.size());
  std::copy_n(it, k.iv.size(), k.iv.begin());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return k;
}

Result<Bytes> aes256_cbc(bool encrypt, const SymmetricKeys& keys, std::span<const std::uint8_t> data) {
  if (data.size() % 16 != 0)
    return error(resonance::StatusCode::kInvalidArgument,
                 "AES-256-CBC: " + std::to_string(data.size()) + " bytes are not whole 16-byte blocks");
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, keys.encryption.data(), keys.iv.data(),
                                encrypt ? 1 : 0) != 1)
    return error(crypto_error("AES-256-CBC init"));
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  Bytes out(data.size() + 16);
  int n = 0, tail = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &n, data.data(), static_cast<int>(data.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1)
    return error(crypto_error("AES-256-CBC"));
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

Result<Bytes> rsa_sign_sha256(EVP_PKEY* key, std::span<const std::uint8_t> data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
    return error(crypto_error("RSA-SHA256 signature init"));
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1)
    return error(crypto_error("RSA-SHA256 signature size"));
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1)
    return error(crypto_error("RSA-SHA256 signature"));
  sig.resize(len);
  return sig;
}

Status rsa_verify_sha256(EVP_PKEY* key, std::span<const std::uint8_t> data, std::span<const std::uint8_t> signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
    return crypto_error("RSA-SHA256 verification init");
  const int ok = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size());
  ERR_clear_error();
  if (ok != 1) return Status(resonance::StatusCode::kInvalidArgument, "RSA-SHA256 signature does not verify");
  return Status::ok();
}

namespace {
Result<Bytes> rsa_oaep(bool encrypt, EVP_PKEY* key, std::span<const std::uint8_t> in) {
  const std::size_t key_bytes = rsa_key_bytes(key);
  const std::size_t in_block = encrypt ? key_bytes - kOaepSha1Overhead : key_bytes;
  if (key_bytes <= kOaepSha1Overhead || (!encrypt && in.size() % key_bytes != 0))
    return error(resonance::StatusCode::kInvalidArgument,
                 std::string("RSA-OAEP ") + (encrypt ? "encryption" : "decryption") + ": " +
                     std::to_string(in.size()) + " bytes do not fit " + std::to_string(key_bytes) + "-byte blocks");
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) != 1)
    return error(crypto_error("RSA-OAEP init"));
  Bytes out;
  out.reserve((in.size() / in_block + 1) * key_bytes);
  for (std::size_t at = 0; at < in.size(); at += in_block) {
    const auto block = in.subspan(at, std::min(in_block, in.size() - at));
    std::size_t len = key_bytes;
    const std::size_t before = out.size();
    out.resize(before + key_bytes);
    const int ok = encrypt ? EVP_PKEY_encrypt(ctx.get(), out.data() + before, &len, block.data(), block.size())
                           : EVP_PKEY_decrypt(ctx.get(), out.data() + before, &len, block.data(), block.size());
    if (ok != 1)
      return error(crypto_error(std::string("RSA-OAEP ") + (encrypt ? "encryption" : "decryption") +
                                " of the block at " + std::to_string(at)));
    out.resize(before + len);
  }
  return out;
}
}  // namespace

Result<Bytes> rsa_oaep_encrypt(EVP_PKEY* key, std::span<const std::uint8_t> plain) { return rsa_oaep(true, key, plain); }
Result<Bytes> rsa_oaep_decrypt(EVP_PKEY* key, std::span<const std::uint8_t> cipher) { return rsa_oaep(false, key, cipher); }

}  // namespace resonance::opcua
