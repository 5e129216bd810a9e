#pragma once
// Shared pieces of the category simulators: a base class that sub-steps the model, and small
// deterministic numeric helpers (exactly rounded IEEE-754 operations only, see machine.h).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "connectors/sim/cnc_physics.h"  // FirstOrderLag
#include "connectors/sim/machine.h"
#include "connectors/sim/prng.h"

namespace resonance::sim::kit {

using ::resonance::sim::FirstOrderLag;

inline constexpr double kPi = 3.14159265358979323846;

// Reading resolution; std::round is exact. "+ 0.0" turns -0 into 0.
inline double quantize(double value, double resolution) {
  return std::round(value / resolution) * resolution + 0.0;
}
inline double clamp(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

// Moves `current` toward `target` by at most rate * dt (a drive's acceleration limit).
inline double ramp(double current, double target, double rate, double dt) {
  const double step = rate * dt;
  if (target > current) return std::min(target, current + step);
  return std::max(target, current - step);
}

// cos(x) from a Taylor series after range reduction: only +, -, *, / and round, so the same bits
// everywhere (libm's cos may differ in the last bit between versions). Error < 1e-9.
inline double det_cos(double x) {
  const double two_pi = 2 * kPi;
  x -= two_pi * std::round(x / two_pi);  // [-pi, pi]
  const double x2 = x * x;
  double term = 1, sum = 1;
  for (int n = 1; n <= 11; ++n) {
    term *= -x2 / ((2 * n - 1) * (2 * n));
    sum += term;
  }
  return sum;
}

// Base of the category models: step() advances the model in sub-steps of at most
// `max_substep_s` (so event timing and ramps stay right when time_scale makes steps long), then
// asks the model for its readings.
class MachineBase : public Machine {
 public:
  std::string_view category() const final { return category_; }
  std::span<const SignalInfo> signals() const final { return signals_; }
  std::span<const SignalValue> step() final {
    const int n = std::max(1, static_cast<int>(std::ceil(step_s_ / max_substep_s_)));
    const double dt = step_s_ / n;
    for (int i = 0; i < n; ++i) {
      advance(dt);
      time_s_ += dt;
    }
    read();
    return out_;
  }

 protected:
  MachineBase(std::string_view category, std::span<const SignalInfo> signals, std::uint64_t seed,
              double step_s, double max_substep_s)
      : category_(category),
        signals_(signals),
        rng_(seed),
        step_s_(step_s),
        max_substep_s_(max_substep_s),
        out_(signals.size()) {
    for (std::size_t i = 0; i < out_.size(); ++i) out_[i].index = i;
  }
  virtual void advance(double dt) = 0;
  virtual void read() = 0;
  void put(std::size_t index, double value) { out_[index].value = value; }
  // Reading with Gaussian-like noise of standard deviation sigma, clamped to [lo, hi] and
  // quantized to the resolution.
  double sense(double value, double sigma, double resolution, double lo, double hi) {
    return quantize(clamp(value + sigma * rng_.normal(), lo, hi), resolution);
  }
  // True with the probability that an event of `per_hour` rate happens within dt.
  bool happens(double per_hour, double dt) { return rng_.chance(per_hour * dt / 3600.0); }
  double time_s() const { return time_s_; }

  std::string_view category_;
  std::span<const SignalInfo> signals_;
  Rng rng_;

 private:
  double step_s_;
  double max_substep_s_;
  double time_s_ = 0;
  std::vector<SignalValue> out_;
};

}  // namespace resonance::sim::kit
