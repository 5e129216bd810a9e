#include "workload.h"

#include <cmath>

namespace resonance::bench {

namespace {
// A cheap stateless hash → [0, 1): the value at (s, i) never depends on generation order.
double unit_noise(std::uint64_t seed, std::uint64_t s, std::uint64_t i) {
  std::uint64_t z = seed ^ (s * 0x9E3779B97F4A7C15ULL) ^ (i * 0xBF58476D1CE4E5B9ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}
}  // namespace

double workload_value(const Workload& w, int s, int i) {
  const double t = static_cast<double>(i) * static_cast<double>(w.step_ns) * 1e-9;
  const double n = unit_noise(w.seed, static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(i)) - 0.5;
  switch (s % 4) {
    case 0: {  // temperature-like: slow drift + noise, quantised to 0.01
      const double v = 20.0 + s % 17 + 5.0 * std::sin(t / (300.0 + s)) + 0.05 * n;
      return std::round(v * 100.0) / 100.0;
    }
    case 1: {  // state: steps between a few levels, held for seconds
      const int block = i / (200 + s % 300);
      return static_cast<double>((block * 7 + s) % 4);
    }
    case 2: {  // float32-origin reading (a PLC REAL): load-like with noise
      const float v = static_cast<float>(40.0 + 10.0 * std::sin(t / (20.0 + s % 13)) + 0.5 * n);
      return static_cast<double>(v);
    }
    default: {  // counter / position with 0.001 resolution
      const double v = 100.0 * std::sin(t / (7.0 + s % 5)) + 0.01 * n;
      return std::round(v * 1000.0) / 1000.0;
    }
  }
}

std::vector<Sample> workload_batch(const Workload& w, int first_tick, int ticks) {
  std::vector<Sample> out;
  out.reserve(static_cast<std::size_t>(ticks) * static_cast<std::size_t>(w.signals));
  for (int i = first_tick; i < first_tick + ticks && i < w.samples_per_signal; ++i)
    for (int s = 0; s < w.signals; ++s)
      out.push_back({static_cast<SeriesId>(s + 1), w.t0_ns + i * w.step_ns, workload_value(w, s, i), {}});
  return out;
}

}  // namespace resonance::bench
