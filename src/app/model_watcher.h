#pragma once
// Registry stage changes reach the running node: `resonance model promote|rollback` (another
// process) changes which version of a name is in production; the watcher notices within about a
// poll interval (`PRAGMA data_version`, so an idle registry costs one pragma per poll), loads that
// version from <models_dir>/<name>/<version>/, and has the InferenceScheduler switch to it
// between two windows. A version that cannot run (missing file, sha256 mismatch, manifest that
// does not match the contract or the running inputs) is refused, logged once and counted; the
// old version keeps running until production names another one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "resonance/core/periodic_thread.h"
#include "resonance/core/status.h"
#include "resonance/models/inference.h"
#include "resonance/models/registry.h"

namespace resonance::app {

class ModelWatcher {
 public:
  // After a switch the worker applied: the registry entry now running and the version it replaced.
  using OnSwitch =
      std::function<void(const models::RegistryEntry& now, const std::string& from_version)>;

  // `names`: the models deployed from the registry by name alone (inference.deploy without @:
  // those follow production; a pinned name@version does not).
  ModelWatcher(models::InferenceScheduler& scheduler, std::filesystem::path registry_file,
               std::filesystem::path models_dir, std::vector<std::string> names,
               std::chrono::milliseconds interval, OnSwitch on_switch = {});
  ~ModelWatcher();  // stops
  ModelWatcher(const ModelWatcher&) = delete;
  ModelWatcher& operator=(const ModelWatcher&) = delete;

  // One pass: every watched name whose production version differs from the running one is
  // switched (or refused). Thread-safe with the poller.
  Status check_now();
  void start();
  void stop();  // joins; idempotent

  std::uint64_t switches() const { return switches_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  models::InferenceScheduler& scheduler_;
  const std::filesystem::path registry_file_, models_dir_;
  const std::vector<std::string> names_;
  const std::chrono::milliseconds interval_;
  OnSwitch on_switch_;
  std::mutex pass_mu_;                               // one pass at a time
  std::unique_ptr<models::ModelRegistry> registry_;  // guarded by pass_mu_
  std::int64_t seen_data_version_ = -1;              // guarded by pass_mu_
  // name → "version registered_ns" last refused, so a bad version is refused (and counted)
  // once, not every poll. Guarded by pass_mu_.
  std::map<std::string, std::string> refused_key_;
  std::atomic<std::uint64_t> switches_{0}, refused_{0}, errors_{0};
  PeriodicThread worker_;  // last: joined before the members its pass uses are destroyed
};

// "name" or "name@version" from the registry; files in <models_dir>/<name>/<version>/.
Result<models::Deployment> deployment_from_registry(const models::ModelRegistry& registry,
                                                    const std::filesystem::path& models_dir,
                                                    std::string_view spec);

}  // namespace resonance::app
