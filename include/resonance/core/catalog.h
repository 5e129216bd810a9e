#pragma once
// The series catalog: ISA-95-style paths (site/area/line/equipment/signal) mapped to stable,
// dense numeric ids, kept in SQLite so ids never change across restarts. Schema and rules:
// docs/formats/catalog.md.

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

struct sqlite3;

namespace resonance {

struct SeriesInfo {
  SeriesId id = 0;
  std::string path;         // "site/area/line/equipment/signal"
  std::string unit;         // UNECE code or free text; may be empty until the info model sets it
  TimestampNs created_ns = 0;
};

// Checks that `path` has exactly five non-empty segments of [A-Za-z0-9_.-], at most 64 bytes
// each. The error says which segment is wrong and why.
Status validate_series_path(std::string_view path);

// Thread-safe. Lookups of known paths are served from memory; only a new path touches SQLite.
class SeriesCatalog {
 public:
  // `file` may be ":memory:" for tests.
  static Result<std::unique_ptr<SeriesCatalog>> open(const std::filesystem::path& file);
  ~SeriesCatalog();
  SeriesCatalog(const SeriesCatalog&) = delete;
  SeriesCatalog& operator=(const SeriesCatalog&) = delete;

  // The id of `path`, creating the series if it is new (the insert is committed before return).
  Result<SeriesId> resolve(std::string_view path, std::string_view unit = "");
  std::optional<SeriesInfo> find(SeriesId id) const;
  // Cheap membership test for the per-sample path: no copy of the path or unit strings.
  bool contains(SeriesId id) const;
  std::optional<SeriesInfo> find(std::string_view path) const;
  std::vector<SeriesInfo> list() const;  // ordered by id

 private:
  explicit SeriesCatalog(sqlite3* db);
  Status load();

  mutable std::mutex mu_;
  sqlite3* db_;  // owned; closed in the destructor
  std::vector<SeriesInfo> by_id_;  // index = id - 1 (ids are dense)
  std::unordered_map<std::string, SeriesId> by_path_;
};

}  // namespace resonance
