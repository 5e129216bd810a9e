#pragma once
// Samples the pipeline refused, kept with the reason so nothing is dropped silently. The first
// version holds the most recent entries in memory (bounded) and counts all of them; issue 3 makes
// the quarantine durable and queryable through the API.

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "resonance/core/metrics.h"
#include "resonance/core/sample.h"

namespace resonance {

struct QuarantineEntry {
  Sample sample;
  std::string reason;       // what was wrong, in words a user can act on
  std::string stage;        // which stage refused it
  std::string connector;
  std::string client_id;
  TimestampNs receive_ts_ns = 0;
};

class Quarantine {
 public:
  Quarantine(MetricsRegistry& metrics, std::size_t capacity);
  void add(QuarantineEntry&& entry);  // thread-safe
  std::vector<QuarantineEntry> recent() const;
  std::uint64_t total() const { return total_.value(); }

 private:
  const std::size_t capacity_;
  Counter& total_;
  mutable std::mutex mu_;
  std::deque<QuarantineEntry> entries_;  // guarded by mu_
};

}  // namespace resonance
