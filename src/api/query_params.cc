#include "api/query_params.h"

#include <fmt/format.h>

#include <charconv>

namespace resonance::api {

Status check_params(const ParsedTarget& target, std::span<const std::string_view> allowed,
                    std::string_view expected) {
  for (std::size_t i = 0; i < target.params.size(); ++i) {
    const auto& key = target.params[i].key;
    bool known = false;
    for (auto name : allowed) known = known || key == name;
    if (!known)
      return {StatusCode::kInvalidArgument,
              fmt::format("query parameter {}: unknown; expected {}", quote_input(key), expected)};
    for (std::size_t j = 0; j < i; ++j)
      if (target.params[j].key == key)
        return {StatusCode::kInvalidArgument,
                fmt::format("query parameter '{}': expected at most once, found it repeated", key)};
  }
  return Status::ok();
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

Result<std::size_t> parse_limit(std::string_view text, std::size_t max) {
  std::size_t limit = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  // Digits only: from_chars alone would take a leading sign or stop early.
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits || ec != std::errc{} || ptr != text.data() + text.size() || limit == 0 ||
      limit > max)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("query parameter 'limit': expected an integer from 1 to {}, found {}",
                             max, quote_input(text)));
  return limit;
}

}  // namespace resonance::api
