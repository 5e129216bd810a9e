#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "resonance/audit/tiles.h"
#include "resonance/audit/verify.h"
#include "test_util.h"

namespace resonance::audit {
namespace {

using testing::filled_log;
using testing::make_entry;
using testing::scratch_dir;
using testing::test_signer;

TEST(Log, AppendsGetConsecutiveIndexesAndProofsCheckAgainstTheCheckpoint) {
  const auto dir = scratch_dir("append");
  const auto signer = test_signer();
  auto log = Log::open(dir, signer);
  ASSERT_TRUE(log.has_value()) << log.error().message();
  EXPECT_EQ(*(*log)->append(make_entry(0)), 0u);
  std::vector<Entry> batch{make_entry(1), make_entry(2), make_entry(3)};
  EXPECT_EQ(*(*log)->append_batch(batch), 1u);
  EXPECT_EQ((*log)->size(), 4u);
  auto note = (*log)->checkpoint();
  ASSERT_TRUE(note.has_value()) << note.error().message();
  auto opened = open_note(*note, {signer.verifier()});
  ASSERT_TRUE(opened.has_value());
  auto cp = parse_checkpoint_text(opened->note.text);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->size, 4u);
  EXPECT_EQ(cp->root, (*log)->root());
  std::vector<std::uint8_t> bytes;
  ASSERT_TRUE(encode_entry(make_entry(2), bytes).is_ok());
  auto proof = (*log)->prove_inclusion(2, 4);
  ASSERT_TRUE(proof.has_value());
  EXPECT_TRUE(verify_inclusion(leaf_hash(bytes), 2, 4, *proof, cp->root).is_ok());
}

TEST(Log, TilesServeTheSameTreeAcrossTileBoundaries) {
  const auto dir = scratch_dir("tiles");
  const auto signer = test_signer();
  auto log = filled_log(dir, signer, 66'000, 1000);  // level-2 tile exists from 65,536 entries
  ASSERT_TRUE(std::filesystem::exists(dir / "tile/2/000.p/1"));
  ASSERT_TRUE(std::filesystem::exists(dir / "tile/1/001.p/1"));
  ASSERT_TRUE(std::filesystem::exists(dir / "tile/entries/257.p/208"));
  TileHashReader tiles(dir, 66'000);
  EXPECT_EQ(*tree_hash(tiles, 66'000), log->root());
  for (std::uint64_t index : {0ull, 255ull, 256ull, 65'535ull, 65'999ull}) {
    auto a = prove_inclusion(tiles, index, 66'000);
    ASSERT_TRUE(a.has_value()) << a.error().message();
    EXPECT_EQ(*a, *log->prove_inclusion(index, 66'000)) << index;
  }
  for (std::uint64_t old_size : {1ull, 256ull, 300ull, 65'536ull, 65'999ull}) {
    auto a = prove_consistency(tiles, old_size, 66'000);
    ASSERT_TRUE(a.has_value()) << a.error().message();
    EXPECT_EQ(*a, *log->prove_consistency(old_size, 66'000)) << old_size;
  }
}

TEST(Log, ReopenReplaysTheJournalAndCutsATornTail) {
  const auto dir = scratch_dir("reopen");
  const auto signer = test_signer();
  Hash root;
  {
    auto log = filled_log(dir, signer, 300);
    ASSERT_TRUE(log->append(make_entry(300)).has_value());  // after the checkpoint
    root = log->root();
  }
  {
    // A torn record: a length that runs past the end of the file.
    const int fd = ::open((dir / "journal").c_str(), O_WRONLY | O_APPEND);
    const char torn[] = {0x00, 0x40, 'x', 'y'};
    ASSERT_EQ(::write(fd, torn, sizeof torn), 4);
    ::close(fd);
  }
  auto log = Log::open(dir, signer);
  ASSERT_TRUE(log.has_value()) << log.error().message();
  EXPECT_EQ((*log)->size(), 301u);
  EXPECT_EQ((*log)->root(), root);
  EXPECT_EQ((*log)->stats().recovered_torn_bytes, 4u);
  EXPECT_EQ((*log)->stats().checkpoint_size, 300u);
  EXPECT_EQ(*(*log)->append(make_entry(301)), 301u);
  ASSERT_TRUE((*log)->checkpoint().has_value());
  EXPECT_TRUE(verify_log_dir(dir, signer.verifier(), {}).has_value());
}

TEST(Log, RefusesAJournalShorterThanItsSignedCheckpoint) {
  const auto dir = scratch_dir("rollback");
  const auto signer = test_signer();
  filled_log(dir, signer, 10).reset();
  std::filesystem::resize_file(dir / "journal", std::filesystem::file_size(dir / "journal") / 2);
  auto log = Log::open(dir, signer);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code(), StatusCode::kCorruption);
  EXPECT_NE(log.error().message().find("rolled-back"), std::string::npos) << log.error().message();
}

TEST(Log, SecondOpenOfTheSameDirectoryIsRefused) {
  const auto dir = scratch_dir("lock");
  auto a = Log::open(dir, test_signer());
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(Log::open(dir, test_signer()).has_value());
}

TEST(Log, OversizeEntryIsRejectedAndLogStaysUsable) {
  const auto dir = scratch_dir("oversize");
  auto log = Log::open(dir, test_signer());
  ASSERT_TRUE(log.has_value());
  auto r = (*log)->append(Entry{EntryType::kLogMeta, 0, std::string(70'000, 'x')});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*(*log)->append(make_entry(0)), 0u);
}

// An acknowledged append survives kill -9: a child appends and reports each acknowledged index
// through a pipe; the parent kills it mid-stream and reopens the log.
TEST(Log, AcknowledgedAppendsSurviveKillNine) {
  const auto dir = scratch_dir("kill9");
  const auto signer = test_signer();
  for (int trial = 0; trial < 3; ++trial) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto log = Log::open(dir, signer, LogOptions{.fsync = false});
      if (!log) ::_exit(3);
      for (std::uint64_t i = 0;; ++i) {
        auto index = (*log)->append(make_entry(i));
        if (!index) ::_exit(4);
        const std::uint64_t acked = *index;
        if (::write(fds[1], &acked, sizeof acked) != sizeof acked) ::_exit(5);
        if (i % 500 == 0 && !(*log)->checkpoint()) ::_exit(6);
      }
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 50 * trial));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    std::uint64_t last = 0, value = 0;
    bool any = false;
    while (::read(fds[0], &value, sizeof value) == sizeof value) {
      last = value;
      any = true;
    }
    ::close(fds[0]);
    ASSERT_TRUE(any);
    auto log = Log::open(dir, signer);
    ASSERT_TRUE(log.has_value()) << log.error().message();
    EXPECT_GT((*log)->size(), last) << "trial " << trial;
    ASSERT_TRUE((*log)->checkpoint().has_value());
    log->reset();
    auto verified = verify_log_dir(dir, signer.verifier(), {});
    ASSERT_TRUE(verified.has_value()) << verified.error().message();
  }
}

}  // namespace
}  // namespace resonance::audit
