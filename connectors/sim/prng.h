#pragma once
// A self-contained pseudo-random generator for the simulator. std::mt19937 is portable but the
// std:: distributions are not (libstdc++ and libc++ turn the same engine output into different
// normals), and the simulator promises bit-identical output for a seed on every platform. So
// everything here is integer arithmetic plus IEEE-754 +,-,*,/ which are exactly rounded.
//
// Engine: xoshiro256** (Blackman & Vigna, 2018), seeded through splitmix64 as its authors
// recommend, so nearby seeds (1, 2, 3...) still give unrelated streams.

#include <cstdint>

namespace resonance::sim {

// One splitmix64 step: advances `state` and returns a well-mixed 64-bit value.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The seed of machine `index` of a line whose base seed is `base`: unrelated streams per machine.
constexpr std::uint64_t derive_seed(std::uint64_t base, std::uint64_t index) {
  std::uint64_t state = base ^ (index * 0xd1342543de82ef95ULL);
  return splitmix64(state);
}

class Rng {
 public:
  explicit constexpr Rng(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  constexpr std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits: exact, no rounding surprises.
  constexpr double uniform() {
    return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
  }
  constexpr double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [lo, hi] (inclusive). Plain modulo: the bias is span/2^64, far below
  // anything the model could show, and it needs neither a loop nor 128-bit arithmetic.
  constexpr std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(next_u64() % span);
  }

  constexpr bool chance(double p) { return uniform() < p; }

  // Approximately standard normal: the Irwin-Hall sum of four uniforms, centred and scaled to unit
  // variance. Bounded to +-3.46 sigma, which suits sensor noise (no absurd outliers), and needs no
  // log/sqrt/cos whose last bit may differ between libm versions.
  constexpr double normal() {
    const double sum = uniform() + uniform() + uniform() + uniform();
    return (sum - 2.0) * 1.7320508075688772;  // sqrt(3): var(sum) = 4/12
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::uint64_t s_[4]{};
};

}  // namespace resonance::sim
