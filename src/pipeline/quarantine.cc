#include "resonance/pipeline/quarantine.h"

namespace resonance {

Quarantine::Quarantine(MetricsRegistry& metrics, std::size_t capacity)
    : capacity_(capacity),
      total_(metrics.counter("resonance_quarantine_samples_total",
                             "Samples refused by a pipeline stage and kept with the reason")) {}

void Quarantine::add(QuarantineEntry&& entry) {
  total_.inc();
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_) entries_.pop_front();
  entries_.push_back(std::move(entry));
}

std::vector<QuarantineEntry> Quarantine::recent() const {
  std::lock_guard lock(mu_);
  return {entries_.begin(), entries_.end()};
}

}  // namespace resonance
