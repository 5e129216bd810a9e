#include "connectors/mqttsn/session_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace resonance::mqttsn {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(SessionFileWriter, DrainReturnsOnceTheNewestTextIsOnDisk) {
  const auto dir = scratch("session_writer");
  std::atomic<int> writes{0}, failures{0};
  SessionFileWriter w(dir / "state", [&](const Status& st) { (st.is_ok() ? writes : failures)++; });
  for (int i = 0; i < 100; ++i) w.submit("version " + std::to_string(i) + "\n");
  w.drain();
  EXPECT_EQ(read_all(dir / "state"), "version 99\n");
  // Older texts still waiting when a newer one came were never written.
  EXPECT_GE(writes.load(), 1);
  EXPECT_LE(writes.load(), 100);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "state.tmp"));
  std::filesystem::remove_all(dir);
}

TEST(SessionFileWriter, TheDestructorWritesWhatIsWaiting) {
  const auto dir = scratch("session_writer_dtor");
  {
    SessionFileWriter w(dir / "state", nullptr);
    w.submit("first\n");
    w.submit("last\n");
  }
  EXPECT_EQ(read_all(dir / "state"), "last\n");
  std::filesystem::remove_all(dir);
}

TEST(SessionFileWriter, AFailedWriteIsReportedWithThePath) {
  const auto dir = scratch("session_writer_fail");
  std::string message;
  std::atomic<int> failures{0};
  SessionFileWriter w(dir / "missing" / "state", [&](const Status& st) {
    if (st.is_ok()) return;
    message = st.message();
    ++failures;
  });
  w.submit("x\n");
  w.drain();
  EXPECT_EQ(failures.load(), 1);
  EXPECT_NE(message.find("missing/state.tmp"), std::string::npos) << message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::mqttsn
