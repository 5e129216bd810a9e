// `resonance audit …` end to end: keys made by the CLI, a log written through the library, then
// verify / prove / consistency / cosign on the directory with nothing else running.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>

#include "resonance/audit/tiles.h"
#include "resonance/audit/verify.h"
#include "test_util.h"

namespace resonance::audit {
namespace {

using testing::filled_log;
using testing::make_entry;
using testing::scratch_dir;

struct Run {
  int exit_code;
  std::string output;
};

Run resonance(const std::string& args) {
  Run r{-1, ""};
  FILE* p = ::popen((std::string(RESONANCE_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) r.output += buf.data();
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(AuditCli, KeygenVerifyProveConsistencyCosign) {
  const auto work = scratch_dir("cli");
  const std::string keys = (work / "log").string();
  auto keygen = resonance("audit keygen --name example.com/edge/cli --out " + keys);
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  struct stat st{};
  ASSERT_EQ(::stat((keys + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(resonance("audit keygen --name example.com/edge/cli --out " + keys).exit_code, 2);  // never overwrites
  const std::string vkey = "@" + keys + ".vkey";

  auto signer = Signer::load(keys + ".key");
  ASSERT_TRUE(signer.has_value()) << signer.error().message();
  const auto dir = work / "log-dir";
  {
    auto log = filled_log(dir, *signer, 500);
    std::filesystem::copy_file(dir / "checkpoint", work / "old-checkpoint");
    std::vector<Entry> more;
    for (std::uint64_t i = 500; i < 900; ++i) more.push_back(make_entry(i));
    ASSERT_TRUE(log->append_batch(more).has_value());
    ASSERT_TRUE(log->checkpoint().has_value());
  }
  auto verify = resonance("audit verify " + dir.string() + " --key " + vkey);
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("ok — 900 entries"), std::string::npos) << verify.output;

  auto prove = resonance("audit prove --entry 7 " + dir.string() + " --key " + vkey);
  ASSERT_EQ(prove.exit_code, 0) << prove.output;
  auto proof = parse_proof_file(prove.output);
  ASSERT_TRUE(proof.has_value()) << proof.error().message();
  EXPECT_EQ(proof->index, 7u);
  EXPECT_EQ(resonance("audit prove --entry 900 " + dir.string()).exit_code, 2);

  auto consistent = resonance("audit consistency " + (work / "old-checkpoint").string() + " " + dir.string() + " --key " + vkey);
  EXPECT_EQ(consistent.exit_code, 0) << consistent.output;
  EXPECT_NE(consistent.output.find("consistent: size 500 -> 900"), std::string::npos) << consistent.output;

  const std::string wkeys = (work / "witness").string();
  ASSERT_EQ(resonance("audit keygen --witness --name witness.example/plant --out " + wkeys).exit_code, 0);
  EXPECT_EQ(resonance("audit verify " + dir.string() + " --key " + vkey + " --witness @" + wkeys + ".vkey").exit_code, 1);
  auto cosign = resonance("audit cosign " + dir.string() + " --witness-key " + wkeys + ".key --key " + vkey);
  ASSERT_EQ(cosign.exit_code, 0) << cosign.output;
  auto witnessed = resonance("audit verify " + dir.string() + " --key " + vkey + " --witness @" + wkeys + ".vkey");
  EXPECT_EQ(witnessed.exit_code, 0) << witnessed.output;
  EXPECT_NE(witnessed.output.find("witness.example/plant"), std::string::npos) << witnessed.output;

  // A forked history under the same key is caught by consistency against the old checkpoint.
  const auto forked = work / "forked";
  {
    auto log = Log::open(forked, *signer, LogOptions{.fsync = false});
    ASSERT_TRUE(log.has_value());
    for (std::uint64_t i = 0; i < 600; ++i) {
      auto e = make_entry(i);
      if (i == 123) e.body = "{\"rewritten\":true}";
      ASSERT_TRUE((*log)->append(e).has_value());
    }
    ASSERT_TRUE((*log)->checkpoint().has_value());
  }
  EXPECT_EQ(resonance("audit verify " + forked.string() + " --key " + vkey).exit_code, 0);  // self-consistent
  auto fork = resonance("audit consistency " + (work / "old-checkpoint").string() + " " + forked.string() + " --key " + vkey);
  EXPECT_EQ(fork.exit_code, 1) << fork.output;
  EXPECT_NE(fork.output.find("fork"), std::string::npos) << fork.output;

  // A tampered entry in the copy.
  const auto bundle_path = dir / "tile/entries/001";
  auto entries = *parse_bundle(*read_file(bundle_path));
  entries[3][entries[3].size() - 2] ^= 1;
  std::string bundle;
  for (const auto& e : entries) append_to_bundle(e, bundle);
  ASSERT_TRUE(write_file_atomic(bundle_path, bundle).is_ok());
  auto tampered = resonance("audit verify " + dir.string() + " --key " + vkey);
  EXPECT_EQ(tampered.exit_code, 1) << tampered.output;
  EXPECT_NE(tampered.output.find("entry 259 "), std::string::npos) << tampered.output;
}

TEST(AuditCli, HelpAndUsageErrors) {
  EXPECT_EQ(resonance("audit --help").exit_code, 0);
  for (const char* sub : {"verify", "prove", "consistency", "keygen", "cosign"}) {
    auto help = resonance(std::string("audit ") + sub + " --help");
    EXPECT_EQ(help.exit_code, 0) << sub;
  }
  auto bad_key = resonance("audit verify /nonexistent --key not-a-key");
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.output.find("--key not-a-key"), std::string::npos) << bad_key.output;
}

// Regression: `--out PREFIX` without a directory part failed with "cannot create (Invalid
// argument)" after writing only the private key.
TEST(AuditCli, KeygenWithABarePrefixWritesBothFiles) {
  const auto work = scratch_dir("cli-bare");
  FILE* p = ::popen(("cd " + work.string() + " && " + RESONANCE_BINARY +
                     " audit keygen --name bare.example --out bare 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::array<char, 4096> buf{};
  std::string out;
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  const int status = ::pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_TRUE(std::filesystem::exists(work / "bare.key"));
  auto vkey = read_file(work / "bare.vkey");
  ASSERT_TRUE(vkey.has_value());
  EXPECT_EQ(*vkey, out);
}

}  // namespace
}  // namespace resonance::audit
