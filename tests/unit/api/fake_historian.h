#pragma once
// An in-memory Historian for router tests: deterministic contents, and a switch to make reads
// throw so the router's last-resort handler can be tested.

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "resonance/historian/historian.h"

namespace resonance::api::testing {

class FakeHistorian final : public Historian {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    for (const Sample& s : batch.samples) add(s);
    if (on_durable) on_durable(Status::ok());
    return Admission::kAccepted;
  }
  std::optional<Sample> latest(SeriesId series) const override {
    std::lock_guard lock(mu_);
    maybe_throw();
    auto it = samples_.find(series);
    if (it == samples_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  std::vector<Sample> range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                            std::size_t limit) const override {
    std::lock_guard lock(mu_);
    maybe_throw();
    last_limit_ = limit;
    std::vector<Sample> out;
    auto it = samples_.find(series);
    if (it == samples_.end()) return out;
    for (const Sample& s : it->second)
      if (s.ts_ns >= from_ns && s.ts_ns < to_ns && out.size() < limit) out.push_back(s);
    return out;
  }
  HistorianStats stats() const override {
    std::lock_guard lock(mu_);
    maybe_throw();
    HistorianStats st;
    for (const auto& [id, list] : samples_) st.head_samples += list.size();
    st.samples_appended = st.head_samples;
    st.series = samples_.size();
    return st;
  }
  void close() override {}

  // Keeps each series sorted by timestamp, like the real head.
  void add(const Sample& s) {
    std::lock_guard lock(mu_);
    auto& list = samples_[s.series];
    list.insert(std::upper_bound(list.begin(), list.end(), s,
                                 [](const Sample& a, const Sample& b) { return a.ts_ns < b.ts_ns; }),
                s);
  }
  void set_throw(bool on) { throw_ = on; }
  std::size_t last_limit() const { return last_limit_; }

 private:
  void maybe_throw() const {
    if (throw_) throw std::runtime_error("fake historian: disk on fire");
  }
  mutable std::mutex mu_;
  std::map<SeriesId, std::vector<Sample>> samples_;
  bool throw_ = false;
  mutable std::size_t last_limit_ = 0;
};

}  // namespace resonance::api::testing
