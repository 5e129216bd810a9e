#pragma once
// A background thread that runs one pass every `interval` until stopped: the registry pollers
// (model watcher, lifecycle forwarder) share this loop instead of each writing it out.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace resonance {

class PeriodicThread {
 public:
  PeriodicThread() = default;
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;
  ~PeriodicThread() { stop(); }

  // Starts the thread: `pass` runs after each `interval`, never while the previous one runs.
  void start(std::chrono::milliseconds interval, std::function<void()> pass) {
    thread_ = std::thread([this, interval, pass = std::move(pass)] {
      std::unique_lock lock(mu_);
      while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
        lock.unlock();
        pass();
        lock.lock();
      }
    });
  }
  // Wakes the thread, waits for a running pass to end and joins; idempotent.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace resonance
