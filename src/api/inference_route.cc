#include "api/inference_route.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <nlohmann/json.hpp>

#include "api/query_params.h"
#include "api/remote_access.h"
#include "api/responses.h"

namespace resonance::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLimit = 1000;
constexpr std::string_view kParams[] = {"model", "from", "to", "limit"};

Response bad(std::string message) {
  return error_response(400, "invalid_argument", message);
}

// A manifest name: what the registry and manifests accept, so a typo is a 400, not an empty answer.
bool valid_model_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

Response handle_inference(const RouteContext& ctx, const ParsedTarget& target, bool remote) {
  if (!ctx.options.inference)
    return error_response(404, "not_found",
                          "path '/api/v1/inference': live inference is not running on this node "
                          "([inference] enabled)");
  InferenceQuery q;
  if (Status s = check_params(target, kParams, "model, from, to or limit"); !s.is_ok()) return error_response(s);
  for (const auto& [key, value] : target.params) {
    if (key == "model") {
      if (!valid_model_name(value))
        return bad(fmt::format(
            "query parameter 'model': expected a model name of [A-Za-z0-9._-] (1..128 bytes), "
            "found {}",
            quote_input(value)));
      q.model = value;
    } else if (key == "from" || key == "to") {
      auto ts = parse_time_param(key, value);
      if (!ts) return error_response(ts.error());
      (key == "from" ? q.from_ns : q.to_ns) = *ts;
    } else {
      auto limit = parse_limit(value, kMaxLimit);
      if (!limit) return error_response(limit.error());
      q.limit = *limit;
    }
  }
  if (q.from_ns > q.to_ns)
    return bad(fmt::format("query parameters 'from' and 'to': from ({}) is after to ({})",
                           format_rfc3339(q.from_ns), format_rfc3339(q.to_ns)));
  auto records = ctx.options.inference(q);
  if (!records) return error_response(records.error());
  json list = json::array();
  std::size_t withheld = 0;
  // Records of one model instance name the same few output series: ask the gate once per series
  // and request (each decision is also logged), not once per record.
  std::unordered_map<std::string_view, bool> may_read;
  const auto allowed = [&](const std::string& series) {
    auto [it, fresh] = may_read.try_emplace(series, false);
    if (fresh) it->second = remote_may_read(ctx, series);
    return it->second;
  };
  for (const auto& r : *records) {
    if (remote && !std::ranges::all_of(r.output_series, allowed)) {
      ++withheld;
      continue;
    }
    json j = json::parse(r.json, nullptr, false);
    if (j.is_discarded()) return error_response(500, "internal", "inference record is not JSON");
    list.push_back(std::move(j));
  }
  const std::size_t count = list.size();
  json body{{"records", std::move(list)}, {"count", count}};
  if (remote) body["withheld"] = withheld;  // records the gate did not let this client read
  return json_response(body);
}

}  // namespace resonance::api
