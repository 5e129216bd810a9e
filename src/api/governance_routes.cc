#include "api/governance_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/query_params.h"
#include "api/responses.h"
#include "resonance/governance/policy.h"
#include "resonance/governance/provenance_store.h"

namespace resonance::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLimit = 1000;
constexpr std::string_view kProvenanceParams[] = {"series", "from", "to", "limit"};

Response bad(std::string message) { return error_response(400, "invalid_argument", message); }

}  // namespace

Response handle_policy(const governance::Policy* policy, const ParsedTarget& target) {
  if (!policy) return error_response(404, "not_found", "path '/api/v1/policy': this node has no policy attached");
  if (!target.params.empty())
    return bad(fmt::format("query parameter {}: unknown; '/api/v1/policy' takes none",
                           quote_input(target.params.front().key)));
  return json_response(governance::policy_json(*policy));
}

Response handle_provenance(const governance::ProvenanceStore* store, const SeriesCatalog& catalog,
                           const ParsedTarget& target) {
  if (!store)
    return error_response(404, "not_found",
                          "path '/api/v1/provenance': provenance is off on this node ([governance] provenance)");
  std::string series;
  TimestampNs from = 0, to = std::numeric_limits<TimestampNs>::max();
  std::size_t limit = 100;
  if (Status s = check_params(target, kProvenanceParams, "series, from, to or limit"); !s.is_ok())
    return error_response(s);
  for (const auto& [key, value] : target.params) {
    if (key == "series") {
      series = value;
    } else if (key == "from" || key == "to") {
      auto ts = parse_time_param(key, value);
      if (!ts) return error_response(ts.error());
      (key == "from" ? from : to) = *ts;
    } else {
      auto n = parse_limit(value, kMaxLimit);
      if (!n) return error_response(n.error());
      limit = *n;
    }
  }
  if (series.empty()) return bad("query parameter 'series': required (a series path)");
  if (from > to) return bad("query parameters 'from' and 'to': 'from' is after 'to'");
  const auto info = catalog.find(std::string_view(series));
  if (!info)
    return error_response(404, "not_found", fmt::format("series {}: not in the catalog", quote_input(series)));
  auto records = store->query(info->id, from, to, limit);
  if (!records) return error_response(records.error());
  json batches = json::array();
  for (const auto& r : *records) {
    batches.push_back({{"batch_id", r.batch_id},
                       {"connector", r.connector},
                       {"client_id", r.client_id},
                       {"received_ns", r.receive_ts_ns},
                       {"received", format_rfc3339(r.receive_ts_ns)},
                       {"transformations", r.transformations},
                       {"from_ns", r.min_ts_ns},
                       {"to_ns", r.max_ts_ns},
                       {"samples", r.sample_count},
                       {"series", r.series}});
  }
  return json_response(json{{"series", series}, {"id", info->id}, {"batches", std::move(batches)},
                            {"truncated", records->size() == limit}});
}

}  // namespace resonance::api
