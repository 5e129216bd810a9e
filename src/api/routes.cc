#include "api/routes.h"

#include "resonance/infomodel/export.h"
#include "resonance/infomodel/loader.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <span>
#include <utility>
#include <vector>
#include <nlohmann/json.hpp>

#include "resonance/core/json_writer.h"
#include "api/points_json.h"
#include "resonance/api/points_binary.h"
#include "api/query_params.h"
#include "api/responses.h"
#include "resonance/historian/duration.h"

namespace resonance::api {

namespace {

using nlohmann::json;

constexpr TimestampNs kDefaultWindowNs = 3600 * kNanosPerSecond;
constexpr std::size_t kMaxFrameSeries = 1000;
constexpr std::size_t kFrameCellsPerPoint = 10;  // a frame may hold 10x max_points values
constexpr std::string_view kQueryParams[] = {"series", "from", "to", "limit", "format"};

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

// The required `series` parameter, resolved (query and aggregate name one series each).
Result<SeriesInfo> series_param(const SeriesCatalog& catalog, const ParsedTarget& target) {
  const auto text = target.param("series");
  if (!text)
    return error(StatusCode::kInvalidArgument,
                 "query parameter 'series': required; expected a series id or a path "
                 "site/area/line/equipment/signal, found nothing");
  return resolve_series(catalog, *text);
}

// --- /api/v1/aggregate and /api/v1/frame -------------------------------------------------------

// from/to with the defaults of /api/v1/query: to = now, from = to - 1 h.
Result<std::pair<TimestampNs, TimestampNs>> parse_window(const RouteContext& ctx, const ParsedTarget& target) {
  TimestampNs to_ns = ctx.options.clock();
  if (const auto text = target.param("to")) {
    auto ts = parse_time_param("to", *text);
    if (!ts) return error(ts.error());
    to_ns = *ts;
  }
  TimestampNs from_ns = to_ns < std::numeric_limits<TimestampNs>::min() + kDefaultWindowNs
                            ? std::numeric_limits<TimestampNs>::min()
                            : to_ns - kDefaultWindowNs;
  if (const auto text = target.param("from")) {
    auto ts = parse_time_param("from", *text);
    if (!ts) return error(ts.error());
    from_ns = *ts;
  }
  if (from_ns > to_ns)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("query parameters 'from' and 'to': expected from <= to, found from={} after to={}",
                             format_rfc3339(from_ns), format_rfc3339(to_ns)));
  return std::pair{from_ns, to_ns};
}

// A positive duration ("10s", "500ms", "250000" ns).
Result<std::int64_t> parse_duration_param(std::string_view name, std::string_view text) {
  const auto ns = parse_duration_ns(text);
  if (!ns || *ns <= 0)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("query parameter '{}': expected a positive duration such as 10s, 500ms or "
                             "250000 (ns; units ns, us, ms, s, m, h, d), found {}",
                             name, quote_input(text)));
  return *ns;
}

// The `step` parameter that /aggregate and /frame both require.
Result<std::int64_t> required_step(const ParsedTarget& target) {
  const auto text = target.param("step");
  if (!text)
    return error(StatusCode::kInvalidArgument,
                 "query parameter 'step': required; expected a positive duration such as 10s, "
                 "500ms or 250000 (ns), found nothing");
  return parse_duration_param("step", *text);
}


// Grid points from, from + step, ... below to (the bucket count of an aggregation).
std::uint64_t grid_points(TimestampNs from_ns, TimestampNs to_ns, std::int64_t step_ns) {
  const std::uint64_t span = static_cast<std::uint64_t>(to_ns) - static_cast<std::uint64_t>(from_ns);
  const auto step = static_cast<std::uint64_t>(step_ns);
  return span / step + (span % step != 0 ? 1 : 0);
}

void append_number(fmt::memory_buffer& buf, double v) {
  char text[json_writer::kMaxDoubleChars];
  buf.append(text, json_writer::write_double(text, v));  // null for NaN/inf: JSON has neither
}

enum class AggFn : std::uint8_t { kMin, kMax, kMean, kSum, kCount, kFirst, kLast };
constexpr std::pair<std::string_view, AggFn> kAggFns[] = {
    {"min", AggFn::kMin},     {"max", AggFn::kMax},     {"mean", AggFn::kMean}, {"sum", AggFn::kSum},
    {"count", AggFn::kCount}, {"first", AggFn::kFirst}, {"last", AggFn::kLast}};

Result<std::vector<std::pair<std::string_view, AggFn>>> parse_fns(std::string_view text) {
  std::vector<std::pair<std::string_view, AggFn>> out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t comma = text.find(',', pos);
    const std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    bool found = false;
    for (const auto& f : kAggFns)
      if (f.first == item) {
        for (const auto& seen : out)
          if (seen.first == item)
            return error(StatusCode::kInvalidArgument,
                         fmt::format("query parameter 'fn': expected each function once, found {} repeated",
                                     quote_input(item)));
        out.push_back(f);
        found = true;
      }
    if (!found)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("query parameter 'fn': expected a comma-separated list of min, max, mean, sum, "
                               "count, first, last, found {} in {}",
                               quote_input(item), quote_input(text)));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

double bucket_value(const AggregateBucket& b, AggFn fn) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (fn) {
    case AggFn::kMin: return b.value_count ? b.min : nan;
    case AggFn::kMax: return b.value_count ? b.max : nan;
    case AggFn::kMean: return b.mean();
    case AggFn::kSum: return b.value_count ? b.sum : nan;
    case AggFn::kCount: return static_cast<double>(b.count);
    case AggFn::kFirst: return b.first;
    case AggFn::kLast: return b.last;
  }
  return nan;
}

// The unit of a series: the catalog's when the connector sent one (OPC UA EUInformation), else
// the information model's for the signal the path names (MQTT-SN REGISTER carries no unit).
// Adds "unit" (UNECE code or the catalog's text, null if neither knows one), "unit_symbol" (what a
// person reads: "°C", "mm") and "unit_source" ("catalog" | "infomodel" | null).
void add_unit(json& body, const SeriesInfo& info, const infomodel::Model& model) {
  std::string code = info.unit;
  const char* source = code.empty() ? nullptr : "catalog";
  if (code.empty())
    if (auto ref = infomodel::lookup_path(model, info.path); ref && !ref->signal->unit.empty()) {
      code = ref->signal->unit;
      source = "infomodel";
    }
  if (source == nullptr) {
    body["unit"] = nullptr;
    body["unit_symbol"] = nullptr;
    body["unit_source"] = nullptr;
    return;
  }
  const infomodel::Unit* unit = model.find_unit(code);
  body["unit"] = code;
  body["unit_symbol"] = unit != nullptr ? unit->symbol : code;
  body["unit_source"] = source;
}

}  // namespace

const infomodel::Model& model_of(const RouterOptions& options) {
  return options.model != nullptr ? *options.model : infomodel::builtin_model();
}

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

Response handle_series_list(const RouteContext& ctx, const std::function<bool(std::string_view)>& visible) {
  json list = json::array();
  for (const SeriesInfo& info : ctx.catalog.list()) {
    if (visible && !visible(info.path)) continue;
    const auto latest = ctx.historian.latest(info.id);
    json entry = {{"id", info.id}, {"path", info.path}};
    add_unit(entry, info, model_of(ctx.options));
    entry["latest"] = latest ? sample_json(*latest) : json(nullptr);
    list.push_back(std::move(entry));
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
  add_unit(body, *info, model_of(ctx.options));
  return json_response(body);
}

Response handle_query(const RouteContext& ctx, const ParsedTarget& target) {
  if (Status s = check_params(target, kQueryParams, "series, from, to, limit or format"); !s.is_ok())
    return error_response(s);

  auto info = series_param(ctx.catalog, target);
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

  PointsFormat format = PointsFormat::kRows;
  bool binary = false;
  if (const auto text = target.param("format")) {
    if (*text == "columns")
      format = PointsFormat::kColumns;
    else if (*text == "binary")
      binary = true;
    else if (*text != "rows")
      return error_response(400, "invalid_argument",
                            fmt::format("query parameter 'format': expected rows, columns or binary, found {}",
                                        quote_input(*text)));
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

  if (binary) {
    // docs/formats/points-binary.md: path and unit are not repeated (GET /api/v1/series has them).
    Response r = json_response(std::string());
    r.content_type = std::string(kPointsBinaryType);
    write_points_binary(r.body, info->id, from_ns, to_ns, next_from, truncated, std::span(points).first(count));
    return r;
  }
  std::string body = fmt::format("{{\"series\":{},\"path\":{},\"unit\":{},\"from\":{},\"to\":{},",
                                 info->id, dump_json(info->path), dump_json(info->unit), from_ns,
                                 to_ns);
  append_points(body, std::span(points).first(count), format);
  body += fmt::format(",\"truncated\":{},\"next_from\":\"{}\"}}", truncated ? "true" : "false",
                      next_from);
  return json_response(std::move(body));
}

Response handle_aggregate(const RouteContext& ctx, const ParsedTarget& target) {
  static constexpr std::string_view kParams[] = {"series", "from", "to", "step", "fn"};
  if (Status s = check_params(target, kParams, "series, from, to, step or fn"); !s.is_ok())
    return error_response(s);
  auto info = series_param(ctx.catalog, target);
  if (!info) return error_response(info.error());
  auto window = parse_window(ctx, target);
  if (!window) return error_response(window.error());
  const auto [from_ns, to_ns] = *window;
  auto step = required_step(target);
  if (!step) return error_response(step.error());
  auto fns = parse_fns(target.param("fn").value_or("min,max,mean,sum,count,first,last"));
  if (!fns) return error_response(fns.error());
  const std::uint64_t buckets = grid_points(from_ns, to_ns, *step);
  if (buckets > ctx.options.max_points)
    return error_response(400, "invalid_argument",
                          fmt::format("query parameters 'from', 'to' and 'step': expected at most {} buckets, "
                                      "found {} (from={} to={} step={} ns); use a larger step or a shorter "
                                      "window",
                                      ctx.options.max_points, buckets, from_ns, to_ns, *step));

  const auto result = ctx.historian.aggregate(info->id, from_ns, to_ns, *step);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf),
                 "{{\"series\":{},\"path\":{},\"unit\":{},\"from\":{},\"to\":{},\"step_ns\":{},"
                 "\"columns\":[\"start\"",
                 info->id, dump_json(info->path), dump_json(info->unit), from_ns, to_ns, *step);
  for (const auto& f : *fns) fmt::format_to(std::back_inserter(buf), ",\"{}\"", f.first);
  fmt::format_to(std::back_inserter(buf), "],\"buckets\":[");
  for (std::size_t i = 0; i < result.size(); ++i) {
    const AggregateBucket& b = result[i];
    fmt::format_to(std::back_inserter(buf), "{}[{}", i ? "," : "", b.start);
    for (const auto& f : *fns) {
      buf.push_back(',');
      if (f.second == AggFn::kCount)
        fmt::format_to(std::back_inserter(buf), "{}", b.count);
      else
        append_number(buf, bucket_value(b, f.second));
    }
    buf.push_back(']');
  }
  fmt::format_to(std::back_inserter(buf), "]}}");
  return json_response(std::string(buf.data(), buf.size()));
}

Response handle_frame(const RouteContext& ctx, const ParsedTarget& target) {
  static constexpr std::string_view kParams[] = {"series", "from", "to", "step", "fill", "max_staleness"};
  if (Status s = check_params(target, kParams, "series, from, to, step, fill or max_staleness"); !s.is_ok())
    return error_response(s);
  const auto series_text = target.param("series");
  if (!series_text)
    return error_response(400, "invalid_argument",
                          "query parameter 'series': required; expected a comma-separated list of series ids "
                          "or paths, found nothing");
  std::vector<SeriesInfo> infos;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t comma = series_text->find(',', pos);
    const std::string_view item =
        series_text->substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (infos.size() >= kMaxFrameSeries)
      return error_response(400, "invalid_argument",
                            fmt::format("query parameter 'series': expected at most {} series, found more",
                                        kMaxFrameSeries));
    auto info = resolve_series(ctx.catalog, item);
    if (!info)
      return error_response(Status(info.error().code(), fmt::format("{} (item {} of the list)", info.error().message(),
                                                                    infos.size() + 1)));
    infos.push_back(std::move(*info));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  auto window = parse_window(ctx, target);
  if (!window) return error_response(window.error());
  const auto [from_ns, to_ns] = *window;
  auto step = required_step(target);
  if (!step) return error_response(step.error());
  FrameFill fill = FrameFill::kLocf;
  if (const auto text = target.param("fill")) {
    if (*text == "linear")
      fill = FrameFill::kLinear;
    else if (*text != "locf")
      return error_response(400, "invalid_argument",
                            fmt::format("query parameter 'fill': expected locf or linear, found {}",
                                        quote_input(*text)));
  }
  std::int64_t staleness = *step;  // by default an observation is good for one grid step
  if (const auto text = target.param("max_staleness")) {
    auto parsed = parse_duration_param("max_staleness", *text);
    if (!parsed) return error_response(parsed.error());
    staleness = *parsed;
  }
  const std::uint64_t rows = grid_points(from_ns, to_ns, *step);
  if (rows > ctx.options.max_points)
    return error_response(400, "invalid_argument",
                          fmt::format("query parameters 'from', 'to' and 'step': expected at most {} rows, "
                                      "found {} (from={} to={} step={} ns); use a larger step or a shorter "
                                      "window",
                                      ctx.options.max_points, rows, from_ns, to_ns, *step));
  const std::uint64_t max_cells = std::uint64_t{kFrameCellsPerPoint} * ctx.options.max_points;
  if (rows * infos.size() > max_cells)
    return error_response(400, "invalid_argument",
                          fmt::format("query parameters 'series' and 'step': expected at most {} cells "
                                      "(rows x series), found {} ({} rows x {} series)",
                                      max_cells, rows * infos.size(), rows, infos.size()));

  FrameRequest req;
  for (const auto& i : infos) req.series.push_back(i.id);
  req.from_ns = from_ns;
  req.to_ns = to_ns;
  req.step_ns = *step;
  req.fill = fill;
  req.max_staleness_ns = staleness;
  const Frame f = ctx.historian.frame(req);

  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "{{\"series\":[");
  for (std::size_t i = 0; i < infos.size(); ++i)
    fmt::format_to(std::back_inserter(buf), "{}{{\"id\":{},\"path\":{},\"unit\":{}}}", i ? "," : "", infos[i].id,
                   dump_json(infos[i].path), dump_json(infos[i].unit));
  fmt::format_to(std::back_inserter(buf),
                 "],\"from\":{},\"to\":{},\"step_ns\":{},\"fill\":\"{}\",\"max_staleness_ns\":{},\"rows\":[", from_ns,
                 to_ns, *step, fill == FrameFill::kLinear ? "linear" : "locf", staleness);
  for (std::size_t r = 0; r < f.grid.size(); ++r) {
    fmt::format_to(std::back_inserter(buf), "{}[{}", r ? "," : "", f.grid[r]);
    for (std::size_t c = 0; c < f.columns; ++c) {
      buf.push_back(',');
      const std::size_t k = r * f.columns + c;
      if (f.valid[k])
        append_number(buf, f.values[k]);
      else
        buf.append(std::string_view("null"));
    }
    buf.push_back(']');
  }
  fmt::format_to(std::back_inserter(buf), "]}}");
  return json_response(std::string(buf.data(), buf.size()));
}

Response handle_infomodel(const RouteContext& ctx, const ParsedTarget& target) {
  static constexpr std::string_view kParams[] = {"category"};
  if (Status s = check_params(target, kParams, "category"); !s.is_ok()) return error_response(s);
  const infomodel::Model& model = model_of(ctx.options);
  if (const auto id = target.param("category")) {
    const infomodel::Category* category = model.find_category(*id);
    if (category == nullptr) {
      std::string ids;
      for (const auto& c : model.categories) ids += (ids.empty() ? "" : ", ") + c.id;
      return error_response(404, "not_found",
                            fmt::format("query parameter 'category': no category {}; the model has {}",
                                        quote_input(*id), ids));
    }
    return json_response(infomodel::category_to_json(model, *category, -1));
  }
  static const std::string body = infomodel::to_json(model, -1);  // the model never changes
  return json_response(body);
}

}  // namespace resonance::api
