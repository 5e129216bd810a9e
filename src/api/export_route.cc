#include "api/export_route.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>

#include "api/responses.h"
#include "resonance/core/catalog.h"

namespace resonance::api {
namespace {

constexpr std::string_view kExportParams[] = {"series", "destination", "purpose", "from", "to", "limit"};

Response bad(std::string_view message) { return error_response(400, "invalid_argument", message); }

}  // namespace

Response handle_export(const RouteContext& ctx, const ParsedTarget& target) {
  std::string_view series, destination, purpose;
  TimestampNs from_ns = std::numeric_limits<TimestampNs>::min();
  TimestampNs to_ns = 0;
  bool to_given = false;
  std::size_t limit = ctx.options.max_points;
  for (std::size_t i = 0; i < target.params.size(); ++i) {
    const auto& [key, value] = target.params[i];
    if (std::ranges::find(kExportParams, key) == std::end(kExportParams))
      return bad(fmt::format("query parameter {}: unknown; expected series, destination, purpose, from, to "
                             "or limit",
                             quote_input(key)));
    for (std::size_t j = 0; j < i; ++j)
      if (target.params[j].key == key)
        return bad(fmt::format("query parameter '{}': expected at most once, found it repeated", key));
    if (key == "series") {
      series = value;
    } else if (key == "destination") {
      destination = value;
    } else if (key == "purpose") {
      purpose = value;
    } else if (key == "from" || key == "to") {
      auto ts = parse_timestamp(value);
      if (!ts)
        return bad(fmt::format("query parameter '{}': expected RFC 3339 time or integer nanoseconds, found {}",
                               key, quote_input(value)));
      if (key == "from") {
        from_ns = *ts;
      } else {
        to_ns = *ts;
        to_given = true;
      }
    } else {  // limit
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n == 0 || n > ctx.options.max_points)
        return bad(fmt::format("query parameter 'limit': expected an integer from 1 to {}, found {}",
                               ctx.options.max_points, quote_input(value)));
      limit = n;
    }
  }
  // The gate decides on a path (labels and consents are per path), so an id is not accepted here.
  if (series.empty()) return bad("query parameter 'series': required (a series path site/area/line/equipment/signal)");
  if (Status valid = validate_series_path(series); !valid.is_ok())
    return bad(fmt::format("query parameter 'series': expected a series path site/area/line/equipment/signal, "
                           "found {}: {}",
                           quote_input(series), valid.message()));
  if (destination.empty())
    return bad("query parameter 'destination': required (a destination id declared in the policy)");
  if (purpose.empty()) return bad("query parameter 'purpose': required (what the data is for, e.g. monitoring)");
  if (!to_given) to_ns = ctx.options.clock();
  if (from_ns > to_ns) return bad("query parameters 'from' and 'to': 'from' is after 'to'");

  // Deny by default: no gate attached means nothing leaves.
  governance::Decision decision;
  if (ctx.options.export_gate) {
    decision = ctx.options.export_gate(series, destination, purpose);
  } else {
    decision.rule = "deny.gate.absent";
    decision.reason = "no egress gate is attached to this API; every export is denied";
  }
  if (!decision.allowed())
    return error_response(403, "egress_denied", fmt::format("{}: {}", decision.rule, decision.reason));

  const auto info = ctx.catalog.find(series);
  if (!info)
    return error_response(404, "not_found",
                          fmt::format("query parameter 'series': no series with path {} (GET /api/v1/series lists them)",
                                      quote_input(series)));
  // One extra point tells a complete answer from a truncated one.
  const std::vector<Sample> points = ctx.historian.range(info->id, from_ns, to_ns, limit + 1);
  const bool truncated = points.size() > limit;
  const std::size_t count = truncated ? limit : points.size();
  Response r;
  r.content_type = "text/csv; charset=utf-8; header=present";
  r.body.reserve(32 + count * 40);
  r.body = "ts,value,quality\n";
  auto out = std::back_inserter(r.body);
  for (std::size_t i = 0; i < count; ++i) {
    const Sample& s = points[i];
    // A value that is not finite is left empty: CSV readers disagree on how to spell NaN.
    if (std::isfinite(s.value))
      fmt::format_to(out, "{},{},{}\n", s.ts_ns, s.value, s.quality.code);
    else
      fmt::format_to(out, "{},,{}\n", s.ts_ns, s.quality.code);
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"export.csv\"");
  r.headers.emplace_back("X-Resonance-Egress-Rule", decision.rule);
  r.headers.emplace_back("X-Resonance-Truncated", truncated ? "true" : "false");
  if (truncated)
    r.headers.emplace_back("X-Resonance-Next-From", fmt::format("{}", points[count - 1].ts_ns + 1));
  return r;
}

}  // namespace resonance::api
