#pragma once
// Sleeps that end early when a stop is requested, so a device thread answers stop at once even
// in a long backoff.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <utility>

#include "resonance/core/time.h"

namespace resonance::sim {

// Returns false if a stop was requested (before or during the wait).
inline bool sleep_until(std::stop_token stop, MonoTime deadline) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

inline bool sleep_for(std::stop_token stop, std::chrono::milliseconds duration) {
  return sleep_until(std::move(stop), mono_now() + duration);
}

// Blocks until a stop is requested.
inline void wait_for_stop(std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait(lock, stop, [] { return false; });
}

}  // namespace resonance::sim
