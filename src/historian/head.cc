#include "historian/head.h"

#include <algorithm>
#include <mutex>

namespace resonance::historian {

void Head::insert_one(SeriesColumns& cols, const Sample& s, std::size_t& added) {
  auto& ts = cols.ts_ns;
  // Fast path: in-order data appends.
  if (ts.empty() || s.ts_ns > ts.back()) {
    ts.push_back(s.ts_ns);
    cols.values.push_back(s.value);
    cols.quality.push_back(s.quality.code);
    ++added;
    return;
  }
  const auto it = std::lower_bound(ts.begin(), ts.end(), s.ts_ns);
  const auto i = static_cast<std::size_t>(it - ts.begin());
  if (it != ts.end() && *it == s.ts_ns) {
    cols.values[i] = s.value;
    cols.quality[i] = s.quality.code;
    return;
  }
  // Out of order: an O(n) shift. Acceptable while OOO data is rare and the head is per series;
  // the OOO window of design 9.5 replaces this when chunks are sealed.
  ts.insert(it, s.ts_ns);
  cols.values.insert(cols.values.begin() + static_cast<std::ptrdiff_t>(i), s.value);
  cols.quality.insert(cols.quality.begin() + static_cast<std::ptrdiff_t>(i), s.quality.code);
  ++added;
}

std::size_t Head::insert(std::span<const Sample> samples) {
  std::unique_lock lock(mu_);
  std::size_t added = 0;
  SeriesId last_id = 0;
  SeriesColumns* last = nullptr;  // batches are usually runs of one series: skip the hash lookup
  for (const Sample& s : samples) {
    if (last == nullptr || s.series != last_id) {
      last = &series_[s.series];
      last_id = s.series;
    }
    insert_one(*last, s, added);
  }
  sample_count_.store(sample_count_.load(std::memory_order_relaxed) + added, std::memory_order_relaxed);
  series_count_.store(series_.size(), std::memory_order_relaxed);
  return added;
}

std::optional<Sample> Head::latest(SeriesId series) const {
  std::shared_lock lock(mu_);
  const auto it = series_.find(series);
  if (it == series_.end() || it->second.ts_ns.empty()) return std::nullopt;
  const SeriesColumns& c = it->second;
  return Sample{series, c.ts_ns.back(), c.values.back(), Quality{c.quality.back()}};
}

std::vector<Sample> Head::range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                                std::size_t limit) const {
  std::vector<Sample> out;
  if (from_ns >= to_ns || limit == 0) return out;
  std::shared_lock lock(mu_);
  const auto it = series_.find(series);
  if (it == series_.end()) return out;
  const SeriesColumns& c = it->second;
  const auto first = std::lower_bound(c.ts_ns.begin(), c.ts_ns.end(), from_ns);
  const auto last = std::lower_bound(first, c.ts_ns.end(), to_ns);
  const auto begin = static_cast<std::size_t>(first - c.ts_ns.begin());
  const auto n = std::min(limit, static_cast<std::size_t>(last - first));
  out.reserve(n);
  for (std::size_t i = begin; i < begin + n; ++i)
    out.push_back(Sample{series, c.ts_ns[i], c.values[i], Quality{c.quality[i]}});
  return out;
}

}  // namespace resonance::historian
