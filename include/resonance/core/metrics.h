#pragma once
// Counters and gauges that every component registers once at start-up and bumps lock-free on the
// data path; /metrics renders them in the Prometheus text format (version 0.0.4).

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace resonance {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Thread-safe. Returned references stay valid for the registry's lifetime (deque storage), so a
// component keeps `Counter&` members and never looks names up on the hot path.
class MetricsRegistry {
 public:
  // name: Prometheus metric name ("resonance_mqttsn_packets_total"); labels: `key="value",...`
  // without braces, or empty. Registering the same name and labels twice returns the same object.
  Counter& counter(const std::string& name, const std::string& help, const std::string& labels = "");
  Gauge& gauge(const std::string& name, const std::string& help, const std::string& labels = "");
  // A gauge computed when rendered (queue depth, head size): `read` must be thread-safe.
  void gauge_fn(const std::string& name, const std::string& help, std::function<double()> read);

  std::string render_prometheus() const;
  // Value of a counter, for tests and the health endpoint; 0 if absent.
  std::uint64_t counter_value(const std::string& name, const std::string& labels = "") const;

 private:
  struct Entry {
    std::string name, help, labels, type;
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
    std::function<double()> read;
  };
  mutable std::mutex mu_;
  std::deque<Counter> counters_;
  std::deque<Gauge> gauges_;
  std::vector<Entry> entries_;
};

}  // namespace resonance
