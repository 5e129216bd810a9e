#include "api/responses.h"

#include <nlohmann/json.hpp>

namespace resonance::api {

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response json_response(std::string body, int status) {
  Response r;
  r.status = status;
  r.content_type = std::string(kJsonType);
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response json_response(const nlohmann::json& body, int status) {
  return json_response(dump_json(body), status);
}

Response error_response(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return json_response(body, status);
}

Response error_response(const Status& status) {
  int http_status = 500;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: http_status = 400; break;
    case StatusCode::kNotFound: http_status = 404; break;
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted: http_status = 503; break;
    default: break;
  }
  return error_response(http_status, to_string(status.code()), status.message());
}

std::string_view Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return value;
  return {};
}

}  // namespace resonance::api
