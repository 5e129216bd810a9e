#include "resonance/core/dir_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace resonance {
namespace {

TEST(DirLock, SecondHolderIsRefusedWithPidAndFreedOnRelease) {
  const auto dir = std::filesystem::temp_directory_path() / ("dirlock_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto first = DirLock::acquire(dir);
    ASSERT_TRUE(first) << first.error().message();
    // flock locks belong to the open file description: a second open in this process conflicts too.
    auto second = DirLock::acquire(dir);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(second.error().message().find("in use by another resonance process (pid " +
                                            std::to_string(::getpid()) + ")"),
              std::string::npos)
        << second.error().message();
  }
  EXPECT_TRUE(DirLock::acquire(dir));  // released by the destructor
  std::filesystem::remove_all(dir);
}

TEST(DirLock, KilledHolderLeavesNoStaleLock) {
  const auto dir = std::filesystem::temp_directory_path() / ("dirlock_kill_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    auto lock = DirLock::acquire(dir);
    char c = lock ? '1' : '0';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, '1');
  EXPECT_FALSE(DirLock::acquire(dir));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(DirLock::acquire(dir));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance
