#pragma once
// The model registry: one SQLite file recording every registered model version with its
// manifest and stage (staging, production, archived), and the history of stage changes that
// rollback walks back through. At most one version of a name is in production. Each method is one
// transaction; one registry object is not shared between threads.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

struct sqlite3;

namespace resonance::models {

struct RegistryEntry {
  std::string name;
  std::string version;
  std::string stage;  // staging | production | archived
  std::string manifest_json;
  std::int64_t registered_ns = 0;
};

// One stage change of a model version (registration is the change to "staging"), in the order
// the registry recorded them. What the node forwards to the transparency log as model.lifecycle.
struct StageEvent {
  std::int64_t seq = 0;  // increasing, never reused
  std::string name;
  std::string version;
  std::string stage;  // staging | production | archived
  std::int64_t at_ns = 0;
  std::string manifest_sha256;  // hex SHA-256 of the version's manifest JSON as registered
};

class ModelRegistry {
 public:
  static Result<std::unique_ptr<ModelRegistry>> open(const std::filesystem::path& file);
  ~ModelRegistry();
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  // A new version starts in staging; registering an existing name+version is an error.
  Status add(std::string_view name, std::string_view version, std::string_view manifest_json);
  // Moves a version to `stage`; promoting to production archives the current production version.
  Status set_stage(std::string_view name, std::string_view version, std::string_view stage);
  // Puts back in production the version that was there before the current one; the current one
  // is archived. Returns the restored version.
  Result<std::string> rollback(std::string_view name);
  Result<RegistryEntry> get(std::string_view name, std::string_view version) const;
  Result<RegistryEntry> production(std::string_view name) const;
  std::vector<RegistryEntry> list() const;
  // A number that changes whenever another connection (another process: `resonance model
  // promote`) committed to the registry since this one last looked; cheap enough to poll.
  Result<std::int64_t> data_version() const;
  // Stage changes with seq > `after_seq`, oldest first, at most `limit`.
  Result<std::vector<StageEvent>> history_since(std::int64_t after_seq, std::size_t limit = 10'000) const;

 private:
  explicit ModelRegistry(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  sqlite3* db_;
};

}  // namespace resonance::models
