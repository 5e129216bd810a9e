#pragma once
// Client::call, shared by client.cc and client_subscription.cc (not part of the public header).

#include <string>
#include <type_traits>

#include "connectors/opcua/client.h"

namespace resonance::opcua {

template <typename Response, typename Request>
Result<Response> Client::call(Request& request) {
  if (broken_) return error(resonance::StatusCode::kUnavailable, "connection to " + options_.endpoint_url + " is broken");
  if constexpr (!std::is_same_v<Request, OpenSecureChannelRequest> &&
                !std::is_same_v<Request, CloseSecureChannelRequest>) {
    if (auto s = renew_channel_if_due(); !s) return error(std::move(s));
  }
  ServiceMessage message(std::move(request));
  auto& header = std::get<Request>(message).header;
  auto id = send(message, header);
  if (!id) return error(id.error());
  auto response = wait_for(*id, Request::kName);
  if (!response) return error(response.error());
  if (auto* fault = std::get_if<ServiceFault>(&*response))
    return error(resonance::StatusCode::kFailedPrecondition,
                 std::string(Request::kName) + " failed: " + describe_status(fault->header.service_result));
  auto* typed = std::get_if<Response>(&*response);
  if (!typed)
    return error(fail(Status(resonance::StatusCode::kInvalidArgument,
                             std::string(Request::kName) + ": the server answered with " +
                                 std::string(message_name(*response)))));
  if (typed->header.service_result.is_bad())
    return error(resonance::StatusCode::kFailedPrecondition,
                 std::string(Request::kName) + " failed: " + describe_status(typed->header.service_result));
  request = std::move(std::get<Request>(message));
  return std::move(*typed);
}

}  // namespace resonance::opcua
