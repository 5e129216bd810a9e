#pragma once
// The interface every simulated machine implements, whatever its category: a fixed list of
// signals (name and UNECE unit code, exactly as in infomodel/categories/<category>.toml) and a
// step() that advances the model by its simulated step and reports every signal once.
//
// Determinism: a machine's trajectory is a function of its seed and step only. Randomness comes
// from the self-contained Rng (prng.h), never std:: distributions, and the arithmetic uses only
// IEEE-754 exactly rounded operations (det_cos in model_kit.h instead of libm), so a seed gives
// the same bits on every platform. Not thread-safe: one machine per thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "connectors/sim/signals.h"

namespace resonance::sim {

struct SignalValue {
  std::size_t index = 0;  // into the machine's signals()
  double value = 0;
  bool operator==(const SignalValue&) const = default;
};

class Machine {
 public:
  virtual ~Machine() = default;
  // The information-model category id ("cnc", "injection_moulding", ...).
  virtual std::string_view category() const = 0;
  virtual std::span<const SignalInfo> signals() const = 0;
  // Advances by one simulated step and returns one reading per signal, in signals() order. The
  // span stays valid until the next call.
  virtual std::span<const SignalValue> step() = 0;
};

}  // namespace resonance::sim
