#include "resonance/models/registry.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "resonance/models/dataset.h"  // sha256_hex

#include <chrono>

namespace resonance::models {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return stmt_ != nullptr; }
  Stmt& bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

Status db_error(sqlite3* db, std::string_view what) {
  return {StatusCode::kIoError, fmt::format("model registry: {}: {}", what, sqlite3_errmsg(db))};
}

RegistryEntry entry_from(const Stmt& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4)};
}

constexpr const char* kSelect = "SELECT name, version, stage, manifest, registered_ns FROM models";

}  // namespace

Result<std::unique_ptr<ModelRegistry>> ModelRegistry::open(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status s = db_error(db, fmt::format("open {}", file.string()));
    sqlite3_close(db);
    return std::unexpected(s);
  }
  auto registry = std::unique_ptr<ModelRegistry>(new ModelRegistry(db));
  if (Status s = registry->exec(
          "PRAGMA journal_mode=WAL;"
          "CREATE TABLE IF NOT EXISTS models (name TEXT NOT NULL, version TEXT NOT NULL, stage TEXT NOT NULL,"
          " manifest TEXT NOT NULL, registered_ns INTEGER NOT NULL, PRIMARY KEY (name, version));"
          "CREATE TABLE IF NOT EXISTS stage_history (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
          " version TEXT NOT NULL, stage TEXT NOT NULL, at_ns INTEGER NOT NULL);");
      !s) {
    return std::unexpected(s);
  }
  return registry;
}

ModelRegistry::~ModelRegistry() { sqlite3_close(db_); }

Status ModelRegistry::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    Status s{StatusCode::kIoError, fmt::format("model registry: {}", message != nullptr ? message : "error")};
    sqlite3_free(message);
    return s;
  }
  return {};
}

Status ModelRegistry::add(std::string_view name, std::string_view version, std::string_view manifest_json) {
  if (name.empty() || version.empty()) return {StatusCode::kInvalidArgument, "model name and version must not be empty"};
  if (get(name, version)) {
    return {StatusCode::kAlreadyExists, fmt::format("model {} version {} is already registered", name, version)};
  }
  Stmt s(db_, "INSERT INTO models VALUES (?, ?, 'staging', ?, ?)");
  if (!s.ok()) return db_error(db_, "prepare");
  const auto at = now_ns();
  if (s.bind(1, name).bind(2, version).bind(3, manifest_json).bind(4, at).step() != SQLITE_DONE) return db_error(db_, "insert");
  Stmt h(db_, "INSERT INTO stage_history (name, version, stage, at_ns) VALUES (?, ?, 'staging', ?)");
  if (h.bind(1, name).bind(2, version).bind(3, at).step() != SQLITE_DONE) return db_error(db_, "history");
  return {};
}

Status ModelRegistry::set_stage(std::string_view name, std::string_view version, std::string_view stage) {
  if (stage != "staging" && stage != "production" && stage != "archived") {
    return {StatusCode::kInvalidArgument, fmt::format("unknown stage '{}' (staging, production, archived)", stage)};
  }
  if (auto e = get(name, version); !e) return e.error();
  if (Status s = exec("BEGIN IMMEDIATE"); !s) return s;
  auto update = [&](std::string_view v, std::string_view st) -> bool {
    Stmt u(db_, "UPDATE models SET stage = ? WHERE name = ? AND version = ?");
    if (u.bind(1, st).bind(2, name).bind(3, v).step() != SQLITE_DONE) return false;
    Stmt h(db_, "INSERT INTO stage_history (name, version, stage, at_ns) VALUES (?, ?, ?, ?)");
    return h.bind(1, name).bind(2, v).bind(3, st).bind(4, now_ns()).step() == SQLITE_DONE;
  };
  bool ok = true;
  if (stage == "production") {
    if (auto current = production(name); current && current->version != version) ok = update(current->version, "archived");
  }
  ok = ok && update(version, stage);
  if (!ok) {
    Status s = db_error(db_, "update");
    (void)exec("ROLLBACK");
    return s;
  }
  return exec("COMMIT");
}

Result<std::int64_t> ModelRegistry::data_version() const {
  Stmt s(db_, "PRAGMA data_version");
  if (s.step() != SQLITE_ROW) return std::unexpected(db_error(db_, "data_version"));
  return s.int64(0);
}

Result<std::string> ModelRegistry::rollback(std::string_view name) {
  auto current = production(name);
  if (!current) return std::unexpected(current.error());
  // The most recent production entry in the history for another version that still exists.
  Stmt s(db_,
         "SELECT h.version FROM stage_history h JOIN models m ON m.name = h.name AND m.version = h.version"
         " WHERE h.name = ? AND h.stage = 'production' AND h.version <> ? ORDER BY h.seq DESC LIMIT 1");
  if (s.bind(1, name).bind(2, current->version).step() != SQLITE_ROW) {
    return error(StatusCode::kFailedPrecondition,
                 fmt::format("model {}: no earlier production version to roll back to (current {})", name, current->version));
  }
  const std::string previous = s.text(0);
  if (Status st = set_stage(name, previous, "production"); !st) return std::unexpected(st);
  return previous;
}

Result<RegistryEntry> ModelRegistry::get(std::string_view name, std::string_view version) const {
  Stmt s(db_, fmt::format("{} WHERE name = ? AND version = ?", kSelect).c_str());
  if (s.bind(1, name).bind(2, version).step() != SQLITE_ROW) {
    return error(StatusCode::kNotFound, fmt::format("unknown model {} version {}", name, version));
  }
  return entry_from(s);
}

Result<RegistryEntry> ModelRegistry::production(std::string_view name) const {
  Stmt s(db_, fmt::format("{} WHERE name = ? AND stage = 'production'", kSelect).c_str());
  if (s.bind(1, name).step() != SQLITE_ROW) {
    return error(StatusCode::kNotFound, fmt::format("model {} has no version in production", name));
  }
  return entry_from(s);
}

std::vector<RegistryEntry> ModelRegistry::list() const {
  std::vector<RegistryEntry> out;
  Stmt s(db_, fmt::format("{} ORDER BY name, registered_ns", kSelect).c_str());
  while (s.step() == SQLITE_ROW) out.push_back(entry_from(s));
  return out;
}

Result<std::vector<StageEvent>> ModelRegistry::history_since(std::int64_t after_seq, std::size_t limit) const {
  Stmt s(db_,
         "SELECT h.seq, h.name, h.version, h.stage, h.at_ns, m.manifest FROM stage_history h"
         " JOIN models m ON m.name = h.name AND m.version = h.version WHERE h.seq > ? ORDER BY h.seq LIMIT ?");
  if (!s.ok()) return std::unexpected(db_error(db_, "prepare history"));
  s.bind(1, after_seq).bind(2, static_cast<std::int64_t>(limit));
  std::vector<StageEvent> out;
  int rc = SQLITE_ROW;
  while ((rc = s.step()) == SQLITE_ROW)
    out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.int64(4), sha256_hex(s.text(5))});
  if (rc != SQLITE_DONE) return std::unexpected(db_error(db_, "read history"));
  return out;
}

}  // namespace resonance::models
