#pragma once
// Samples and whole payloads that were refused, kept with the reason so nothing is dropped
// silently. Two modes:
//  * in memory (the constructor): the most recent `capacity` entries, for unit tests;
//  * durable (`open(path)`): an SQLite database (docs/formats/quarantine.md), written by a
//    background thread in batches every `flush_interval_ms`, so add() never does I/O on the data
//    path. An entry is durable once flush() returns or the next flush interval passes; entries
//    still pending when the process dies are lost (at most one interval's worth).
// Both keep at most `capacity` entries, dropping the oldest and counting them
// (resonance_quarantine_dropped_total), and count every entry by reason code
// (resonance_quarantine_entries_total{reason}). Thread-safe.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "resonance/core/metrics.h"
#include "resonance/core/sample.h"
#include "resonance/core/status.h"

struct sqlite3;

namespace resonance {

// Raw bytes kept per entry (as hex); longer payloads keep their first kQuarantineMaxRawBytes.
inline constexpr std::size_t kQuarantineMaxRawBytes = 256;

struct QuarantineEntry {
  Sample sample;            // series 0 when a whole payload was refused (no sample decoded)
  std::string reason;       // what was wrong, in words a user can act on
  std::string stage;        // which stage or connector part refused it
  std::string connector;
  std::string client_id;
  TimestampNs receive_ts_ns = 0;  // 0 = now, filled by add()
  // A short label for metrics and filtering ("payload", "validation", ...); empty = the stage.
  std::string reason_code;
  std::string source;       // peer address "127.0.0.1:50123", "[::1]:4000"
  std::string topic;        // topic name or id as the protocol gave it
  std::string raw_hex;      // lowercase hex of at most kQuarantineMaxRawBytes bytes
  std::uint32_t raw_size = 0;  // the payload's full size
  std::uint64_t id = 0;     // assigned by add(), increasing

  // Fills raw_hex/raw_size from `bytes` (bounded).
  void set_raw(std::span<const std::uint8_t> bytes);
  bool has_sample() const { return sample.series != 0; }
};

struct QuarantineQuery {
  TimestampNs from_ns = std::numeric_limits<TimestampNs>::min();  // receive time, inclusive
  TimestampNs to_ns = std::numeric_limits<TimestampNs>::max();    // inclusive
  std::string reason_code;  // empty = any
  std::size_t limit = 100;
};

struct QuarantineOptions {
  std::size_t capacity = 100'000;
  int flush_interval_ms = 200;
  std::size_t max_pending = 10'000;  // beyond: dropped and counted (never blocks the data path)
};

class Quarantine {
 public:
  // In memory only.
  Quarantine(MetricsRegistry& metrics, std::size_t capacity);
  // Durable: opens (creating) the SQLite database at `path`; entries from earlier runs are kept.
  static Result<std::unique_ptr<Quarantine>> open(const std::filesystem::path& path, MetricsRegistry& metrics,
                                                  QuarantineOptions options = {});
  ~Quarantine();
  Quarantine(const Quarantine&) = delete;
  Quarantine& operator=(const Quarantine&) = delete;

  void add(QuarantineEntry&& entry);  // thread-safe, never blocks on I/O
  // Newest first, filtered; in durable mode pending entries are flushed first.
  Result<std::vector<QuarantineEntry>> query(const QuarantineQuery& q) const;
  // Oldest first, up to capacity (compatibility; in-memory view of what this process added).
  std::vector<QuarantineEntry> recent() const;
  Status flush() const;  // durable mode: writes pending entries now
  std::uint64_t total() const { return total_.value(); }
  std::uint64_t dropped() const { return dropped_.value(); }
  bool durable() const { return db_ != nullptr; }

 private:
  Quarantine(MetricsRegistry& metrics, QuarantineOptions options, sqlite3* db);
  void writer_loop(std::stop_token stop);
  Status write_pending_locked() const;  // requires db_mu_

  const QuarantineOptions options_;
  MetricsRegistry& metrics_;
  Counter& total_;
  Counter& dropped_;
  Counter& write_errors_;

  mutable std::mutex mu_;
  std::deque<QuarantineEntry> recent_;            // guarded by mu_; bounded by capacity
  mutable std::vector<QuarantineEntry> pending_;  // guarded by mu_; durable mode, not yet written
  std::uint64_t next_id_ = 1;                     // guarded by mu_
  std::condition_variable_any wake_;

  mutable std::mutex db_mu_;  // serialises SQLite use (writer thread, flush(), query())
  sqlite3* db_ = nullptr;     // owned; null in memory mode
  std::jthread writer_;
};

}  // namespace resonance
