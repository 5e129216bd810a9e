#include "resonance/core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace resonance {

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const std::string& labels) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_)
    if (e.name == name && e.labels == labels && e.counter) return *e.counter;
  Counter& c = counters_.emplace_back();
  entries_.push_back({name, help, labels, "counter", &c, nullptr, {}});
  return c;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const std::string& labels) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_)
    if (e.name == name && e.labels == labels && e.gauge) return *e.gauge;
  Gauge& g = gauges_.emplace_back();
  entries_.push_back({name, help, labels, "gauge", nullptr, &g, {}});
  return g;
}

void MetricsRegistry::gauge_fn(const std::string& name, const std::string& help,
                               std::function<double()> read) {
  std::lock_guard lock(mu_);
  entries_.push_back({name, help, "", "gauge", nullptr, nullptr, std::move(read)});
}

std::uint64_t MetricsRegistry::counter_value(const std::string& name,
                                             const std::string& labels) const {
  std::lock_guard lock(mu_);
  for (const auto& e : entries_)
    if (e.name == name && e.labels == labels && e.counter) return e.counter->value();
  return 0;
}

std::string MetricsRegistry::render_prometheus() const {
  std::lock_guard lock(mu_);
  // Group samples of one metric name under one HELP/TYPE header, names sorted for stable output.
  std::map<std::string, std::vector<const Entry*>> by_name;
  for (const auto& e : entries_) by_name[e.name].push_back(&e);
  std::string out;
  for (const auto& [name, list] : by_name) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, list.front()->help, name,
                       list.front()->type);
    for (const Entry* e : list) {
      const std::string label_part = e->labels.empty() ? "" : "{" + e->labels + "}";
      if (e->counter) {
        out += fmt::format("{}{} {}\n", name, label_part, e->counter->value());
      } else {
        const double v = e->gauge ? e->gauge->value() : e->read();
        out += fmt::format("{}{} {}\n", name, label_part, v);
      }
    }
  }
  return out;
}

}  // namespace resonance
