#include "resonance/models/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace resonance::models {
namespace {

class Registry : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("models_registry_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    registry_ = ModelRegistry::open(dir_ / "registry.sqlite").value();
  }
  void TearDown() override {
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<ModelRegistry> registry_;
};

TEST_F(Registry, VersionsStagesAndRollback) {
  ASSERT_TRUE(registry_->add("rul", "1", "{}").is_ok());
  ASSERT_TRUE(registry_->add("rul", "2", "{}").is_ok());
  EXPECT_EQ(registry_->add("rul", "2", "{}").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(registry_->get("rul", "1")->stage, "staging");

  ASSERT_TRUE(registry_->set_stage("rul", "1", "production").is_ok());
  ASSERT_TRUE(registry_->set_stage("rul", "2", "production").is_ok());
  EXPECT_EQ(registry_->production("rul")->version, "2");
  EXPECT_EQ(registry_->get("rul", "1")->stage, "archived");  // one production version at a time

  const auto restored = registry_->rollback("rul");
  ASSERT_TRUE(restored) << restored.error().message();
  EXPECT_EQ(*restored, "1");
  EXPECT_EQ(registry_->production("rul")->version, "1");
  EXPECT_EQ(registry_->get("rul", "2")->stage, "archived");
  EXPECT_EQ(registry_->list().size(), 2u);

  // Survives reopening.
  registry_ = ModelRegistry::open(dir_ / "registry.sqlite").value();
  EXPECT_EQ(registry_->production("rul")->version, "1");
}

TEST_F(Registry, ErrorsSayWhat) {
  EXPECT_EQ(registry_->set_stage("nope", "1", "production").message(), "unknown model nope version 1");
  ASSERT_TRUE(registry_->add("m", "1", "{}").is_ok());
  EXPECT_EQ(registry_->set_stage("m", "1", "live").message(), "unknown stage 'live' (staging, production, archived)");
  EXPECT_EQ(registry_->rollback("m").error().message(), "model m has no version in production");
  ASSERT_TRUE(registry_->set_stage("m", "1", "production").is_ok());
  EXPECT_EQ(registry_->rollback("m").error().message(), "model m: no earlier production version to roll back to (current 1)");
}

}  // namespace
}  // namespace resonance::models
