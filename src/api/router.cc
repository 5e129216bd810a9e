#include "resonance/api/router.h"

#include <fmt/format.h>

#include <exception>

#include "api/export_route.h"
#include "api/http_target.h"
#include "api/governance_routes.h"
#include "api/inference_route.h"
#include "api/quarantine_route.h"
#include "api/remote_access.h"
#include "api/responses.h"
#include "api/routes.h"

namespace resonance::api {

namespace {

constexpr std::string_view kSeriesPrefix = "/api/v1/series/";
constexpr std::string_view kLatestSuffix = "/latest";
constexpr std::string_view kAssetsPrefix = "/assets/";
constexpr std::string_view kKnownRoutes =
    "/, /assets/<name>, /api/v1/health, /api/v1/series, /api/v1/series/{id}/latest, "
    "/api/v1/query, /api/v1/aggregate, /api/v1/frame, /api/v1/quarantine, /api/v1/infomodel, "
    "/api/v1/policy, /api/v1/provenance, /api/v1/export, /api/v1/inference, /metrics";

Response asset_response(const StaticAsset& asset, bool is_index) {
  Response r;
  r.content_type = std::string(asset.content_type);
  r.body = std::string(asset.bytes);
  // The page must pick up a new binary's assets at once; assets are not content-hashed, so they
  // get a short lifetime rather than "immutable".
  r.headers.emplace_back("Cache-Control", is_index ? "no-cache" : "public, max-age=300");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (is_index)
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; frame-ancestors 'none'");
  return r;
}

const StaticAsset* find_asset(std::span<const StaticAsset> assets, std::string_view name) {
  for (const auto& a : assets)
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace

Router::Router(RouterOptions options, const SeriesCatalog& catalog, const Historian& historian,
               MetricsRegistry& metrics)
    : options_(std::move(options)),
      catalog_(catalog),
      historian_(historian),
      registry_(metrics),
      metrics_(metrics),
      started_(mono_now()) {
  if (!options_.clock) options_.clock = unix_now_ns;
  if (options_.max_points == 0) options_.max_points = 1;
}

Response Router::handle(std::string_view method, std::string_view target) const {
  return handle(method, target, ClientAddress::loopback_v4());
}

Response Router::handle(std::string_view method, std::string_view target, const ClientAddress& client) const {
  Response response;
  // The last line of defence: the historian, the catalog or an allocation may throw, and one
  // request must never take the node down. Counted as a 5xx like any other.
  try {
    response = route(method, target, client);
  } catch (const std::exception& e) {
    response = error_response(500, "internal", fmt::format("internal error: {}", e.what()));
  } catch (...) {
    response = error_response(500, "internal", "internal error: unknown exception");
  }
  metrics_.count_response(response.status);
  return response;
}

Response Router::route(std::string_view method, std::string_view target, const ClientAddress& client) const {
  auto parsed = parse_target(target);
  if (!parsed) return error_response(parsed.error());
  const std::string_view path = parsed->path;
  const RouteContext ctx{options_, catalog_, historian_, registry_, started_};

  // Remote reading is export: a client outside the local networks passes the egress gate before
  // any route reads data (docs/api.md "Remote clients").
  const bool remote = !is_local_client(options_.remote, client);
  if (remote) {
    std::string_view latest_id;
    if (path.starts_with(kSeriesPrefix) && path.ends_with(kLatestSuffix) &&
        path.size() > kSeriesPrefix.size() + kLatestSuffix.size())
      latest_id = path.substr(kSeriesPrefix.size(), path.size() - kSeriesPrefix.size() - kLatestSuffix.size());
    if (auto refused = check_remote_read(ctx, path, *parsed, latest_id)) return std::move(*refused);
  }

  // Resolve the route first so an unknown path is a 404 whatever the method; every route answers
  // GET and HEAD only (HEAD like GET; the socket layer drops the body but keeps Content-Length).
  enum class Route {
    kIndex, kAsset, kHealth, kSeries, kLatest, kQuery, kMetrics, kQuarantine, kAggregate, kFrame,
    kPolicy, kProvenance, kExport, kInference, kInfomodel, kNone
  };
  Route route = Route::kNone;
  std::string_view arg;
  if (path == "/" || path == "/index.html") {
    route = Route::kIndex;
  } else if (path.starts_with(kAssetsPrefix)) {
    route = Route::kAsset;
    arg = path.substr(kAssetsPrefix.size());
  } else if (path == "/api/v1/health") {
    route = Route::kHealth;
  } else if (path == "/api/v1/series") {
    route = Route::kSeries;
  } else if (path.starts_with(kSeriesPrefix) && path.ends_with(kLatestSuffix) &&
             path.size() >= kSeriesPrefix.size() + kLatestSuffix.size()) {
    route = Route::kLatest;
    arg = path.substr(kSeriesPrefix.size(),
                      path.size() - kSeriesPrefix.size() - kLatestSuffix.size());
  } else if (path == "/api/v1/query") {
    route = Route::kQuery;
  } else if (path == "/metrics") {
    route = Route::kMetrics;
  } else if (path == "/api/v1/quarantine") {
    route = Route::kQuarantine;
  } else if (path == "/api/v1/aggregate") {  // the historian's aggregation and frame engine
    route = Route::kAggregate;
  } else if (path == "/api/v1/frame") {
    route = Route::kFrame;
  } else if (path == "/api/v1/policy") {  // governance
    route = Route::kPolicy;
  } else if (path == "/api/v1/provenance") {
    route = Route::kProvenance;
  } else if (path == "/api/v1/export") {  // data leaving the node: asks the egress gate
    route = Route::kExport;
  } else if (path == "/api/v1/inference") {  // live-inference records (inference_route.cc)
    route = Route::kInference;
  } else if (path == "/api/v1/infomodel") {  // the information model as JSON
    route = Route::kInfomodel;
  }

  if (route == Route::kNone)
    return error_response(404, "not_found",
                          fmt::format("path {}: no such endpoint; expected one of {}",
                                      quote_input(path), kKnownRoutes));
  if (method != "GET" && method != "HEAD") {
    Response r = error_response(
        405, "method_not_allowed",
        fmt::format("method {}: {} accepts GET and HEAD only", quote_input(method), quote_input(path)));
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }

  switch (route) {
    case Route::kIndex: {
      const StaticAsset* index = find_asset(options_.assets, "index.html");
      if (!index)
        return error_response(404, "not_found", "path '/': this build embeds no dashboard");
      return asset_response(*index, true);
    }
    case Route::kAsset: {
      const StaticAsset* asset = arg == "index.html" ? nullptr : find_asset(options_.assets, arg);
      if (!asset) {
        std::string names;
        for (const auto& a : options_.assets)
          if (a.name != "index.html") names += fmt::format("{}{}", names.empty() ? "" : ", ", a.name);
        return error_response(404, "not_found",
                              fmt::format("path segment <name> of /assets/<name>: expected one of "
                                          "[{}], found {}",
                                          names, quote_input(arg)));
      }
      return asset_response(*asset, false);
    }
    case Route::kHealth: return handle_health(ctx);
    case Route::kSeries:
      if (remote)
        return handle_series_list(ctx, [&ctx](std::string_view series_path) { return remote_may_read(ctx, series_path); });
      return handle_series_list(ctx);
    case Route::kLatest: return handle_series_latest(ctx, arg);
    case Route::kQuery: return handle_query(ctx, *parsed);
    case Route::kMetrics: {
      Response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = registry_.render_prometheus();
      r.headers.emplace_back("Cache-Control", "no-store");
      return r;
    }
    case Route::kQuarantine: return handle_quarantine(options_.quarantine, *parsed);
    case Route::kAggregate: return handle_aggregate(ctx, *parsed);
    case Route::kFrame: return handle_frame(ctx, *parsed);
    case Route::kPolicy: return handle_policy(options_.policy, *parsed);
    case Route::kProvenance: return handle_provenance(options_.provenance, catalog_, *parsed);
    case Route::kExport: return handle_export(ctx, *parsed);
    case Route::kInference: return handle_inference(ctx, *parsed, remote);
    case Route::kInfomodel: return handle_infomodel(ctx, *parsed);
    case Route::kNone: break;
  }
  return error_response(500, "internal", "router: unhandled route");
}

}  // namespace resonance::api
