#include "api/quarantine_route.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "api/query_params.h"
#include "api/responses.h"

namespace resonance::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLimit = 1000;
constexpr std::string_view kParams[] = {"from", "to", "reason", "limit"};

json entry_json(const QuarantineEntry& e) {
  json sample = nullptr;
  if (e.has_sample())
    sample = {{"series", e.sample.series},
              {"ts_ns", e.sample.ts_ns},
              {"ts", format_rfc3339(e.sample.ts_ns)},
              {"value", std::isfinite(e.sample.value) ? json(e.sample.value) : json(nullptr)},
              {"quality", e.sample.quality.code}};
  return {{"id", e.id},           {"received_ns", e.receive_ts_ns}, {"received", format_rfc3339(e.receive_ts_ns)},
          {"reason_code", e.reason_code}, {"reason", e.reason},    {"stage", e.stage},
          {"connector", e.connector},     {"client_id", e.client_id}, {"source", e.source},
          {"topic", e.topic},             {"sample", std::move(sample)}, {"raw_hex", e.raw_hex},
          {"raw_size", e.raw_size}};
}

Response bad(std::string message) { return error_response(400, "invalid_argument", message); }

}  // namespace

Response handle_quarantine(const Quarantine* quarantine, const ParsedTarget& target) {
  if (!quarantine)
    return error_response(404, "not_found", "path '/api/v1/quarantine': this node has no quarantine attached");
  QuarantineQuery q;
  if (Status s = check_params(target, kParams, "from, to, reason or limit"); !s.is_ok()) return error_response(s);
  for (const auto& [key, value] : target.params) {
    if (key == "from" || key == "to") {
      auto ts = parse_time_param(key, value);
      if (!ts) return error_response(ts.error());
      (key == "from" ? q.from_ns : q.to_ns) = *ts;
    } else if (key == "reason") {
      const bool ok = !value.empty() && value.size() <= 32 && std::ranges::all_of(value, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
      if (!ok)
        return bad(fmt::format("query parameter 'reason': expected a reason code of [a-z0-9_] (1..32 bytes), "
                               "found {}",
                               quote_input(value)));
      q.reason_code = value;
    } else {
      auto limit = parse_limit(value, kMaxLimit);
      if (!limit) return error_response(limit.error());
      q.limit = *limit;
    }
  }
  if (q.from_ns > q.to_ns)
    return bad(fmt::format("query parameters 'from' and 'to': from ({}) is after to ({})", format_rfc3339(q.from_ns),
                           format_rfc3339(q.to_ns)));
  auto entries = quarantine->query(q);
  if (!entries) return error_response(entries.error());
  json list = json::array();
  for (const auto& e : *entries) list.push_back(entry_json(e));
  return json_response(json{{"entries", std::move(list)},
                            {"count", entries->size()},
                            {"total", quarantine->total()},
                            {"dropped", quarantine->dropped()},
                            {"durable", quarantine->durable()}});
}

}  // namespace resonance::api
