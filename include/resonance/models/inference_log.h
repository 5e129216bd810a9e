#pragma once
// Where inference records go (docs/formats/inference-log.md): a versioned JSON-lines file beside
// the data, queryable per model, and `inference.batch` entries of the transparency log. The writer
// has its own thread: the scheduler's worker only hands records over (bounded; drops counted), and
// the log's fsync never delays a model run.

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <sys/types.h>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/models/inference.h"

namespace resonance::models {

inline constexpr int kInferenceLogVersion = 1;
// The log writer's file writeback step, and its thread's nice value (inference_log.cc says why).
inline constexpr long kWritebackChunkBytes = 512 * 1024;
inline constexpr int kWriterNice = 10;

// One record as one canonical JSON object (sorted keys), model and version included.
std::string inference_record_json(const InferenceRecord& record);
// A live version switch as its log line: {"at_ns","event":"switch","from_version","model","version"}.
std::string model_switch_json(const ModelSwitch& event);
// Bodies of `inference.batch` audit entries: consecutive records of one model version grouped as
// {"model","version","records":[…]}, each body at most `max_body_bytes`.
std::vector<std::string> inference_batch_bodies(std::span<const InferenceRecord> records,
                                                std::size_t max_body_bytes = 60'000);

// The newest `limit` records of `model` (all models when empty) in the log file, oldest first, as
// JSON lines. Errors name the file and line of a line that is not a record.
Result<std::vector<std::string>> read_inference_log(const std::filesystem::path& file, std::string_view model,
                                                    std::size_t limit);

struct InferenceLogStats {
  std::uint64_t written = 0;        // records in the file
  std::uint64_t dropped = 0;        // records turned away (queue full)
  std::uint64_t audit_entries = 0;  // inference.batch entries appended
  std::uint64_t write_errors = 0;   // failed file writes or audit appends (the records are lost)
};

class InferenceLogWriter {
 public:
  // Appends the bodies as inference.batch entries; may be empty (no audit log). Called on the
  // writer thread.
  using AuditAppend = std::function<Status(std::span<const std::string> bodies)>;

  // Opens (creating it with a header line) the JSON-lines file; refuses a file of another version.
  // The writer also keeps the newest `keep_recent` records it wrote in memory, for recent().
  static Result<std::unique_ptr<InferenceLogWriter>> open(const std::filesystem::path& file, AuditAppend append,
                                                         std::size_t max_pending = 1'000'000,
                                                         int flush_interval_ms = 200,
                                                         std::size_t keep_recent = 10'000);
  ~InferenceLogWriter();  // writes what is pending, then joins
  InferenceLogWriter(const InferenceLogWriter&) = delete;
  InferenceLogWriter& operator=(const InferenceLogWriter&) = delete;

  void push(std::vector<InferenceRecord>&& records);  // any thread; never waits for I/O
  // A switch line, written between the records pushed before and after it. Any thread.
  void push_switch(const ModelSwitch& event);
  Status flush();                                     // writes what is pending now
  InferenceLogStats stats() const;
  // Of the newest records written (at most keep_recent; older ones are in the file and the audit
  // log): those of `model` (empty = all) whose window ends in [from_ns, to_ns], the newest `limit`
  // of them, oldest first. Any thread (GET /api/v1/inference).
  std::vector<InferenceRecord> recent(std::string_view model, TimestampNs from_ns, TimestampNs to_ns,
                                      std::size_t limit) const;
  const std::filesystem::path& file() const { return path_; }

 private:
  InferenceLogWriter(std::filesystem::path path, std::FILE* file, AuditAppend append, std::size_t max_pending,
                     int flush_interval_ms, std::size_t keep_recent);
  void run();
  void write_back(off_t bytes);  // the last `bytes` written

  const std::filesystem::path path_;
  std::FILE* file_;  // owned; written only under flush_mu_
  AuditAppend append_;
  const std::size_t max_pending_;
  const int flush_interval_ms_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<InferenceRecord> pending_;  // guarded by mu_
  // Switch lines and the pending_ index they go before. Guarded by mu_.
  std::vector<std::pair<std::size_t, std::string>> pending_lines_;
  bool stopping_ = false;                 // guarded by mu_
  InferenceLogStats stats_;               // guarded by mu_
  std::mutex flush_mu_;                   // one flush at a time, in order
  const std::size_t keep_recent_;
  mutable std::mutex recent_mu_;
  std::deque<InferenceRecord> recent_;    // guarded by recent_mu_; written records, oldest first
  std::thread writer_;
};

}  // namespace resonance::models
