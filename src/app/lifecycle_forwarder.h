#pragma once
// Model lifecycle into the transparency log. The model registry (SQLite) is written by
// `resonance model register|promote|rollback` — often while the node runs — and the log is
// written only by the node, so the node forwards the registry's stage changes as model.lifecycle
// entries: at start, then every `interval`. A cursor file beside the data remembers the last
// forwarded change and is advanced only after the entries are durable (at least once, never
// lost; an entry repeated after a crash carries the same `seq`). Format:
// docs/formats/tlog-entry.md (model.lifecycle).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>

#include "resonance/audit/log.h"
#include "resonance/core/periodic_thread.h"
#include "resonance/core/status.h"
#include "resonance/models/registry.h"

namespace resonance::app {

class LifecycleForwarder {
 public:
  LifecycleForwarder(audit::Log& log, std::filesystem::path registry_file, std::filesystem::path cursor_file,
                     std::chrono::milliseconds interval);
  ~LifecycleForwarder();  // stops
  LifecycleForwarder(const LifecycleForwarder&) = delete;
  LifecycleForwarder& operator=(const LifecycleForwarder&) = delete;

  // One pass: every change after the cursor becomes an entry. Thread-safe with the poller.
  Status forward_now();
  void start();  // the poller thread
  void stop();   // joins; idempotent
  std::uint64_t forwarded() const { return forwarded_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  Status save_cursor(std::int64_t seq);

  audit::Log& log_;
  const std::filesystem::path registry_file_, cursor_file_;
  const std::chrono::milliseconds interval_;
  std::mutex pass_mu_;  // one pass at a time
  std::unique_ptr<models::ModelRegistry> registry_;  // guarded by pass_mu_; opened on first pass
  std::int64_t cursor_ = -1;                         // guarded by pass_mu_; -1 = not read yet
  std::atomic<std::uint64_t> forwarded_{0}, errors_{0};
  PeriodicThread worker_;  // last: joined before the members its pass uses are destroyed
};

}  // namespace resonance::app
