#include "api/routes.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "api/responses.h"

namespace resonance::api {

namespace {

using nlohmann::json;

constexpr TimestampNs kDefaultWindowNs = 3600 * kNanosPerSecond;
constexpr std::string_view kQueryParams[] = {"series", "from", "to", "limit"};

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// A positive uint32 written in decimal, or nullopt.
std::optional<SeriesId> parse_series_id(std::string_view text) {
  if (!all_digits(text)) return std::nullopt;
  SeriesId id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || ptr != text.data() + text.size() || id == 0) return std::nullopt;
  return id;
}

json sample_json(const Sample& s) {
  // JSON has no NaN/Inf; a null value keeps the point (and its quality) visible.
  json value = std::isfinite(s.value) ? json(s.value) : json(nullptr);
  return {{"ts_ns", s.ts_ns}, {"ts", format_rfc3339(s.ts_ns)}, {"value", std::move(value)},
          {"quality", s.quality.code}};
}

json stats_json(const HistorianStats& s) {
  return {{"batches_appended", s.batches_appended},
          {"samples_appended", s.samples_appended},
          {"group_commits", s.group_commits},
          {"bytes_synced", s.bytes_synced},
          {"retry_later", s.retry_later},
          {"recovered_records", s.recovered_records},
          {"recovered_samples", s.recovered_samples},
          {"recovery_truncated_bytes", s.recovery_truncated_bytes},
          {"head_samples", s.head_samples},
          {"series", s.series}};
}

Result<SeriesInfo> resolve_series(const SeriesCatalog& catalog, std::string_view text) {
  if (text.empty())
    return error(StatusCode::kInvalidArgument,
                 "query parameter 'series': expected a series id or a path "
                 "site/area/line/equipment/signal, found ''");
  if (all_digits(text)) {
    const auto id = parse_series_id(text);
    if (!id)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("query parameter 'series': expected a series id from 1 to {}, "
                               "found {}",
                               std::numeric_limits<SeriesId>::max(), quote_input(text)));
    auto info = catalog.find(*id);
    if (!info)
      return error(StatusCode::kNotFound,
                   fmt::format("query parameter 'series': no series with id {} "
                               "(GET /api/v1/series lists them)",
                               *id));
    return std::move(*info);
  }
  if (Status valid = validate_series_path(text); !valid.is_ok())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("query parameter 'series': expected a series id or a path "
                             "site/area/line/equipment/signal, found {}: {}",
                             quote_input(text), valid.message()));
  auto info = catalog.find(text);
  if (!info)
    return error(StatusCode::kNotFound,
                 fmt::format("query parameter 'series': no series with path {} "
                             "(GET /api/v1/series lists them)",
                             quote_input(text)));
  return std::move(*info);
}

Result<TimestampNs> parse_time_param(std::string_view name, std::string_view text) {
  auto ts = parse_timestamp(text);
  if (!ts)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("query parameter '{}': expected RFC 3339 time or integer "
                             "nanoseconds, found {}",
                             name, quote_input(text)));
  return *ts;
}

Result<std::size_t> parse_limit(std::string_view text, std::size_t max_points) {
  std::size_t limit = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (!all_digits(text) || ec != std::errc{} || ptr != text.data() + text.size() || limit == 0 ||
      limit > max_points)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("query parameter 'limit': expected an integer from 1 to {}, found {}",
                             max_points, quote_input(text)));
  return limit;
}

Status check_query_params(const ParsedTarget& target) {
  for (std::size_t i = 0; i < target.params.size(); ++i) {
    const auto& key = target.params[i].key;
    bool known = false;
    for (auto name : kQueryParams) known = known || key == name;
    if (!known)
      return {StatusCode::kInvalidArgument,
              fmt::format("query parameter {}: unknown; expected series, from, to or limit",
                          quote_input(key))};
    for (std::size_t j = 0; j < i; ++j)
      if (target.params[j].key == key)
        return {StatusCode::kInvalidArgument,
                fmt::format("query parameter '{}': expected at most once, found it repeated", key)};
  }
  return Status::ok();
}

void append_points(std::string& out, const std::vector<Sample>& points, std::size_t count) {
  // Hand-written rather than via nlohmann: a 100k-point answer would otherwise build 400k nodes.
  fmt::memory_buffer buf;
  buf.push_back('[');
  for (std::size_t i = 0; i < count; ++i) {
    const Sample& s = points[i];
    if (i) buf.push_back(',');
    if (std::isfinite(s.value))
      fmt::format_to(std::back_inserter(buf), "[{},{},{}]", s.ts_ns, s.value, s.quality.code);
    else
      fmt::format_to(std::back_inserter(buf), "[{},null,{}]", s.ts_ns, s.quality.code);
  }
  buf.push_back(']');
  out.append(buf.data(), buf.size());
}

}  // namespace

Response handle_health(const RouteContext& ctx) {
  const double uptime_s =
      std::chrono::duration<double>(mono_now() - ctx.started).count();
  const TimestampNs now = ctx.options.clock();
  json body = {{"status", "ok"},
               {"node", ctx.options.node_name},
               {"version", RESONANCE_VERSION},
               {"uptime_s", std::round(uptime_s * 1000.0) / 1000.0},
               {"time", format_rfc3339(now)},
               {"series_count", ctx.catalog.list().size()},
               {"historian", stats_json(ctx.historian.stats())}};
  return json_response(body);
}

Response handle_series_list(const RouteContext& ctx) {
  json list = json::array();
  for (const SeriesInfo& info : ctx.catalog.list()) {
    const auto latest = ctx.historian.latest(info.id);
    list.push_back({{"id", info.id},
                    {"path", info.path},
                    {"unit", info.unit},
                    {"latest", latest ? sample_json(*latest) : json(nullptr)}});
  }
  return json_response(json{{"series", std::move(list)}});
}

Response handle_series_latest(const RouteContext& ctx, std::string_view id_segment) {
  const auto id = parse_series_id(id_segment);
  if (!id)
    return error_response(
        400, "invalid_argument",
        fmt::format("path segment {{id}} of /api/v1/series/{{id}}/latest: expected a series id "
                    "from 1 to {}, found {}",
                    std::numeric_limits<SeriesId>::max(), quote_input(id_segment)));
  const auto info = ctx.catalog.find(*id);
  if (!info)
    return error_response(404, "not_found",
                          fmt::format("series {}: no such series (GET /api/v1/series lists them)",
                                      *id));
  const auto latest = ctx.historian.latest(*id);
  if (!latest)
    return error_response(404, "not_found",
                          fmt::format("series {} ('{}'): no data yet", *id, info->path));
  json body = sample_json(*latest);
  body["series"] = info->id;
  body["path"] = info->path;
  body["unit"] = info->unit;
  return json_response(body);
}

Response handle_query(const RouteContext& ctx, const ParsedTarget& target) {
  if (Status s = check_query_params(target); !s.is_ok()) return error_response(s);

  const auto series_text = target.param("series");
  if (!series_text)
    return error_response(400, "invalid_argument",
                          "query parameter 'series': required; expected a series id or a path "
                          "site/area/line/equipment/signal, found nothing");
  auto info = resolve_series(ctx.catalog, *series_text);
  if (!info) return error_response(info.error());

  TimestampNs to_ns = 0;
  if (const auto text = target.param("to")) {
    auto ts = parse_time_param("to", *text);
    if (!ts) return error_response(ts.error());
    to_ns = *ts;
  } else {
    to_ns = ctx.options.clock();
  }
  TimestampNs from_ns = 0;
  if (const auto text = target.param("from")) {
    auto ts = parse_time_param("from", *text);
    if (!ts) return error_response(ts.error());
    from_ns = *ts;
  } else {
    from_ns = to_ns < std::numeric_limits<TimestampNs>::min() + kDefaultWindowNs
                  ? std::numeric_limits<TimestampNs>::min()
                  : to_ns - kDefaultWindowNs;
  }
  if (from_ns > to_ns)
    return error_response(400, "invalid_argument",
                          fmt::format("query parameters 'from' and 'to': expected from <= to, "
                                      "found from={} after to={}",
                                      format_rfc3339(from_ns), format_rfc3339(to_ns)));

  std::size_t limit = ctx.options.max_points;
  if (const auto text = target.param("limit")) {
    auto parsed = parse_limit(*text, ctx.options.max_points);
    if (!parsed) return error_response(parsed.error());
    limit = *parsed;
  }

  // One extra point tells a full answer from a truncated one without a second query.
  const std::vector<Sample> points = ctx.historian.range(info->id, from_ns, to_ns, limit + 1);
  const bool truncated = points.size() > limit;
  const std::size_t count = truncated ? limit : points.size();
  // The cursor is a string: ns timestamps exceed 2^53, so a JavaScript client cannot add 1 to
  // the last ts it parsed without losing precision.
  TimestampNs next_from = from_ns;
  if (count > 0) {
    const TimestampNs last_ts = points[count - 1].ts_ns;
    next_from = last_ts == std::numeric_limits<TimestampNs>::max() ? last_ts : last_ts + 1;
  }

  std::string body = fmt::format("{{\"series\":{},\"path\":{},\"unit\":{},\"from\":{},\"to\":{},"
                                 "\"points\":",
                                 info->id, dump_json(info->path), dump_json(info->unit), from_ns,
                                 to_ns);
  append_points(body, points, count);
  body += fmt::format(",\"truncated\":{},\"next_from\":\"{}\"}}", truncated ? "true" : "false",
                      next_from);
  return json_response(std::move(body));
}

}  // namespace resonance::api
