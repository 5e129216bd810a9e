#pragma once
// The samples of a /api/v1/query answer as JSON, written in one pass into the answer's string.

#include <cstdint>
#include <span>
#include <string>

#include "resonance/historian/historian.h"

namespace resonance::api {

enum class PointsFormat : std::uint8_t {
  kRows,     // "points":[[ts_ns,value,quality],...]   (the default)
  kColumns,  // "points":{"t":[ts_ns,...],"v":[value,...],"q":[quality,...]}
};

// Appends `"points":` and the points in `format` (docs/api.md, GET /api/v1/query). Values go
// through json_writer::write_double (shortest round-trip, null for NaN/inf).
void append_points(std::string& out, std::span<const Sample> points, PointsFormat format);

}  // namespace resonance::api
