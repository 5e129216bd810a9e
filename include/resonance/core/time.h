#pragma once
// Two clocks, kept apart on purpose. Sample timestamps are wall-clock nanoseconds since the Unix
// epoch (int64, UTC; good until 2262). Durations, timeouts and rate limits use the monotonic
// clock, which never jumps when NTP or PTP steps the wall clock.

#include <chrono>
#include <cstdint>
#include <string>

#include "resonance/core/status.h"

namespace resonance {

using TimestampNs = std::int64_t;                  // ns since 1970-01-01T00:00:00Z
using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;

inline constexpr TimestampNs kNanosPerSecond = 1'000'000'000;
inline constexpr TimestampNs kNanosPerMilli = 1'000'000;

TimestampNs unix_now_ns();
inline MonoTime mono_now() { return MonoClock::now(); }

// RFC 3339 / ISO 8601 in UTC with nanoseconds: "2026-11-21T10:02:20.123456789Z".
std::string format_rfc3339(TimestampNs ts_ns);
// Accepts RFC 3339 ("...Z" or "+hh:mm", fractional seconds up to 9 digits) or an integer of ns.
Result<TimestampNs> parse_timestamp(std::string_view text);

}  // namespace resonance
