#include "workload.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

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

double v1_value(const Workload& w, int s, int i) {
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
    case 2: {  // float32-origin reading with noise at full float32 resolution
      const float v = static_cast<float>(40.0 + 10.0 * std::sin(t / (20.0 + s % 13)) + 0.5 * n);
      return static_cast<double>(v);
    }
    default: {  // counter / position with 0.001 resolution
      const double v = 100.0 * std::sin(t / (7.0 + s % 5)) + 0.01 * n;
      return std::round(v * 1000.0) / 1000.0;
    }
  }
}

// One RW-10M signal (research note, Appendix A), from its own generator so that a signal's values
// do not depend on how many signals there are.
void rw10m_signal(const Workload& w, int s, double* out) {
  std::mt19937_64 rng(w.seed * 1'000'003 + static_cast<std::uint64_t>(s));
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> g(0, 1);
  double state = 0;
  switch (s % 5) {
    case 0: state = 20 + u(rng) * 60; break;        // °C
    case 1: state = 1 + u(rng) * 9; break;          // bar
    case 2: state = u(rng) * 6.28; break;           // phase
    case 3: state = std::floor(u(rng) * 1e6); break;  // count
    default: state = u(rng) < 0.5 ? 0 : 1;
  }
  for (int i = 0; i < w.samples_per_signal; ++i) {
    double v = 0;
    switch (s % 5) {
      case 0: state += g(rng) * 0.02; v = std::round(state * 10) / 10; break;
      case 1: state += g(rng) * 0.005; v = std::round(state * 100) / 100; break;
      case 2: state += 0.3; v = std::round((std::sin(state) * 2.5 + g(rng) * 0.05) * 1000) / 1000; break;
      case 3: if (u(rng) < 0.3) state += 1; v = state; break;
      default: if (u(rng) < 0.001) state = 1 - state; v = state;
    }
    out[i] = v;
  }
}

}  // namespace

Status prepare_workload(Workload& w) {
  const bool f32 = w.mix == "rw10m-float32";
  if (w.mix != "rw10m" && !f32 && w.mix != "v1")
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("workload mix '{}': expected rw10m, rw10m-float32 or v1", w.mix));
  const auto m = static_cast<std::size_t>(w.samples_per_signal);
  auto values = std::make_shared<std::vector<double>>(static_cast<std::size_t>(w.signals) * m);
  for (int s = 0; s < w.signals; ++s) {
    double* out = values->data() + static_cast<std::size_t>(s) * m;
    if (w.mix == "v1") {
      for (int i = 0; i < w.samples_per_signal; ++i) out[i] = v1_value(w, s, i);
    } else {
      rw10m_signal(w, s, out);
      if (f32)
        for (std::size_t i = 0; i < m; ++i) out[i] = static_cast<double>(static_cast<float>(out[i]));
    }
  }
  w.values = std::move(values);
  return Status::ok();
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
