#pragma once
// The cryptographic primitives of SecurityPolicy Basic256Sha256 (OPC 10000-7 and OPC 10000-6,
// 6.7.5), over OpenSSL 3:
//   asymmetric: RSA-OAEP with SHA-1 (encryption) and RSA PKCS#1 v1.5 with SHA-256 (signatures);
//   symmetric:  AES-256-CBC without padding (the UA message carries its own) and HMAC-SHA256;
//   key derivation: P_SHA256 (RFC 5246, 5) and the 32/32/16-byte key split;
//   certificates: PEM or DER files, SHA-1 thumbprints, the application URI, a trust list.
// OpenSSL objects are owned by unique_ptrs with deleters; every failure is a Status naming what
// failed (OpenSSL's own reason text appended). Secrets are never put in a message.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::opcua {

using Bytes = std::vector<std::uint8_t>;

struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using PrivateKey = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// A parsed X.509 certificate with the public key it carries.
struct Certificate {
  Bytes der;                          // exactly the bytes that travel in headers and signatures
  X509Ptr x509;
  std::array<std::uint8_t, 20> thumbprint{};  // SHA-1 of `der`
  std::string thumbprint_hex() const;         // upper-case hex, as UA tools show it
  std::string subject() const;                // one-line distinguished name
  std::string application_uri() const;        // first URI in subjectAltName, "" if none
  std::size_t key_bytes() const;              // RSA modulus size in bytes
  EVP_PKEY* public_key() const { return X509_get0_pubkey(x509.get()); }
};

Result<Certificate> parse_certificate_der(std::span<const std::uint8_t> der);
// PEM ("-----BEGIN CERTIFICATE-----") or DER, decided by the content.
Result<Certificate> load_certificate_file(const std::filesystem::path& path);
// PEM (PKCS#1 or PKCS#8, unencrypted) or DER; must be RSA.
Result<PrivateKey> load_private_key_file(const std::filesystem::path& path);
std::size_t rsa_key_bytes(const EVP_PKEY* key);

// Trusted peer certificates: every certificate file in a directory (and extra files named one by
// one). A certificate is trusted when it is one of them, byte for byte, or when it verifies
// against them as issuers (a CA in the directory). It must also be inside its validity period.
class TrustList {
 public:
  Status add_directory(const std::filesystem::path& dir);
  Status add_file(const std::filesystem::path& file);
  // Ok, or kFailedPrecondition naming the thumbprint, the subject and why it is not trusted.
  Status check(const Certificate& cert) const;
  bool empty() const { return certs_.empty(); }

 private:
  std::vector<Certificate> certs_;
  std::vector<std::string> sources_;  // for the error message: where we looked
};

Bytes random_bytes(std::size_t n);

// P_SHA256(secret, seed) truncated to `length` bytes (RFC 5246, 5):
//   A(0) = seed, A(i) = HMAC(secret, A(i-1)), output = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) ...
Bytes p_sha256(std::span<const std::uint8_t> secret, std::span<const std::uint8_t> seed, std::size_t length);

// The keys one side uses for a token: Basic256Sha256 takes 32 + 32 + 16 bytes of P_SHA256 in this
// order (OPC 10000-6, 6.7.5). The client's own keys come from P_SHA256(ServerNonce, ClientNonce),
// the server's from P_SHA256(ClientNonce, ServerNonce).
struct SymmetricKeys {
  std::array<std::uint8_t, 32> signing{};
  std::array<std::uint8_t, 32> encryption{};
  std::array<std::uint8_t, 16> iv{};
};
SymmetricKeys derive_keys(std::span<const std::uint8_t> secret, std::span<const std::uint8_t> seed);

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
// AES-256-CBC over whole 16-byte blocks (no OpenSSL padding: UA pads itself).
Result<Bytes> aes256_cbc(bool encrypt, const SymmetricKeys& keys, std::span<const std::uint8_t> data);

// RSA PKCS#1 v1.5 with SHA-256.
Result<Bytes> rsa_sign_sha256(EVP_PKEY* key, std::span<const std::uint8_t> data);
Status rsa_verify_sha256(EVP_PKEY* key, std::span<const std::uint8_t> data, std::span<const std::uint8_t> signature);
// RSA-OAEP (SHA-1): plaintext in blocks of key_bytes - 42, ciphertext in blocks of key_bytes.
inline constexpr std::size_t kOaepSha1Overhead = 42;
Result<Bytes> rsa_oaep_encrypt(EVP_PKEY* key, std::span<const std::uint8_t> plain);
Result<Bytes> rsa_oaep_decrypt(EVP_PKEY* key, std::span<const std::uint8_t> cipher);

}  // namespace resonance::opcua
