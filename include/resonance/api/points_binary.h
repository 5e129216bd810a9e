#pragma once
// The binary answer of GET /api/v1/query?format=binary (docs/formats/points-binary.md): a 48-byte
// header, then the points as three little-endian columns (int64 ns timestamps, float64 values bit
// for bit, uint32 quality codes). Beside JSON's ~33 bytes a point it is 20 bytes a point, written
// by copying, and read without parsing text. Writer for the router, reader for clients (the bench,
// tests); the reader checks every length and never reads outside its input.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::api {

inline constexpr std::string_view kPointsBinaryType = "application/vnd.resonance.points";
inline constexpr std::uint16_t kPointsBinaryVersion = 1;
inline constexpr std::size_t kPointsBinaryHeaderBytes = 48;

struct PointsBinary {
  SeriesId series = 0;
  bool truncated = false;        // more points than `limit` were in the window
  TimestampNs from_ns = 0, to_ns = 0;
  TimestampNs next_from_ns = 0;  // where the next page starts (as JSON's next_from)
  std::vector<TimestampNs> ts;
  std::vector<double> values;
  std::vector<std::uint32_t> quality;
};

// Replaces `out` with the answer for `points` (timestamp order).
void write_points_binary(std::string& out, SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                         TimestampNs next_from_ns, bool truncated, std::span<const Sample> points);

// Parses an answer; kCorruption naming the field and byte offset when it is not one.
Result<PointsBinary> read_points_binary(std::span<const std::uint8_t> bytes);

}  // namespace resonance::api
