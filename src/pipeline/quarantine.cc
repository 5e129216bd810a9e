#include "resonance/pipeline/quarantine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>

namespace resonance {
namespace {

constexpr int kSchemaVersion = 1;

// A label value Prometheus accepts and a user can filter on: [a-z0-9_], at most 32 bytes.
std::string label_of(std::string_view code) {
  std::string out;
  for (char c : code.substr(0, 32)) {
    const char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    out.push_back((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') ? l : '_');
  }
  return out.empty() ? "other" : out;
}

bool matches(const QuarantineEntry& e, const QuarantineQuery& q) {
  return e.receive_ts_ns >= q.from_ns && e.receive_ts_ns <= q.to_ns &&
         (q.reason_code.empty() || e.reason_code == q.reason_code);
}

Status sqlite_error(sqlite3* db, std::string_view what) {
  return {StatusCode::kIoError, fmt::format("quarantine: {}: {}", what, sqlite3_errmsg(db))};
}

Status exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    Status s(StatusCode::kIoError, fmt::format("quarantine: '{}': {}", sql, msg ? msg : "?"));
    sqlite3_free(msg);
    return s;
  }
  return Status::ok();
}

// Owns a prepared statement for one scope.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
  void text(int i, const std::string& v) { sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  std::string column_text(int i) const {
    const auto* p = sqlite3_column_text(s, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : "";
  }
};

}  // namespace

void QuarantineEntry::set_raw(std::span<const std::uint8_t> bytes) {
  raw_size = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), UINT32_MAX));
  const auto kept = bytes.first(std::min(bytes.size(), kQuarantineMaxRawBytes));
  raw_hex.clear();
  raw_hex.reserve(kept.size() * 2);
  for (auto b : kept) fmt::format_to(std::back_inserter(raw_hex), "{:02x}", b);
}

Quarantine::Quarantine(MetricsRegistry& metrics, std::size_t capacity)
    : Quarantine(metrics, QuarantineOptions{.capacity = capacity}, nullptr) {}

Quarantine::Quarantine(MetricsRegistry& metrics, QuarantineOptions options, sqlite3* db)
    : options_(options),
      metrics_(metrics),
      total_(metrics.counter("resonance_quarantine_samples_total",
                             "Samples and payloads refused and kept in the quarantine with the reason")),
      dropped_(metrics.counter("resonance_quarantine_dropped_total",
                               "Quarantine entries dropped: the oldest beyond capacity, or a full write backlog")),
      write_errors_(metrics.counter("resonance_quarantine_write_errors_total",
                                    "Failed writes of the durable quarantine")),
      db_(db) {
  if (db_) writer_ = std::jthread([this](std::stop_token stop) { writer_loop(stop); });
}

Result<std::unique_ptr<Quarantine>> Quarantine::open(const std::filesystem::path& path, MetricsRegistry& metrics,
                                                     QuarantineOptions options) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    Status s = sqlite_error(db, fmt::format("cannot open '{}'", path.string()));
    sqlite3_close(db);
    return std::unexpected(s);
  }
  // NORMAL in WAL mode: a committed flush survives a process crash; a power cut may lose the last
  // flush. The quarantine is a diagnostic record, not accepted data.
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=2000",
        "CREATE TABLE IF NOT EXISTS quarantine(id INTEGER PRIMARY KEY, receive_ts_ns INTEGER NOT NULL, "
        "reason_code TEXT NOT NULL, reason TEXT NOT NULL, stage TEXT NOT NULL, connector TEXT NOT NULL, "
        "client_id TEXT NOT NULL, source TEXT NOT NULL, topic TEXT NOT NULL, series INTEGER NOT NULL, "
        "sample_ts_ns INTEGER, value REAL, quality INTEGER, raw_hex TEXT NOT NULL, raw_size INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS quarantine_by_time ON quarantine(receive_ts_ns)"}) {
    if (Status s = exec(db, sql); !s) {
      sqlite3_close(db);
      return std::unexpected(s);
    }
  }
  Stmt version;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &version.s, nullptr);
  const int found = sqlite3_step(version.s) == SQLITE_ROW ? sqlite3_column_int(version.s, 0) : -1;
  if (found == 0) {
    (void)exec(db, fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str());
  } else if (found != kSchemaVersion) {
    sqlite3_close(db);
    return std::unexpected(Status(StatusCode::kFailedPrecondition,
                                  fmt::format("quarantine: '{}' has schema version {}, this build reads {}",
                                              path.string(), found, kSchemaVersion)));
  }
  std::unique_ptr<Quarantine> q(new Quarantine(metrics, options, db));
  Stmt max_id;
  sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(id), 0) FROM quarantine", -1, &max_id.s, nullptr);
  if (sqlite3_step(max_id.s) == SQLITE_ROW) q->next_id_ = static_cast<std::uint64_t>(sqlite3_column_int64(max_id.s, 0)) + 1;
  return q;
}

Quarantine::~Quarantine() {
  if (writer_.joinable()) {
    writer_.request_stop();
    wake_.notify_all();
    writer_.join();
  }
  if (db_) {
    (void)flush();
    sqlite3_close(db_);
  }
}

void Quarantine::add(QuarantineEntry&& entry) {
  total_.inc();
  if (entry.reason_code.empty()) entry.reason_code = entry.stage.empty() ? "other" : entry.stage;
  entry.reason_code = label_of(entry.reason_code);
  if (entry.receive_ts_ns == 0) entry.receive_ts_ns = unix_now_ns();
  if (entry.raw_hex.size() > kQuarantineMaxRawBytes * 2) entry.raw_hex.resize(kQuarantineMaxRawBytes * 2);
  // Off the happy path (only refused input lands here), so a lookup by label is affordable.
  metrics_.counter("resonance_quarantine_entries_total", "Quarantine entries by reason code",
                   fmt::format("reason=\"{}\"", entry.reason_code)).inc();
  std::lock_guard lock(mu_);
  entry.id = next_id_++;
  if (db_) {
    if (pending_.size() >= options_.max_pending) {
      dropped_.inc();  // the writer cannot keep up; counted, never blocks the caller
    } else {
      pending_.push_back(entry);
      wake_.notify_one();
    }
  }
  if (recent_.size() >= options_.capacity) {
    recent_.pop_front();
    if (!db_) dropped_.inc();  // durable mode counts what the database drops
  }
  recent_.push_back(std::move(entry));
}

std::vector<QuarantineEntry> Quarantine::recent() const {
  std::lock_guard lock(mu_);
  return {recent_.begin(), recent_.end()};
}

void Quarantine::writer_loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, stop, std::chrono::milliseconds(options_.flush_interval_ms),
                     [this] { return pending_.size() >= 256; });
    }
    (void)flush();
  }
}

Status Quarantine::flush() const {
  if (!db_) return Status::ok();
  std::lock_guard db_lock(db_mu_);
  return write_pending_locked();
}

Status Quarantine::write_pending_locked() const {
  std::vector<QuarantineEntry> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return Status::ok();
  auto fail = [&](Status s) {
    write_errors_.inc();
    (void)exec(db_, "ROLLBACK");
    spdlog::warn("{} ({} entries lost)", s.to_string(), batch.size());
    return s;
  };
  if (Status s = exec(db_, "BEGIN"); !s) return fail(s);
  Stmt ins;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO quarantine(id, receive_ts_ns, reason_code, reason, stage, connector, "
                         "client_id, source, topic, series, sample_ts_ns, value, quality, raw_hex, raw_size) "
                         "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &ins.s, nullptr) != SQLITE_OK)
    return fail(sqlite_error(db_, "prepare insert"));
  for (const auto& e : batch) {
    sqlite3_reset(ins.s);
    sqlite3_bind_int64(ins.s, 1, static_cast<sqlite3_int64>(e.id));
    sqlite3_bind_int64(ins.s, 2, e.receive_ts_ns);
    ins.text(3, e.reason_code);
    ins.text(4, e.reason);
    ins.text(5, e.stage);
    ins.text(6, e.connector);
    ins.text(7, e.client_id);
    ins.text(8, e.source);
    ins.text(9, e.topic);
    sqlite3_bind_int64(ins.s, 10, e.sample.series);
    if (e.has_sample()) {
      sqlite3_bind_int64(ins.s, 11, e.sample.ts_ns);
      if (std::isnan(e.sample.value)) sqlite3_bind_null(ins.s, 12);  // SQLite stores NaN as NULL anyway
      else sqlite3_bind_double(ins.s, 12, e.sample.value);
      sqlite3_bind_int64(ins.s, 13, e.sample.quality.code);
    } else {
      for (int i : {11, 12, 13}) sqlite3_bind_null(ins.s, i);
    }
    ins.text(14, e.raw_hex);
    sqlite3_bind_int64(ins.s, 15, e.raw_size);
    if (sqlite3_step(ins.s) != SQLITE_DONE) return fail(sqlite_error(db_, "insert"));
  }
  Stmt trim;
  sqlite3_prepare_v2(db_, "DELETE FROM quarantine WHERE id <= (SELECT MAX(id) FROM quarantine) - ?", -1, &trim.s,
                     nullptr);
  sqlite3_bind_int64(trim.s, 1, static_cast<sqlite3_int64>(options_.capacity));
  if (sqlite3_step(trim.s) != SQLITE_DONE) return fail(sqlite_error(db_, "trim"));
  dropped_.inc(static_cast<std::uint64_t>(sqlite3_changes(db_)));
  if (Status s = exec(db_, "COMMIT"); !s) return fail(s);
  return Status::ok();
}

Result<std::vector<QuarantineEntry>> Quarantine::query(const QuarantineQuery& q) const {
  std::vector<QuarantineEntry> out;
  if (!db_) {
    std::lock_guard lock(mu_);
    for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < q.limit; ++it)
      if (matches(*it, q)) out.push_back(*it);
    return out;
  }
  std::lock_guard db_lock(db_mu_);
  if (Status s = write_pending_locked(); !s) return std::unexpected(s);
  Stmt sel;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id, receive_ts_ns, reason_code, reason, stage, connector, client_id, source, "
                         "topic, series, sample_ts_ns, value, quality, raw_hex, raw_size FROM quarantine "
                         "WHERE receive_ts_ns >= ? AND receive_ts_ns <= ? AND (? = '' OR reason_code = ?) "
                         "ORDER BY id DESC LIMIT ?",
                         -1, &sel.s, nullptr) != SQLITE_OK)
    return std::unexpected(sqlite_error(db_, "prepare query"));
  sqlite3_bind_int64(sel.s, 1, q.from_ns);
  sqlite3_bind_int64(sel.s, 2, q.to_ns);
  sel.text(3, q.reason_code);
  sel.text(4, q.reason_code);
  sqlite3_bind_int64(sel.s, 5, static_cast<sqlite3_int64>(std::min<std::size_t>(q.limit, INT64_MAX)));
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(sel.s)) == SQLITE_ROW) {
    QuarantineEntry e;
    e.id = static_cast<std::uint64_t>(sqlite3_column_int64(sel.s, 0));
    e.receive_ts_ns = sqlite3_column_int64(sel.s, 1);
    e.reason_code = sel.column_text(2);
    e.reason = sel.column_text(3);
    e.stage = sel.column_text(4);
    e.connector = sel.column_text(5);
    e.client_id = sel.column_text(6);
    e.source = sel.column_text(7);
    e.topic = sel.column_text(8);
    e.sample.series = static_cast<SeriesId>(sqlite3_column_int64(sel.s, 9));
    if (sqlite3_column_type(sel.s, 10) != SQLITE_NULL) {
      e.sample.ts_ns = sqlite3_column_int64(sel.s, 10);
      e.sample.value = sqlite3_column_type(sel.s, 11) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(sel.s, 11);
      e.sample.quality.code = static_cast<std::uint32_t>(sqlite3_column_int64(sel.s, 12));
    }
    e.raw_hex = sel.column_text(13);
    e.raw_size = static_cast<std::uint32_t>(sqlite3_column_int64(sel.s, 14));
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return std::unexpected(sqlite_error(db_, "query"));
  return out;
}

}  // namespace resonance
