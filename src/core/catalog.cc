#include "resonance/core/catalog.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace resonance {

namespace {

constexpr std::size_t kSegments = 5;
constexpr std::size_t kMaxSegmentBytes = 64;
constexpr const char* kSegmentNames[kSegments] = {"site", "area", "line", "equipment", "signal"};

bool is_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

Status sqlite_error(sqlite3* db, std::string_view what) {
  return Status(StatusCode::kIoError, fmt::format("series catalog: {}: {}", what, sqlite3_errmsg(db)));
}

Status exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    Status s(StatusCode::kIoError, fmt::format("series catalog: {}: {}", sql, msg ? msg : "?"));
    sqlite3_free(msg);
    return s;
  }
  return Status::ok();
}

// RAII for a prepared statement.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

}  // namespace

Status validate_series_path(std::string_view path) {
  std::size_t index = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    const std::string_view segment =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (index >= kSegments)
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("series path '{}': more than {} segments (expected "
                                "site/area/line/equipment/signal)",
                                path, kSegments));
    if (segment.empty())
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("series path '{}': segment {} ({}) is empty", path, index + 1,
                                kSegmentNames[index]));
    if (segment.size() > kMaxSegmentBytes)
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("series path '{}': segment {} ({}) is {} bytes, at most {} allowed",
                                path, index + 1, kSegmentNames[index], segment.size(),
                                kMaxSegmentBytes));
    for (std::size_t i = 0; i < segment.size(); ++i) {
      if (!is_path_char(segment[i]))
        return Status(StatusCode::kInvalidArgument,
                      fmt::format("series path '{}': segment {} ({}) has character 0x{:02x} at byte "
                                  "{}; allowed are A-Z a-z 0-9 _ - .",
                                  path, index + 1, kSegmentNames[index],
                                  static_cast<unsigned char>(segment[i]), start + i));
    }
    ++index;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (index != kSegments)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("series path '{}': {} segments, expected {} "
                              "(site/area/line/equipment/signal)",
                              path, index, kSegments));
  return Status::ok();
}

SeriesCatalog::SeriesCatalog(sqlite3* db) : db_(db) {}
SeriesCatalog::~SeriesCatalog() { sqlite3_close(db_); }

Result<std::unique_ptr<SeriesCatalog>> SeriesCatalog::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    Status s = sqlite_error(db, fmt::format("open '{}'", file.string()));
    sqlite3_close(db);
    return error(std::move(s));
  }
  std::unique_ptr<SeriesCatalog> catalog(new SeriesCatalog(db));
  // synchronous=FULL: a series id must be durable before any WAL record that uses it is
  // acknowledged, or recovery could find samples whose path is unknown.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                          "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1')",
                          "CREATE TABLE IF NOT EXISTS series("
                          " id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
                          " unit TEXT NOT NULL DEFAULT '', created_ns INTEGER NOT NULL)"}) {
    if (Status s = exec(db, sql); !s) return error(std::move(s));
  }
  if (Status s = catalog->load(); !s) return error(std::move(s));
  return catalog;
}

Status SeriesCatalog::load() {
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT id, path, unit, created_ns FROM series ORDER BY id", -1,
                         &st.stmt, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "prepare load");
  int rc;
  while ((rc = sqlite3_step(st.stmt)) == SQLITE_ROW) {
    SeriesInfo info;
    info.id = static_cast<SeriesId>(sqlite3_column_int64(st.stmt, 0));
    info.path = reinterpret_cast<const char*>(sqlite3_column_text(st.stmt, 1));
    info.unit = reinterpret_cast<const char*>(sqlite3_column_text(st.stmt, 2));
    info.created_ns = sqlite3_column_int64(st.stmt, 3);
    if (info.id != by_id_.size() + 1)
      return Status(StatusCode::kCorruption,
                    fmt::format("series catalog: ids are not dense: found id {} after {} rows",
                                info.id, by_id_.size()));
    by_path_.emplace(info.path, info.id);
    by_id_.push_back(std::move(info));
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "load series");
  return Status::ok();
}

Result<SeriesId> SeriesCatalog::resolve(std::string_view path, std::string_view unit) {
  std::lock_guard lock(mu_);
  if (auto it = by_path_.find(std::string(path)); it != by_path_.end()) return it->second;
  if (Status s = validate_series_path(path); !s) return error(std::move(s));
  SeriesInfo info;
  info.id = static_cast<SeriesId>(by_id_.size() + 1);
  info.path = std::string(path);
  info.unit = std::string(unit);
  info.created_ns = unix_now_ns();
  Statement st;
  if (sqlite3_prepare_v2(db_, "INSERT INTO series(id, path, unit, created_ns) VALUES(?,?,?,?)", -1,
                         &st.stmt, nullptr) != SQLITE_OK)
    return error(sqlite_error(db_, "prepare insert"));
  sqlite3_bind_int64(st.stmt, 1, info.id);
  sqlite3_bind_text(st.stmt, 2, info.path.data(), static_cast<int>(info.path.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.stmt, 3, info.unit.data(), static_cast<int>(info.unit.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.stmt, 4, info.created_ns);
  if (sqlite3_step(st.stmt) != SQLITE_DONE)
    return error(sqlite_error(db_, fmt::format("insert series '{}'", path)));
  by_path_.emplace(info.path, info.id);
  const SeriesId id = info.id;
  by_id_.push_back(std::move(info));
  return id;
}

std::optional<SeriesInfo> SeriesCatalog::find(SeriesId id) const {
  std::lock_guard lock(mu_);
  if (id == 0 || id > by_id_.size()) return std::nullopt;
  return by_id_[id - 1];
}

bool SeriesCatalog::contains(SeriesId id) const {
  std::lock_guard lock(mu_);
  return id != 0 && id <= by_id_.size();
}

std::optional<SeriesInfo> SeriesCatalog::find(std::string_view path) const {
  std::lock_guard lock(mu_);
  auto it = by_path_.find(std::string(path));
  if (it == by_path_.end()) return std::nullopt;
  return by_id_[it->second - 1];
}

std::vector<SeriesInfo> SeriesCatalog::list() const {
  std::lock_guard lock(mu_);
  return by_id_;
}

}  // namespace resonance
