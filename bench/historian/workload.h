#pragma once
// The reference workload of issue 4: N signals x M samples at 100 Hz with realistic values —
// slow drifts with noise quantised like a sensor, step-like states, float32-origin readings and
// counters — deterministic from a seed so every engine in a run gets identical data.

#include <cstdint>
#include <vector>

#include "resonance/core/sample.h"

namespace resonance::bench {

struct Workload {
  int signals = 1000;
  int samples_per_signal = 10000;
  TimestampNs t0_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
  TimestampNs step_ns = 10'000'000;               // 100 Hz
  std::uint64_t seed = 42;
};

// Value of signal `s` (0-based) at tick `i`.
double workload_value(const Workload& w, int s, int i);

// Tick-major batches of `ticks_per_batch` ticks x all signals; series ids are s + 1.
std::vector<Sample> workload_batch(const Workload& w, int first_tick, int ticks);

}  // namespace resonance::bench
