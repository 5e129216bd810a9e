// SQLite-backed provenance records (schema: docs/formats/provenance.md).

#include "resonance/governance/provenance_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace resonance::governance {

namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS provenance_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO provenance_meta(key, value) VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS batch (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  connector TEXT NOT NULL,
  client_id TEXT NOT NULL,
  receive_ts_ns INTEGER NOT NULL,
  transformations TEXT NOT NULL,
  min_ts_ns INTEGER NOT NULL,
  max_ts_ns INTEGER NOT NULL,
  sample_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_series (
  batch_id INTEGER NOT NULL REFERENCES batch(id),
  series_id INTEGER NOT NULL,
  min_ts_ns INTEGER NOT NULL,
  max_ts_ns INTEGER NOT NULL,
  PRIMARY KEY (series_id, batch_id)
) WITHOUT ROWID;
)sql";

Status sqlite_error(sqlite3* db, std::string_view what) {
  return Status(StatusCode::kIoError,
                fmt::format("provenance store: {}: {}", what, sqlite3_errmsg(db)));
}

// Owns one prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string join_transformations(const std::vector<std::string>& t) {
  std::string out;
  for (const auto& s : t) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> split_transformations(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

BatchSummary summarize(const SampleBatch& batch) {
  BatchSummary s;
  s.provenance = batch.provenance;
  s.sample_count = batch.samples.size();
  std::map<SeriesId, SeriesRange> ranges;
  for (const auto& x : batch.samples) {
    auto [it, fresh] = ranges.try_emplace(x.series, SeriesRange{x.series, x.ts_ns, x.ts_ns});
    if (!fresh) {
      it->second.min_ts_ns = std::min(it->second.min_ts_ns, x.ts_ns);
      it->second.max_ts_ns = std::max(it->second.max_ts_ns, x.ts_ns);
    }
  }
  for (const auto& [id, r] : ranges) {
    if (s.series.empty()) {
      s.min_ts_ns = r.min_ts_ns;
      s.max_ts_ns = r.max_ts_ns;
    }
    s.min_ts_ns = std::min(s.min_ts_ns, r.min_ts_ns);
    s.max_ts_ns = std::max(s.max_ts_ns, r.max_ts_ns);
    s.series.push_back(r);
  }
  return s;
}

Result<std::unique_ptr<ProvenanceStore>> ProvenanceStore::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Status st(StatusCode::kIoError,
              fmt::format("provenance store {}: cannot open: {}", file.string(),
                          db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return error(std::move(st));
  }
  std::unique_ptr<ProvenanceStore> store(new ProvenanceStore(db));  // private constructor
  char* msg = nullptr;
  if (sqlite3_exec(db, kSchema, nullptr, nullptr, &msg) != SQLITE_OK) {
    Status st(StatusCode::kIoError, fmt::format("provenance store {}: cannot create the schema: {}",
                                                file.string(), msg ? msg : "?"));
    sqlite3_free(msg);
    return error(std::move(st));
  }
  Stmt version(db, "SELECT value FROM provenance_meta WHERE key='schema_version'");
  if (!version || sqlite3_step(version.get()) != SQLITE_ROW ||
      std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(version.get(), 0))) != "1")
    return error(
        StatusCode::kFailedPrecondition,
        fmt::format("provenance store {}: schema_version is not 1 (written by another version)",
                    file.string()));
  return store;
}

ProvenanceStore::~ProvenanceStore() {
  sqlite3_close(db_);
}

Result<std::int64_t> ProvenanceStore::insert_locked(const BatchSummary& b) {
  Stmt ins(db_,
           "INSERT INTO batch(connector, client_id, receive_ts_ns, transformations, min_ts_ns, "
           "max_ts_ns, "
           "sample_count) VALUES (?,?,?,?,?,?,?)");
  if (!ins) return error(sqlite_error(db_, "prepare insert"));
  const auto trans = join_transformations(b.provenance.transformations);
  sqlite3_bind_text(ins.get(), 1, b.provenance.connector.data(),
                    static_cast<int>(b.provenance.connector.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(ins.get(), 2, b.provenance.client_id.data(),
                    static_cast<int>(b.provenance.client_id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(ins.get(), 3, b.provenance.receive_ts_ns);
  sqlite3_bind_text(ins.get(), 4, trans.data(), static_cast<int>(trans.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(ins.get(), 5, b.min_ts_ns);
  sqlite3_bind_int64(ins.get(), 6, b.max_ts_ns);
  sqlite3_bind_int64(ins.get(), 7, static_cast<sqlite3_int64>(b.sample_count));
  if (sqlite3_step(ins.get()) != SQLITE_DONE) return error(sqlite_error(db_, "insert batch"));
  const std::int64_t id = sqlite3_last_insert_rowid(db_);
  Stmt ser(db_,
           "INSERT INTO batch_series(batch_id, series_id, min_ts_ns, max_ts_ns) VALUES (?,?,?,?)");
  if (!ser) return error(sqlite_error(db_, "prepare insert"));
  for (const auto& r : b.series) {
    sqlite3_reset(ser.get());
    sqlite3_bind_int64(ser.get(), 1, id);
    sqlite3_bind_int64(ser.get(), 2, r.series);
    sqlite3_bind_int64(ser.get(), 3, r.min_ts_ns);
    sqlite3_bind_int64(ser.get(), 4, r.max_ts_ns);
    if (sqlite3_step(ser.get()) != SQLITE_DONE)
      return error(sqlite_error(db_, "insert batch_series"));
  }
  return id;
}

Result<std::int64_t> ProvenanceStore::record(const BatchSummary& batch) {
  std::lock_guard lock(mu_);
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return error(sqlite_error(db_, "begin"));
  auto id = insert_locked(batch);
  if (!id) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return id;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Status st = sqlite_error(db_, "commit");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return error(std::move(st));
  }
  return id;
}

Status ProvenanceStore::record_all(std::span<const BatchSummary> batches) {
  std::lock_guard lock(mu_);
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "begin");
  for (const auto& b : batches) {
    if (auto id = insert_locked(b); !id) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return id.error();
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Status st = sqlite_error(db_, "commit");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
  return {};
}

Result<std::vector<ProvenanceRecord>> ProvenanceStore::query(SeriesId series, TimestampNs from_ns,
                                                             TimestampNs to_ns,
                                                             std::size_t limit) const {
  if (from_ns > to_ns)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("provenance query: 'from' ({}) is after 'to' ({})", from_ns, to_ns));
  std::lock_guard lock(mu_);
  Stmt q(db_,
         "SELECT b.id, b.connector, b.client_id, b.receive_ts_ns, b.transformations, b.min_ts_ns, "
         "b.max_ts_ns, "
         "b.sample_count FROM batch_series s JOIN batch b ON b.id = s.batch_id "
         "WHERE s.series_id = ? AND s.max_ts_ns >= ? AND s.min_ts_ns <= ? ORDER BY b.id LIMIT ?");
  if (!q) return error(sqlite_error(db_, "prepare query"));
  sqlite3_bind_int64(q.get(), 1, series);
  sqlite3_bind_int64(q.get(), 2, from_ns);
  sqlite3_bind_int64(q.get(), 3, to_ns);
  sqlite3_bind_int64(q.get(), 4,
                     static_cast<sqlite3_int64>(std::min<std::size_t>(limit, 1'000'000)));
  std::vector<ProvenanceRecord> out;
  auto text = [&](int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), col));
    return std::string(p ? p : "");
  };
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    ProvenanceRecord r;
    r.batch_id = sqlite3_column_int64(q.get(), 0);
    r.connector = text(1);
    r.client_id = text(2);
    r.receive_ts_ns = sqlite3_column_int64(q.get(), 3);
    r.transformations = split_transformations(text(4));
    r.min_ts_ns = sqlite3_column_int64(q.get(), 5);
    r.max_ts_ns = sqlite3_column_int64(q.get(), 6);
    r.sample_count = static_cast<std::uint64_t>(sqlite3_column_int64(q.get(), 7));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return error(sqlite_error(db_, "query"));
  Stmt s(db_, "SELECT series_id FROM batch_series WHERE batch_id = ? ORDER BY series_id");
  if (!s) return error(sqlite_error(db_, "prepare query"));
  for (auto& r : out) {
    sqlite3_reset(s.get());
    sqlite3_bind_int64(s.get(), 1, r.batch_id);
    while (sqlite3_step(s.get()) == SQLITE_ROW)
      r.series.push_back(static_cast<SeriesId>(sqlite3_column_int64(s.get(), 0)));
  }
  return out;
}

Result<std::int64_t> ProvenanceStore::count() const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT COUNT(*) FROM batch");
  if (!q || sqlite3_step(q.get()) != SQLITE_ROW) return error(sqlite_error(db_, "count"));
  return sqlite3_column_int64(q.get(), 0);
}

ProvenanceListener::ProvenanceListener(ProvenanceStore& store, std::size_t max_pending,
                                       int flush_interval_ms)
    : store_(store),
      writer_({.max_pending = max_pending, .flush_interval_ms = flush_interval_ms},
              [this](std::vector<BatchSummary>& batch) { return store_.record_all(batch); }) {}

ProvenanceListener::~ProvenanceListener() = default;  // the writer writes what is pending

Admission ProvenanceListener::on_durable(const SampleBatch& batch) {
  // Summarised before queueing: the only per-sample work stays off the lock.
  return writer_.push(summarize(batch)) ? Admission::kAccepted : Admission::kRetryLater;
}

Status ProvenanceListener::flush() { return writer_.flush(); }

std::uint64_t ProvenanceListener::write_errors() const { return writer_.write_errors(); }

}  // namespace resonance::governance
