#include "api/governance_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

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
  for (std::size_t i = 0; i < target.params.size(); ++i) {
    const auto& [key, value] = target.params[i];
    if (std::ranges::find(kProvenanceParams, key) == std::end(kProvenanceParams))
      return bad(fmt::format("query parameter {}: unknown; expected series, from, to or limit", quote_input(key)));
    for (std::size_t j = 0; j < i; ++j)
      if (target.params[j].key == key)
        return bad(fmt::format("query parameter '{}': expected at most once, found it repeated", key));
    if (key == "series") {
      series = value;
    } else if (key == "from" || key == "to") {
      auto ts = parse_timestamp(value);
      if (!ts)
        return bad(fmt::format("query parameter '{}': expected RFC 3339 time or integer nanoseconds, found {}", key,
                               quote_input(value)));
      (key == "from" ? from : to) = *ts;
    } else {
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n == 0 || n > kMaxLimit)
        return bad(fmt::format("query parameter 'limit': expected an integer from 1 to {}, found {}", kMaxLimit,
                               quote_input(value)));
      limit = n;
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
