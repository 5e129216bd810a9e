#include <gtest/gtest.h>

#include "resonance/audit/note.h"

namespace resonance::audit {
namespace {

constexpr std::string_view kBody = "example.com/edge/n1\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

TEST(Keys, VerifierKeyRoundTripsAndChecksTheKeyId) {
  auto signer = Signer::generate("example.com/edge/n1", KeyType::kEd25519);
  ASSERT_TRUE(signer.has_value());
  const std::string vkey = signer->verifier().to_string();
  auto parsed = parse_verifier_key(vkey);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->key_id, signer->verifier().key_id);
  EXPECT_EQ(parsed->public_key, signer->verifier().public_key);
  // Change one hex digit of the key id.
  std::string bad = vkey;
  const auto pos = bad.find('+') + 1;
  bad[pos] = bad[pos] == '0' ? '1' : '0';
  auto rejected = parse_verifier_key(bad);
  ASSERT_FALSE(rejected.has_value());
  EXPECT_NE(rejected.error().message().find("does not match"), std::string::npos);
  EXPECT_FALSE(parse_verifier_key("no-plus-signs").has_value());
  EXPECT_FALSE(parse_verifier_key("name+0000000+AQ==").has_value());
}

TEST(Keys, PrivateKeyTextRoundTrips) {
  auto signer = Signer::generate("witness.example", KeyType::kEd25519Cosignature);
  ASSERT_TRUE(signer.has_value());
  auto again = Signer::parse(signer->private_key_text());
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(again->verifier().to_string(), signer->verifier().to_string());
  EXPECT_EQ(again->sign_raw("m"), signer->sign_raw("m"));
}

TEST(Note, SignedNoteOpensAndTamperingIsNamed) {
  auto signer = Signer::generate("example.com/edge/n1", KeyType::kEd25519);
  auto note = sign_note(kBody, *signer);
  ASSERT_TRUE(note.has_value());
  auto opened = open_note(*note, {signer->verifier()});
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(opened->note.text, kBody);

  std::string tampered = *note;
  tampered[tampered.find('3')] = '4';
  auto bad = open_note(tampered, {signer->verifier()});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.error().message().find("example.com/edge/n1"), std::string::npos);

  auto other = Signer::generate("example.com/edge/n1", KeyType::kEd25519);
  auto unsigned_by = open_note(*note, {other->verifier()});
  ASSERT_FALSE(unsigned_by.has_value());
  EXPECT_NE(unsigned_by.error().message().find("no signature by required key"), std::string::npos);
}

TEST(Note, UnknownSignaturesAreIgnoredAndCosignaturesVerify) {
  auto log_key = Signer::generate("example.com/edge/n1", KeyType::kEd25519);
  auto witness = Signer::generate("witness.example", KeyType::kEd25519Cosignature);
  auto stranger = Signer::generate("stranger.example", KeyType::kEd25519Cosignature);
  auto note = sign_note(kBody, *log_key);
  auto cosigned = cosign_note(*note, *stranger, 1700000000);
  cosigned = cosign_note(*cosigned, *witness, 1700000001);
  ASSERT_TRUE(cosigned.has_value()) << cosigned.error().message();
  auto opened = open_note(*cosigned, {log_key->verifier(), witness->verifier()});
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(opened->verified_by.size(), 2u);
  EXPECT_EQ(opened->cosignature_times[1], 1700000001u);
  EXPECT_EQ(opened->note.signatures.size(), 3u);
  // Re-cosigning replaces the witness's old line instead of adding a second one.
  auto again = cosign_note(*cosigned, *witness, 1700000099);
  EXPECT_EQ(parse_note(*again)->signatures.size(), 3u);
  // A log key cannot cosign and a witness key cannot sign a checkpoint.
  EXPECT_FALSE(cosign_note(*note, *log_key, 1).has_value());
  EXPECT_FALSE(sign_note(kBody, *witness).has_value());
}

TEST(Note, MalformedNotesAreRejectedWithAReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"text\n", "no blank line"},
      {"text\n\n", "no signature lines"},
      {"text\n\n\xE2\x80\x94 name AAAA\n", "shorter than key id"},
      {"text\n\n- name AAAAAAAA\n", "does not start with"},
      {"text\n\n\xE2\x80\x94 name AAAAAAAA", "does not end with a newline"},
      {"te\x01xt\n\n\xE2\x80\x94 name AAAAAAAA\n", "control character"},
      {"text\n\n\xE2\x80\x94 name AAAAAAA\n", "base64"},
  };
  for (const auto& [input, reason] : cases) {
    auto n = parse_note(input);
    ASSERT_FALSE(n.has_value()) << input;
    EXPECT_NE(n.error().message().find(reason), std::string::npos) << n.error().message();
  }
}

TEST(Checkpoint, ParsesAndFormatsCanonically) {
  auto c = parse_checkpoint_text(kBody);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->origin, "example.com/edge/n1");
  EXPECT_EQ(c->size, 3u);
  EXPECT_EQ(format_checkpoint_text(*c), kBody);
  EXPECT_FALSE(parse_checkpoint_text("o\n03\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").has_value());
  EXPECT_FALSE(parse_checkpoint_text("o\n3\nAAAA\n").has_value());
  EXPECT_FALSE(parse_checkpoint_text("o\n3\n").has_value());
  EXPECT_FALSE(parse_checkpoint_text("o\n99999999999999999999\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").has_value());
}

TEST(ProofFile, RoundTrips) {
  auto signer = Signer::generate("example.com/edge/n1", KeyType::kEd25519);
  ProofFile p{"extra bytes", 2, {Hash{}, Hash{1}}, *sign_note(kBody, *signer)};
  const auto text = format_proof_file(p);
  auto back = parse_proof_file(text);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->index, 2u);
  EXPECT_EQ(back->extra, "extra bytes");
  EXPECT_EQ(back->proof, p.proof);
  EXPECT_EQ(back->checkpoint, p.checkpoint);
  EXPECT_FALSE(parse_proof_file("c2sp.org/tlog-proof@v1\nindex x\n\n").has_value());
}

}  // namespace
}  // namespace resonance::audit
