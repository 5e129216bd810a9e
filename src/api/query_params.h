#pragma once
// Query-parameter checks the data routes share, so every route words the same mistake the same
// way: an unknown or repeated parameter, a time, a limit.

#include <span>
#include <string_view>

#include "api/http_target.h"
#include "resonance/core/status.h"
#include "resonance/core/time.h"

namespace resonance::api {

// Every parameter is one of `allowed` and appears at most once; `expected` lists them for the
// message ("series, from, to or limit").
Status check_params(const ParsedTarget& target, std::span<const std::string_view> allowed,
                    std::string_view expected);
// RFC 3339 or integer nanoseconds; the error names the parameter.
Result<TimestampNs> parse_time_param(std::string_view name, std::string_view text);
// An integer from 1 to max.
Result<std::size_t> parse_limit(std::string_view text, std::size_t max);

}  // namespace resonance::api
