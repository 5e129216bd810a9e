// Basic256Sha256 pieces without a peer: P_SHA256 against the published TLS 1.2 PRF vector, the key
// split, padding sizes (with the extra byte of keys above 2048 bits), symmetric chunks that
// round-trip and fail on one flipped byte, asymmetric OPN chunks both ways, and the trust list.

#include "connectors/opcua/secure_channel.h"

#include <gtest/gtest.h>

#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace resonance::opcua {
namespace {

Bytes from_hex(std::string_view h) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// The P_SHA256 vector posted to the IETF TLS list for the TLS 1.2 PRF (secret, "test label" +
// seed, 100 bytes); OPC UA's P_SHA256 is the same function without the label.
TEST(PSha256, MatchesThePublishedTls12Vector) {
  const Bytes secret = from_hex("9bbe436ba940f017b17652849a71db35");
  Bytes seed{'t', 'e', 's', 't', ' ', 'l', 'a', 'b', 'e', 'l'};
  const Bytes s2 = from_hex("a0ba9f936cda311827a6f796ffd5198c");
  seed.insert(seed.end(), s2.begin(), s2.end());
  const Bytes expected = from_hex(
      "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f707"
      "7def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66");
  EXPECT_EQ(p_sha256(secret, seed, 100), expected);
  // A shorter request is a prefix of the longer one.
  EXPECT_EQ(p_sha256(secret, seed, 33), Bytes(expected.begin(), expected.begin() + 33));
}

TEST(PSha256, KeysAreSigningThenEncryptionThenIv) {
  const Bytes secret(32, 0x11), seed(32, 0x22);
  const auto stream = p_sha256(secret, seed, 80);
  const auto k = derive_keys(secret, seed);
  EXPECT_TRUE(std::equal(k.signing.begin(), k.signing.end(), stream.begin()));
  EXPECT_TRUE(std::equal(k.encryption.begin(), k.encryption.end(), stream.begin() + 32));
  EXPECT_TRUE(std::equal(k.iv.begin(), k.iv.end(), stream.begin() + 64));
  // The two directions differ: swapping secret and seed gives other keys.
  EXPECT_NE(derive_keys(seed, secret).signing, k.signing);
}

TEST(Padding, FillsWholeBlocksWithAtLeastTheSizeByte) {
  // AES (16-byte blocks), HMAC-SHA256 (32): 15 + 32 + 1 = 48 needs only the size byte.
  EXPECT_EQ(padding_length(15, 32, 16, false), 1u);
  EXPECT_EQ(padding_length(16, 32, 16, false), 16u);
  // RSA-2048 OAEP blocks of 214 bytes, 256-byte signature.
  EXPECT_EQ(padding_length(100, 256, 214, false), 72u);
  EXPECT_EQ((100 + 72 + 256) % 214, 0u);
  // RSA-4096 (470-byte blocks): the ExtraPaddingSize byte counts too.
  EXPECT_EQ(padding_length(100, 256, 470, true), 114u);
  EXPECT_EQ((100 + 114 + 256) % 470, 0u);
  for (std::size_t payload = 0; payload < 600; payload += 7)
    for (auto [block, sig, extra] : {std::tuple{16, 32, false}, std::tuple{214, 256, false}, std::tuple{470, 512, true}}) {
      const auto p = padding_length(payload, sig, block, extra);
      EXPECT_EQ((payload + p + sig) % block, 0u) << payload << " " << block;
      EXPECT_LE(p, static_cast<std::size_t>(block) + 1);
    }
}

TEST(Padding, RoundTripsIncludingTheExtraByteAbove255) {
  for (bool extra : {false, true}) {
    const std::size_t length = extra ? 465 : 200;  // 463 padding bytes need the high byte
    Bytes b(10, 0xAB);
    append_padding(b, length, extra);
    ASSERT_EQ(b.size(), 10 + length);
    if (extra) {
      EXPECT_EQ(b.back(), 1);      // 463 >> 8
      EXPECT_EQ(b[10], 463 & 0xFF);
    }
    auto stripped = strip_padding(b, extra);
    ASSERT_TRUE(stripped) << stripped.error().message();
    EXPECT_EQ(*stripped, length);
    b[20] ^= 1;  // a padding byte that does not match its size
    auto bad = strip_padding(b, extra);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("padding at offset 20"), std::string::npos) << bad.error().message();
  }
}

std::vector<Bytes> plain_chunks(ChunkSecurity mode, std::size_t body_size, std::uint32_t chunk_size = 8192) {
  Bytes body(body_size);
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i * 7);
  std::uint32_t seq = 51;
  auto chunks = encode_symmetric_chunks(MessageType::kMessage, 9, 3, seq, 77, body, chunk_size, 0,
                                        symmetric_max_body(mode, chunk_size));
  EXPECT_TRUE(chunks);
  return *chunks;
}

TEST(SymmetricChunk, SignedAndEncryptedChunksRoundTripWithinTheBufferSize) {
  const auto client = derive_keys(Bytes(32, 1), Bytes(32, 2));
  for (auto mode : {ChunkSecurity::kSign, ChunkSecurity::kSignAndEncrypt}) {
    for (std::size_t size : {0u, 1u, 100u, 8135u, 8136u, 8137u, 30000u}) {
      for (const auto& plain : plain_chunks(mode, size)) {
        auto secured = protect_symmetric_chunk(mode, client, plain);
        ASSERT_TRUE(secured) << secured.error().message();
        EXPECT_LE(secured->size(), 8192u);
        if (mode == ChunkSecurity::kSignAndEncrypt && plain.size() > 24) {
          EXPECT_EQ((secured->size() - 16) % 16, 0u);
          // The body is not visible.
          EXPECT_FALSE(std::equal(plain.begin() + 24, plain.end(), secured->begin() + 24)) << size;
        }
        const std::uint32_t stated = (*secured)[4] | (*secured)[5] << 8 | (*secured)[6] << 16 | (*secured)[7] << 24;
        EXPECT_EQ(stated, secured->size());
        auto back = unprotect_symmetric_chunk(mode, client, *secured);
        ASSERT_TRUE(back) << back.error().message();
        EXPECT_EQ(*back, plain);
        auto parsed = parse_symmetric_chunk(*back);
        ASSERT_TRUE(parsed) << parsed.error().message();
        EXPECT_EQ(parsed->request_id, 77u);
      }
    }
  }
}

TEST(SymmetricChunk, OneFlippedByteFailsTheSignatureCheck) {
  const auto keys = derive_keys(Bytes(32, 1), Bytes(32, 2));
  for (auto mode : {ChunkSecurity::kSign, ChunkSecurity::kSignAndEncrypt}) {
    const auto plain = plain_chunks(mode, 500).front();
    auto secured = protect_symmetric_chunk(mode, keys, plain);
    ASSERT_TRUE(secured);
    for (std::size_t at : {std::size_t{12}, std::size_t{40}, secured->size() - 1}) {
      Bytes tampered = *secured;
      tampered[at] ^= 0x01;
      auto r = unprotect_symmetric_chunk(mode, keys, tampered);
      ASSERT_FALSE(r) << "byte " << at;
      EXPECT_EQ(r.error().code(), resonance::StatusCode::kCorruption) << r.error().message();
      EXPECT_NE(r.error().message().find("HMAC-SHA256 signature"), std::string::npos) << r.error().message();
    }
    // Other keys (a stale token) fail the same way.
    auto other = unprotect_symmetric_chunk(mode, derive_keys(Bytes(32, 3), Bytes(32, 2)), *secured);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code(), resonance::StatusCode::kCorruption);
  }
}

TEST(SymmetricChunk, TruncatedEncryptedChunkIsRefused) {
  const auto keys = derive_keys(Bytes(32, 1), Bytes(32, 2));
  auto secured = protect_symmetric_chunk(ChunkSecurity::kSignAndEncrypt, keys, plain_chunks(ChunkSecurity::kSignAndEncrypt, 64).front());
  ASSERT_TRUE(secured);
  secured->resize(secured->size() - 5);
  auto r = unprotect_symmetric_chunk(ChunkSecurity::kSignAndEncrypt, keys, *secured);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("not whole AES blocks"), std::string::npos) << r.error().message();
}

// A self-signed certificate made in memory (the integration tests use the openssl CLI instead).
struct Identity {
  Certificate cert;
  PrivateKey key;
};
Identity make_identity(int bits, const char* cn) {
  PrivateKey key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_sign(x.get(), key.get(), EVP_sha256());
  unsigned char* der = nullptr;
  const int n = i2d_X509(x.get(), &der);
  Bytes d(der, der + n);
  OPENSSL_free(der);
  auto cert = parse_certificate_der(d);
  EXPECT_TRUE(cert);
  return {std::move(*cert), std::move(key)};
}

TEST(AsymmetricChunk, OpnRoundTripsWithBothKeySizes) {
  const auto client = make_identity(2048, "client");
  for (int server_bits : {2048, 3072}) {  // 3072: the ExtraPaddingSize byte on our side
    const auto server = make_identity(server_bits, "server");
    const AsymmetricContext ours{&client.cert, client.key.get(), &server.cert};
    const AsymmetricContext theirs{&server.cert, server.key.get(), &client.cert};
    Bytes body(300);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i);
    auto chunk = encode_secured_open_chunk(0, 1, 2, body, ours);
    ASSERT_TRUE(chunk) << chunk.error().message();
    auto header = parse_asymmetric_header(*chunk);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->security_policy_uri, kSecurityPolicyBasic256Sha256);
    EXPECT_EQ((chunk->size() - header->end) % server.cert.key_bytes(), 0u);
    auto opened = decode_secured_open_chunk(*chunk, theirs);
    ASSERT_TRUE(opened) << opened.error().message();
    EXPECT_EQ(opened->sequence_number, 1u);
    EXPECT_EQ(opened->request_id, 2u);
    EXPECT_EQ(opened->body, body);

    // And back: the server's answer, encrypted with the client key, signed with the server's.
    auto answer = encode_secured_open_chunk(5, 9, 2, body, theirs);
    ASSERT_TRUE(answer);
    auto read = decode_secured_open_chunk(*answer, ours);
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(read->channel_id, 5u);

    // The receiver is someone else: refused before any decryption.
    const auto stranger = make_identity(2048, "stranger");
    const AsymmetricContext wrong{&stranger.cert, stranger.key.get(), &client.cert};
    auto refused = decode_secured_open_chunk(*chunk, wrong);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("ReceiverCertificateThumbprint"), std::string::npos);
  }
}

TEST(AsymmetricChunk, TamperedOpnFailsTheRsaSignature) {
  const auto client = make_identity(2048, "client");
  const auto server = make_identity(2048, "server");
  auto chunk = encode_secured_open_chunk(0, 1, 2, Bytes(50, 1), {&client.cert, client.key.get(), &server.cert});
  ASSERT_TRUE(chunk);
  // The SecureChannelId is signed but neither encrypted nor otherwise checked here.
  (*chunk)[8] ^= 0x01;
  auto r = decode_secured_open_chunk(*chunk, {&server.cert, server.key.get(), &client.cert});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), resonance::StatusCode::kCorruption) << r.error().message();
  EXPECT_NE(r.error().message().find("RSA-SHA256 signature"), std::string::npos) << r.error().message();
  (*chunk)[8] ^= 0x01;
  ASSERT_TRUE(decode_secured_open_chunk(*chunk, {&server.cert, server.key.get(), &client.cert}));
  chunk->back() ^= 0x01;  // the last ciphertext block: OAEP decoding or the signature fails
  EXPECT_FALSE(decode_secured_open_chunk(*chunk, {&server.cert, server.key.get(), &client.cert}));
}

TEST(TrustList, RefusesAnUnknownCertificateNamingItsThumbprint) {
  const auto server = make_identity(2048, "server");
  const auto other = make_identity(2048, "other");
  const auto dir = std::filesystem::temp_directory_path() / ("opcua-trust-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "other.der", std::ios::binary);
    f.write(reinterpret_cast<const char*>(other.cert.der.data()), static_cast<std::streamsize>(other.cert.der.size()));
  }
  TrustList trust;
  ASSERT_TRUE(trust.add_directory(dir));
  auto s = trust.check(server.cert);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(server.cert.thumbprint_hex()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("CN=server"), std::string::npos) << s.message();
  EXPECT_TRUE(trust.check(other.cert));
  {
    std::ofstream f(dir / "server.der", std::ios::binary);
    f.write(reinterpret_cast<const char*>(server.cert.der.data()), static_cast<std::streamsize>(server.cert.der.size()));
  }
  TrustList again;
  ASSERT_TRUE(again.add_directory(dir));
  EXPECT_TRUE(again.check(server.cert));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::opcua
