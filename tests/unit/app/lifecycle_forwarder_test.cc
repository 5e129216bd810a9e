// The model registry's stage changes reach the transparency log once each, in order, across
// passes and restarts of the forwarder (the cursor file), and a damaged cursor is refused.
#include "lifecycle_forwarder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "resonance/audit/note.h"

namespace resonance::app {
namespace {

class LifecycleForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lifecycle_fwd_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto signer = audit::Signer::generate("test.example/lifecycle", audit::KeyType::kEd25519);
    ASSERT_TRUE(signer.has_value());
    auto log = audit::Log::open(dir_ / "audit", std::move(*signer));
    ASSERT_TRUE(log.has_value()) << log.error().to_string();
    log_ = std::move(*log);
    auto registry = models::ModelRegistry::open(dir_ / "registry.sqlite");
    ASSERT_TRUE(registry.has_value());
    registry_ = std::move(*registry);
  }
  void TearDown() override {
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<LifecycleForwarder> forwarder() {
    return std::make_unique<LifecycleForwarder>(*log_, dir_ / "registry.sqlite", dir_ / "cursor",
                                                std::chrono::milliseconds(50));
  }

  std::filesystem::path dir_;
  std::unique_ptr<audit::Log> log_;
  std::unique_ptr<models::ModelRegistry> registry_;
};

TEST_F(LifecycleForwarderTest, EachChangeOnceInOrderAcrossRestarts) {
  ASSERT_TRUE(registry_->add("rul", "1", R"({"name":"rul"})").is_ok());
  ASSERT_TRUE(registry_->set_stage("rul", "1", "production").is_ok());
  const std::uint64_t before = log_->size();
  {
    auto f = forwarder();
    ASSERT_TRUE(f->forward_now().is_ok());
    EXPECT_EQ(f->forwarded(), 2u);
    EXPECT_EQ(log_->size(), before + 2);
    ASSERT_TRUE(f->forward_now().is_ok());  // nothing new
    EXPECT_EQ(log_->size(), before + 2);
  }
  ASSERT_TRUE(registry_->add("rul", "2", R"({"name":"rul","v":2})").is_ok());
  ASSERT_TRUE(registry_->set_stage("rul", "2", "production").is_ok());  // archives 1, promotes 2
  auto f = forwarder();  // a restarted node: the cursor file says where it stopped
  ASSERT_TRUE(f->forward_now().is_ok());
  EXPECT_EQ(f->forwarded(), 3u);
  EXPECT_EQ(log_->size(), before + 5);
  std::ifstream cursor(dir_ / "cursor");
  std::int64_t seq = 0;
  cursor >> seq;
  EXPECT_EQ(seq, 5);
}

TEST_F(LifecycleForwarderTest, PollerPicksUpChangesMadeWhileRunning) {
  auto f = forwarder();
  ASSERT_TRUE(f->forward_now().is_ok());
  f->start();
  ASSERT_TRUE(registry_->add("anomaly", "1", "{}").is_ok());
  for (int i = 0; i < 100 && f->forwarded() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  f->stop();
  EXPECT_EQ(f->forwarded(), 1u);
  EXPECT_EQ(f->errors(), 0u);
}

TEST_F(LifecycleForwarderTest, DamagedCursorIsRefusedNamingTheFile) {
  std::ofstream(dir_ / "cursor") << "12x\n";
  auto f = forwarder();
  const Status s = f->forward_now();
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("cursor: expected the last forwarded sequence number, found '12x'"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace resonance::app
