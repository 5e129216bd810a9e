#pragma once
// The frame rule written plainly, per cell (docs/api.md, /frame), as the oracle of the frame tests:
// not the streaming fill code under test.

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

#include "resonance/historian/historian.h"

namespace resonance::historian::testing {

// The newest good observation at or before t within max_staleness; an observation at t itself is
// taken as is; linear joins it to the oldest good observation after t within max_staleness.
// `samples` sorted by time. Returns (valid, value).
inline std::pair<bool, double> reference_cell(std::span<const Sample> samples, TimestampNs t, const FrameRequest& req) {
  auto good = [](const Sample& s) { return !std::isnan(s.value) && s.quality.severity() != Severity::kBad; };
  const auto after_t = std::upper_bound(samples.begin(), samples.end(), t,
                                        [](TimestampNs x, const Sample& s) { return x < s.ts_ns; });
  const Sample* prev = nullptr;
  for (auto it = after_t; it != samples.begin();)
    if (good(*--it)) {
      prev = &*it;
      break;
    }
  if (prev == nullptr || t - prev->ts_ns > req.max_staleness_ns) return {false, 0};
  if (prev->ts_ns == t || req.fill == FrameFill::kLocf) return {true, prev->value};
  const auto next = std::find_if(after_t, samples.end(), good);
  if (next == samples.end() || next->ts_ns - t > req.max_staleness_ns) return {false, 0};
  const double w = static_cast<double>(t - prev->ts_ns) / static_cast<double>(next->ts_ns - prev->ts_ns);
  return {true, prev->value + (next->value - prev->value) * w};
}

}  // namespace resonance::historian::testing
