#include "model_watcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "resonance/models/manifest.h"

namespace resonance::app {

Result<models::Deployment> deployment_from_registry(const models::ModelRegistry& registry,
                                                    const std::filesystem::path& models_dir,
                                                    std::string_view spec) {
  const auto at = spec.find('@');
  const std::string name(spec.substr(0, at));
  auto entry = at == std::string_view::npos ? registry.production(name)
                                            : registry.get(name, spec.substr(at + 1));
  if (!entry)
    return error(entry.error().code(),
                 fmt::format("inference.deploy '{}': {}", spec, entry.error().message()));
  auto manifest = models::parse_manifest(entry->manifest_json,
                                         fmt::format("registry {}@{}", name, entry->version));
  if (!manifest) return error(manifest.error());
  return models::Deployment{std::move(*manifest), models_dir / entry->name / entry->version};
}

ModelWatcher::ModelWatcher(models::InferenceScheduler& scheduler,
                           std::filesystem::path registry_file, std::filesystem::path models_dir,
                           std::vector<std::string> names, std::chrono::milliseconds interval,
                           OnSwitch on_switch)
    : scheduler_(scheduler),
      registry_file_(std::move(registry_file)),
      models_dir_(std::move(models_dir)),
      names_(std::move(names)),
      interval_(interval),
      on_switch_(std::move(on_switch)) {}

ModelWatcher::~ModelWatcher() {
  stop();
}

Status ModelWatcher::check_now() {
  std::lock_guard pass(pass_mu_);
  if (!registry_) {
    auto opened = models::ModelRegistry::open(registry_file_);
    if (!opened) return opened.error();
    registry_ = std::move(*opened);
  }
  auto version = registry_->data_version();
  if (!version) return version.error();
  if (*version == seen_data_version_) return Status::ok();  // nobody committed since the last pass
  Status result;
  for (const auto& name : names_) {
    auto entry = registry_->production(name);
    if (!entry) {
      // No production version (all archived): the running one stays; nothing to switch to.
      continue;
    }
    const std::string from = scheduler_.running_version(name);
    if (entry->version == from) {
      refused_key_.erase(name);
      continue;
    }
    const std::string key = fmt::format("{} {}", entry->version, entry->registered_ns);
    if (auto it = refused_key_.find(name); it != refused_key_.end() && it->second == key) continue;
    auto deployment = deployment_from_registry(*registry_, models_dir_, name);
    Status s = deployment ? scheduler_.swap(std::move(*deployment)) : deployment.error();
    if (!s) {
      refused_key_[name] = key;
      refused_.fetch_add(1, std::memory_order_relaxed);
      spdlog::error(
          "inference: {} version {} is production in {} but is not deployed; version {} keeps "
          "running: {}",
          name, entry->version, registry_file_.string(), from, s.message());
      result = s;
      continue;
    }
    refused_key_.erase(name);
    switches_.fetch_add(1, std::memory_order_relaxed);
    if (on_switch_) on_switch_(*entry, from);
  }
  seen_data_version_ = *version;
  return result;
}

void ModelWatcher::start() {
  worker_.start(interval_, [this] {
    if (Status s = check_now(); !s && s.code() == StatusCode::kIoError) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("inference: model registry {} not read (will retry): {}", registry_file_.string(),
                   s.message());
    }
  });
}

void ModelWatcher::stop() { worker_.stop(); }

}  // namespace resonance::app
