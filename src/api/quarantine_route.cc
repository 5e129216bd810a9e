#include "api/quarantine_route.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

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
  for (std::size_t i = 0; i < target.params.size(); ++i) {
    const auto& [key, value] = target.params[i];
    if (std::ranges::find(kParams, key) == std::end(kParams))
      return bad(fmt::format("query parameter {}: unknown; expected from, to, reason or limit", quote_input(key)));
    for (std::size_t j = 0; j < i; ++j)
      if (target.params[j].key == key)
        return bad(fmt::format("query parameter '{}': expected at most once, found it repeated", key));
    if (key == "from" || key == "to") {
      auto ts = parse_timestamp(value);
      if (!ts)
        return bad(fmt::format("query parameter '{}': expected RFC 3339 time or integer nanoseconds, found {}", key,
                               quote_input(value)));
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
      std::size_t limit = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty() || value[0] == '+' ||
          limit == 0 || limit > kMaxLimit)
        return bad(fmt::format("query parameter 'limit': expected an integer from 1 to {}, found {}", kMaxLimit,
                               quote_input(value)));
      q.limit = limit;
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
