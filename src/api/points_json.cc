#include "api/points_json.h"

#include "resonance/core/json_writer.h"

namespace resonance::api {

namespace {

namespace jn = json_writer;

// The most one point can take in either format: its three numbers and four separators.
constexpr std::size_t kMaxPointChars =
    jn::kMaxInt64Chars + jn::kMaxDoubleChars + jn::kMaxUint32Chars + 4;

char* write_rows(char* p, std::span<const Sample> points) {
  unsigned scale = 0;  // decimals of the previous value (json_writer::write_double)
  jn::TimestampWriter ts;
  *p++ = '[';
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Sample& s = points[i];
    if (i) *p++ = ',';
    *p++ = '[';
    p = ts.write(p, s.ts_ns);
    *p++ = ',';
    p = jn::write_double(p, s.value, scale);
    *p++ = ',';
    p = jn::write_uint(p, s.quality.code);
    *p++ = ']';
  }
  *p++ = ']';
  return p;
}

// One pass per column: a client reading columns (numpy, pandas, uPlot) takes each array as is.
char* write_columns(char* p, std::span<const Sample> points) {
  p = jn::write_literal(p, "{\"t\":[");
  jn::TimestampWriter ts;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i) *p++ = ',';
    p = ts.write(p, points[i].ts_ns);
  }
  p = jn::write_literal(p, "],\"v\":[");
  unsigned scale = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i) *p++ = ',';
    p = jn::write_double(p, points[i].value, scale);
  }
  p = jn::write_literal(p, "],\"q\":[");
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i) *p++ = ',';
    p = jn::write_uint(p, points[i].quality.code);
  }
  return jn::write_literal(p, "]}");
}

}  // namespace

void append_points(std::string& out, std::span<const Sample> points, PointsFormat format) {
  constexpr std::string_view kKey = "\"points\":";
  const std::size_t old_size = out.size();
  // Sized for the worst case once, written in place, trimmed to what was written: one
  // allocation for the whole answer, with room left for the caller's closing fields.
  const std::size_t bound = old_size + kKey.size() + 96 + points.size() * kMaxPointChars;
  out.resize_and_overwrite(bound, [&](char* data, std::size_t) {
    char* p = jn::write_literal(data + old_size, kKey);
    p = format == PointsFormat::kColumns ? write_columns(p, points) : write_rows(p, points);
    return static_cast<std::size_t>(p - data);
  });
}

}  // namespace resonance::api
