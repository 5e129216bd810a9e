// Registry promote/rollback, made by another connection (as `resonance model promote` is), switch
// the running version; a version that cannot run is refused once, counted, and the old one runs on.
#include "model_watcher.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "resonance/infomodel/loader.h"
#include "resonance/models/manifest.h"
#include "tests/unit/models/fake_consumer.h"
#include "tests/unit/models/threshold_manifest.h"

namespace resonance::app {
namespace {

using models::test_support::threshold_manifest;

TEST(ModelWatcher, PromoteAndRollbackSwitchTheRunningVersionAndABadOneIsRefusedOnce) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("model_watcher_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto registry_file = dir / "registry.sqlite";
  const auto models_dir = dir / "models";
  // The CLI's connection: every change below is made through it, not the watcher's.
  auto cli = models::ModelRegistry::open(registry_file);
  ASSERT_TRUE(cli);
  auto bad = threshold_manifest("3", 10);
  bad.files = {{"model.bin", std::string(64, 'a')}};  // never written
  for (const auto& m : {threshold_manifest("1", 80), threshold_manifest("2", 20), bad}) {
    std::filesystem::create_directories(models_dir / m.name / m.version);
    ASSERT_TRUE((*cli)->add(m.name, m.version, m.to_json()).is_ok());
  }
  ASSERT_TRUE((*cli)->set_stage("load-limit", "1", "production").is_ok());

  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog);
  models::test_support::FakeConsumer consumer;
  models::InferenceScheduler scheduler(infomodel::builtin_model(), **catalog, consumer,
                                       [](auto&&) {});
  auto first = deployment_from_registry(**cli, models_dir, "load-limit");
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_TRUE(scheduler.deploy(std::move(*first)).is_ok());
  scheduler.start();

  std::vector<std::pair<std::string, std::string>> switched;
  ModelWatcher watcher(scheduler, registry_file, models_dir, {"load-limit"},
                       std::chrono::milliseconds(1000),
                       [&](const models::RegistryEntry& now, const std::string& from) {
                         switched.emplace_back(from, now.version);
                       });
  EXPECT_TRUE(watcher.check_now().is_ok());  // nothing to do
  EXPECT_TRUE(switched.empty());

  ASSERT_TRUE((*cli)->set_stage("load-limit", "2", "production").is_ok());
  EXPECT_TRUE(watcher.check_now().is_ok());
  EXPECT_EQ(scheduler.running_version("load-limit"), "2");

  auto back = (*cli)->rollback("load-limit");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "1");
  EXPECT_TRUE(watcher.check_now().is_ok());
  EXPECT_EQ(scheduler.running_version("load-limit"), "1");

  ASSERT_TRUE((*cli)->set_stage("load-limit", "3", "production").is_ok());
  Status refused = watcher.check_now();
  EXPECT_EQ(refused.code(), StatusCode::kNotFound) << refused.message();
  EXPECT_NE(refused.message().find("model.bin"), std::string::npos) << refused.message();
  EXPECT_EQ(scheduler.running_version("load-limit"), "1");
  // Another change to the registry (not to this name's production) does not refuse it again.
  ASSERT_TRUE((*cli)->add("other", "1", threshold_manifest("1", 1).to_json()).is_ok());
  EXPECT_TRUE(watcher.check_now().is_ok());
  EXPECT_EQ(watcher.refused(), 1u);
  EXPECT_EQ(scheduler.stats().refused_swaps, 1u);

  EXPECT_EQ(switched, (std::vector<std::pair<std::string, std::string>>{{"1", "2"}, {"2", "1"}}));
  EXPECT_EQ(watcher.switches(), 2u);
  scheduler.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::app
