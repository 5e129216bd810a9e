#pragma once
// Durations as people write them in configuration and query strings: an unsigned integer with an
// optional unit, "250000" (nanoseconds), "500ms", "10s", "5m", "1h", "30d". Shared by the HTTP API
// (step, max_staleness) and the [historian] configuration (retention, partition length). Pure.

#include <cstdint>
#include <optional>
#include <string_view>

namespace resonance {

// Units: ns (also a bare integer), us, ms, s, m, h, d. nullopt on anything else, including a
// negative sign, a fraction, an empty string or a value beyond int64 nanoseconds.
std::optional<std::int64_t> parse_duration_ns(std::string_view text);

}  // namespace resonance
