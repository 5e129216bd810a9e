#pragma once
// What the crash writer sends, as a pure function, so the checker can tell a sample the writer
// really sent from one that appeared out of nowhere.

#include <bit>
#include <cstdint>

#include "resonance/core/sample.h"

namespace resonance::historian::crash {

inline constexpr SeriesId kSeriesCount = 5;

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Raw bits of the value at (series, ts): arbitrary patterns, so NaN payloads and -0.0 occur too.
inline std::uint64_t value_bits(SeriesId series, TimestampNs ts_ns) {
  const std::uint64_t h = splitmix64(std::uint64_t{series} << 40 ^ static_cast<std::uint64_t>(ts_ns));
  switch (h & 7u) {
    case 0: return 0x7FF8'0000'0000'0000ull | (h >> 16);  // NaN with a payload
    case 1: return 0x8000'0000'0000'0000ull;              // -0.0
    default: return h;
  }
}

inline std::uint32_t quality(SeriesId series, TimestampNs ts_ns) {
  return (static_cast<std::uint64_t>(ts_ns) + series) % 3 == 0 ? Quality::kUncertain : Quality::kGood;
}

}  // namespace resonance::historian::crash
