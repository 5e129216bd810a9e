#pragma once
// The reference workload of issue 4: N signals x M samples at 100 Hz with realistic values,
// deterministic from a seed so every engine in a run gets identical data. Mixes:
//  * "rw10m" (default): RW-10M of the research note (../shared/design/research/historian.md,
//    section 2.2 and Appendix A, whose codec figures the 0.45 B/sample goal comes from): one signal
//    in five each of temperature (0.1 resolution, random walk), pressure (0.01, random walk),
//    vibration (sine plus noise, 0.001), counter (steps of 1) and on/off state.
//  * "rw10m-float32": the same with every value cast through float32, as OPC UA Float and Modbus
//    REAL values arrive (the note's variant B; its goal is 0.6 B/sample).
//  * "v1": the mix of the first recorded runs (2026-11-21): temperature-like drift quantised to
//    0.01, step states, a float32 load with un-quantised noise (about 17 bits of noise per sample at
//    float32 resolution, so no lossless codec gets it below ~2.1 B) and 0.001 positions.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::bench {

struct Workload {
  int signals = 1000;
  int samples_per_signal = 10000;
  TimestampNs t0_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
  TimestampNs step_ns = 10'000'000;               // 100 Hz
  std::uint64_t seed = 42;
  std::string mix = "rw10m";
  // Every value, signal-major (filled by prepare_workload; random walks need their history).
  std::shared_ptr<const std::vector<double>> values;
};

// Generates the values of `w.mix`; kInvalidArgument for an unknown mix.
Status prepare_workload(Workload& w);

// Value of signal `s` (0-based) at tick `i`. Requires prepare_workload.
inline double workload_value(const Workload& w, int s, int i) {
  return (*w.values)[static_cast<std::size_t>(s) * static_cast<std::size_t>(w.samples_per_signal) +
                     static_cast<std::size_t>(i)];
}

// Tick-major batches of `ticks_per_batch` ticks x all signals; series ids are s + 1.
std::vector<Sample> workload_batch(const Workload& w, int first_tick, int ticks);

}  // namespace resonance::bench
