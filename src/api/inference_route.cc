#include "api/inference_route.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

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
  for (std::size_t i = 0; i < target.params.size(); ++i) {
    const auto& [key, value] = target.params[i];
    if (std::ranges::find(kParams, key) == std::end(kParams))
      return bad(fmt::format("query parameter {}: unknown; expected model, from, to or limit",
                             quote_input(key)));
    for (std::size_t j = 0; j < i; ++j)
      if (target.params[j].key == key)
        return bad(
            fmt::format("query parameter '{}': expected at most once, found it repeated", key));
    if (key == "model") {
      if (!valid_model_name(value))
        return bad(fmt::format(
            "query parameter 'model': expected a model name of [A-Za-z0-9._-] (1..128 bytes), "
            "found {}",
            quote_input(value)));
      q.model = value;
    } else if (key == "from" || key == "to") {
      auto ts = parse_timestamp(value);
      if (!ts)
        return bad(fmt::format(
            "query parameter '{}': expected RFC 3339 time or integer nanoseconds, found {}", key,
            quote_input(value)));
      (key == "from" ? q.from_ns : q.to_ns) = *ts;
    } else {
      std::size_t limit = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty() || limit == 0 ||
          limit > kMaxLimit)
        return bad(
            fmt::format("query parameter 'limit': expected an integer from 1 to {}, found {}",
                        kMaxLimit, quote_input(value)));
      q.limit = limit;
    }
  }
  if (q.from_ns > q.to_ns)
    return bad(fmt::format("query parameters 'from' and 'to': from ({}) is after to ({})",
                           format_rfc3339(q.from_ns), format_rfc3339(q.to_ns)));
  auto records = ctx.options.inference(q);
  if (!records) return error_response(records.error());
  json list = json::array();
  std::size_t withheld = 0;
  for (const auto& r : *records) {
    if (remote && !std::ranges::all_of(r.output_series, [&](const std::string& s) {
          return remote_may_read(ctx, s);
        })) {
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
