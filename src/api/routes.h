#pragma once
// The data endpoints behind Router (one function per route). Each returns a complete Response,
// errors included, and never throws on bad input.

#include <functional>
#include <string_view>

#include "api/http_target.h"
#include "resonance/api/router.h"

namespace resonance::api {

struct RouteContext {
  const RouterOptions& options;
  const SeriesCatalog& catalog;
  const Historian& historian;
  MetricsRegistry& registry;
  MonoTime started;
};

Response handle_health(const RouteContext& ctx);
// `visible` (when set) filters the list: a remote client sees only the series the gate lets it read.
Response handle_series_list(const RouteContext& ctx, const std::function<bool(std::string_view)>& visible = {});
// `id_segment` is the {id} path segment of /api/v1/series/{id}/latest, not yet validated.
Response handle_series_latest(const RouteContext& ctx, std::string_view id_segment);
Response handle_query(const RouteContext& ctx, const ParsedTarget& target);
// GET /api/v1/aggregate: one series in time buckets (Historian::aggregate); at most
// options.max_points buckets.
Response handle_aggregate(const RouteContext& ctx, const ParsedTarget& target);
// GET /api/v1/frame: several series aligned on a grid (Historian::frame); at most
// options.max_points rows and 10 x max_points cells.
Response handle_frame(const RouteContext& ctx, const ParsedTarget& target);
// GET /api/v1/infomodel: the built-in information model (resonance infomodel export --json);
// ?category=ID gives that one category (an element of "categories").
Response handle_infomodel(const RouteContext& ctx, const ParsedTarget& target);

// The node's information model: options.model, or the built-in one when unset.
const infomodel::Model& model_of(const RouterOptions& options);

}  // namespace resonance::api
