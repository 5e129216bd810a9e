// Offline verification of a copied log directory: each kind of damage is found and named.
#include <gtest/gtest.h>

#include <cstring>

#include "resonance/audit/tiles.h"
#include "resonance/audit/verify.h"
#include "test_util.h"

namespace resonance::audit {
namespace {

using testing::filled_log;
using testing::make_entry;
using testing::scratch_dir;
using testing::test_signer;

void rewrite(const std::filesystem::path& path, const std::string& data) { ASSERT_TRUE(write_file_atomic(path, data).is_ok()); }

class VerifyDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    filled_log(dir_, signer_, 300).reset();
    bundle_ = *read_file(dir_ / "tile/entries/000");
  }
  std::string verify_error() {
    auto r = verify_log_dir(dir_, signer_.verifier(), {});
    EXPECT_FALSE(r.has_value());
    return r ? "" : r.error().message();
  }
  Signer signer_ = test_signer();
  std::filesystem::path dir_;
  std::string bundle_;
};

TEST_F(VerifyDir, IntactLogVerifies) {
  auto r = verify_log_dir(dir_, signer_.verifier(), {});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->entries_checked, 300u);
  EXPECT_EQ(r->checkpoint.size, 300u);
}

TEST_F(VerifyDir, TamperedEntryIsNamed) {
  auto entries = *parse_bundle(bundle_);
  entries[5][entries[5].size() - 3] ^= 1;
  std::string bundle;
  for (const auto& e : entries) append_to_bundle(e, bundle);
  rewrite(dir_ / "tile/entries/000", bundle);
  const auto msg = verify_error();
  EXPECT_NE(msg.find("entry 5 "), std::string::npos) << msg;
  EXPECT_NE(msg.find("altered"), std::string::npos) << msg;
}

TEST_F(VerifyDir, TamperedEntryWithRewrittenTilesBreaksTheRoot) {
  // An attacker who rewrites the level-0 tile is caught by the level-1 tile; one who rewrites
  // every hash tile still cannot match the signed root.
  auto entries = *parse_bundle(bundle_);
  entries[7][entries[7].size() - 2] ^= 1;
  std::string bundle;
  for (const auto& e : entries) append_to_bundle(e, bundle);
  rewrite(dir_ / "tile/entries/000", bundle);
  MemoryTree t;
  for (const auto& e : entries) t.append(leaf_hash(as_bytes(e)));
  std::string tile0(reinterpret_cast<const char*>(t.level(0).data()), 256 * 32);
  rewrite(dir_ / "tile/0/000", tile0);
  auto msg = verify_error();
  EXPECT_NE(msg.find("tile/1/000.p/1 position 0"), std::string::npos) << msg;
  rewrite(dir_ / "tile/1/000.p/1", std::string(reinterpret_cast<const char*>(t.level(8).data()), 32));
  msg = verify_error();
  EXPECT_NE(msg.find("the 300 entries hash to root"), std::string::npos) << msg;
}

TEST_F(VerifyDir, ReorderedEntriesAreNamed) {
  auto entries = *parse_bundle(bundle_);
  std::swap(entries[3], entries[4]);
  std::string bundle;
  for (const auto& e : entries) append_to_bundle(e, bundle);
  rewrite(dir_ / "tile/entries/000", bundle);
  const auto msg = verify_error();
  EXPECT_NE(msg.find("entry 3 "), std::string::npos) << msg;
  EXPECT_NE(msg.find("moved"), std::string::npos) << msg;
}

TEST_F(VerifyDir, TruncatedLogIsNamed) {
  const auto partial = dir_ / "tile/entries/001.p/44";
  std::string data = *read_file(partial);
  auto entries = *parse_bundle(data);
  entries.pop_back();
  std::string bundle;
  for (const auto& e : entries) append_to_bundle(e, bundle);
  rewrite(partial, bundle);
  auto msg = verify_error();
  EXPECT_NE(msg.find("holds 43 entries"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  std::filesystem::remove(partial);
  msg = verify_error();
  EXPECT_NE(msg.find("entries 256..: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST_F(VerifyDir, WrongKeyAndMissingWitnessAreNamed) {
  const auto other = test_signer();
  auto r = verify_log_dir(dir_, other.verifier(), {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("no signature by required key example.com/edge/test-node"), std::string::npos)
      << r.error().message();
  auto witness = Signer::generate("witness.example", KeyType::kEd25519Cosignature);
  r = verify_log_dir(dir_, signer_.verifier(), {witness->verifier()});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("witness.example"), std::string::npos);
  auto cosigned = cosign_note(*read_file(dir_ / "checkpoint"), *witness, 1'763'700'000);
  rewrite(dir_ / "checkpoint", *cosigned);
  r = verify_log_dir(dir_, signer_.verifier(), {witness->verifier()});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->signed_by.size(), 2u);
}

TEST_F(VerifyDir, ProofOfAnEntryChecks) {
  auto text = prove_entry(dir_, 257, &signer_.verifier());
  ASSERT_TRUE(text.has_value()) << text.error().message();
  auto proof = parse_proof_file(*text);
  ASSERT_TRUE(proof.has_value()) << proof.error().message();
  auto cp = parse_checkpoint_text(parse_note(proof->checkpoint)->text);
  std::vector<std::uint8_t> bytes;
  ASSERT_TRUE(encode_entry(make_entry(257), bytes).is_ok());
  EXPECT_TRUE(verify_inclusion(leaf_hash(bytes), 257, cp->size, proof->proof, cp->root).is_ok());
  EXPECT_EQ(prove_entry(dir_, 300, &signer_.verifier()).error().code(), StatusCode::kOutOfRange);
}

TEST(Consistency, GrowingLogIsConsistentAndAForkIsNamed) {
  const auto signer = test_signer();
  const auto dir = scratch_dir("consistency");
  const auto old_copy = scratch_dir("consistency-old") / "checkpoint";
  {
    auto log = filled_log(dir, signer, 100);
    std::filesystem::copy_file(dir / "checkpoint", old_copy);
    std::vector<Entry> more;
    for (std::uint64_t i = 100; i < 150; ++i) more.push_back(make_entry(i));
    ASSERT_TRUE(log->append_batch(more).has_value());
    ASSERT_TRUE(log->checkpoint().has_value());
  }
  auto ok = check_consistency(old_copy, dir, dir, &signer.verifier());
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->older.size, 100u);
  EXPECT_FALSE(ok->proof.empty());

  // The same key signs a different history: entry 50 differs.
  const auto forked_dir = scratch_dir("consistency-fork");
  {
    auto log = Log::open(forked_dir, signer, LogOptions{.fsync = false});
    for (std::uint64_t i = 0; i < 120; ++i) {
      auto e = make_entry(i);
      if (i == 50) e.body = "{\"forged\":true}";
      ASSERT_TRUE((*log)->append(e).has_value());
    }
    ASSERT_TRUE((*log)->checkpoint().has_value());
  }
  auto fork = check_consistency(old_copy, forked_dir, forked_dir, &signer.verifier());
  ASSERT_FALSE(fork.has_value());
  EXPECT_EQ(fork.error().code(), StatusCode::kCorruption);
  EXPECT_NE(fork.error().message().find("not consistent"), std::string::npos) << fork.error().message();
  EXPECT_NE(fork.error().message().find("fork"), std::string::npos) << fork.error().message();
  auto rollback = check_consistency(dir, old_copy, dir, &signer.verifier());
  ASSERT_FALSE(rollback.has_value());
  EXPECT_NE(rollback.error().message().find("rollback"), std::string::npos);
}

}  // namespace
}  // namespace resonance::audit
