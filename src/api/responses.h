#pragma once
// Building API responses: JSON bodies, the one error shape, and the cache policy per kind.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

#include "resonance/api/router.h"
#include "resonance/core/status.h"

namespace resonance::api {

inline constexpr std::string_view kJsonType = "application/json";

// Serialises without throwing: invalid UTF-8 (which may arrive inside an echoed request value) is
// replaced by U+FFFD instead of raising nlohmann's type_error.
std::string dump_json(const nlohmann::json& value);

// 200 (or `status`) with a JSON body; API answers are never cached, they are live data.
Response json_response(const nlohmann::json& body, int status = 200);
Response json_response(std::string body, int status = 200);

// {"error":{"code":"invalid_argument","message":"..."}}. `code` is a StatusCode name.
Response error_response(int status, std::string_view code, std::string_view message);
// Maps kInvalidArgument -> 400, kNotFound -> 404, anything else -> 500.
Response error_response(const Status& status);

}  // namespace resonance::api
