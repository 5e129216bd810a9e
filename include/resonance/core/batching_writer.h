#pragma once
// A bounded queue drained by one writer thread in batches: what the audit's ingest listener and
// the governance decision sink share (records come from hot paths that must never block; the
// durable write — a log append with one sync — happens every flush interval, or as soon as
// max_batch items wait).
//
// push() never blocks: beyond max_pending it refuses and counts the item as dropped, so the
// caller can say so (RetryLater, a metric). A failed write keeps the batch in front of what
// arrived meanwhile, so a transient failure loses nothing; a lasting one fills the queue.
// stop() (also run by the destructor) ends the thread and writes what is pending; an owner whose
// write function uses its own members calls stop() first in its destructor.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "resonance/core/status.h"

namespace resonance {

template <typename Item>
class BatchingWriter {
 public:
  struct Options {
    std::size_t max_pending = 10'000;
    std::size_t max_batch = std::numeric_limits<std::size_t>::max();  // wake early at this many
    int flush_interval_ms = 200;
  };
  using Write = std::function<Status(std::vector<Item>& batch)>;  // oldest first
  using Tick = std::function<void()>;  // on the writer thread after each periodic flush

  BatchingWriter(Options options, Write write, Tick tick = {})
      : options_(options), write_(std::move(write)), tick_(std::move(tick)), thread_([this] { run(); }) {}
  ~BatchingWriter() { stop(); }
  BatchingWriter(const BatchingWriter&) = delete;
  BatchingWriter& operator=(const BatchingWriter&) = delete;

  // False (and counted in dropped()) when max_pending items already wait.
  bool push(Item&& item) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (pending_.size() >= options_.max_pending) {
        ++dropped_;
        return false;
      }
      pending_.push_back(std::move(item));
      wake = pending_.size() >= options_.max_batch;
    }
    if (wake) wake_.notify_one();
    return true;
  }

  // Writes what is pending now, in order with the writer thread.
  Status flush() {
    std::lock_guard flushing(flush_mu_);
    std::vector<Item> batch;
    {
      std::lock_guard lock(mu_);
      batch.swap(pending_);
    }
    if (batch.empty()) return Status::ok();
    Status st = write_(batch);
    if (!st) {
      std::lock_guard lock(mu_);
      ++write_errors_;
      batch.insert(batch.end(), std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()));
      pending_ = std::move(batch);
    }
    return st;
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    (void)flush();
  }

  // For failures of the owner's own periodic work (a checkpoint), reported with the writes'.
  void count_error() {
    std::lock_guard lock(mu_);
    ++write_errors_;
  }
  std::uint64_t dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
  }
  std::uint64_t write_errors() const {
    std::lock_guard lock(mu_);
    return write_errors_;
  }
  std::size_t pending() const {
    std::lock_guard lock(mu_);
    return pending_.size();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms),
                     [this] { return stopping_ || pending_.size() >= options_.max_batch; });
      if (stopping_) break;
      lock.unlock();
      (void)flush();  // counted in write_errors_
      if (tick_) tick_();
      lock.lock();
    }
  }

  const Options options_;
  const Write write_;
  const Tick tick_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Item> pending_;       // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::uint64_t dropped_ = 0;       // guarded by mu_
  std::uint64_t write_errors_ = 0;  // guarded by mu_
  std::mutex flush_mu_;             // one write at a time, in order
  std::thread thread_;              // last: starts once everything above exists
};

}  // namespace resonance
