#pragma once
// Service messages as they travel in a UASC MSG/OPN/CLO body: the NodeId of the structure's binary
// encoding, then the structure. decode_message() dispatches on that id to every structure the
// client knows and fails, naming the id, on the others; it also rejects trailing bytes, so a body
// is either understood completely or not at all.

#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/opcua/services.h"
#include "connectors/opcua/subscription_services.h"

namespace resonance::opcua {

template <typename T>
concept ServiceStruct = Described<T> && requires { T::kEncodingId; };

using ServiceMessage = std::variant<
    ServiceFault, OpenSecureChannelRequest, OpenSecureChannelResponse, CloseSecureChannelRequest,
    GetEndpointsRequest, GetEndpointsResponse, CreateSessionRequest, CreateSessionResponse,
    ActivateSessionRequest, ActivateSessionResponse, CloseSessionRequest, CloseSessionResponse,
    ReadRequest, ReadResponse, WriteRequest, WriteResponse, BrowseRequest, BrowseResponse,
    BrowseNextRequest, BrowseNextResponse, TranslateBrowsePathsToNodeIdsRequest,
    TranslateBrowsePathsToNodeIdsResponse, CreateSubscriptionRequest, CreateSubscriptionResponse,
    CreateMonitoredItemsRequest, CreateMonitoredItemsResponse, PublishRequest, PublishResponse,
    RepublishRequest, RepublishResponse, DeleteSubscriptionsRequest, DeleteSubscriptionsResponse,
    TransferSubscriptionsRequest, TransferSubscriptionsResponse>;

template <ServiceStruct T>
void encode_message(Writer& w, const T& message) {
  encode(w, NodeId::numeric(0, T::kEncodingId));
  encode(w, message);
}
void encode_message(Writer& w, const ServiceMessage& message);

Result<ServiceMessage> decode_message(std::span<const std::uint8_t> body, DecodeLimits limits = {});
std::string_view message_name(const ServiceMessage& message);
// The ResponseHeader of a response or fault; nullptr for requests.
const ResponseHeader* response_header(const ServiceMessage& message);

// A structure wrapped in an ExtensionObject (identity tokens, filters, notifications).
template <ServiceStruct T>
ExtensionObject make_extension_object(const T& value) {
  Writer w;
  encode(w, value);
  const auto& d = w.data();
  return ExtensionObject{NodeId::numeric(0, T::kEncodingId), ExtensionObject::Encoding::kBinary,
                         std::string(d.begin(), d.end())};
}

// Decodes the body of `object` as T; fails if the type id is another one, the body is not binary,
// or bytes are left over.
template <ServiceStruct T>
Result<T> decode_extension_object(const ExtensionObject& object, DecodeLimits limits = {}) {
  if (object.type_id != NodeId::numeric(0, T::kEncodingId) ||
      object.encoding != ExtensionObject::Encoding::kBinary) {
    return error(resonance::StatusCode::kInvalidArgument,
                 std::string(T::kName) + ": ExtensionObject holds " + to_string(object.type_id) +
                     ", expected binary i=" + std::to_string(T::kEncodingId));
  }
  Reader r({reinterpret_cast<const std::uint8_t*>(object.body.data()), object.body.size()}, limits);
  T out;
  if (auto s = decode(r, out); !s) return error(with_context(std::move(s), T::kName));
  if (r.remaining() != 0)
    return error(r.fail(T::kName, r.offset(), std::to_string(r.remaining()) + " trailing bytes"));
  return out;
}

}  // namespace resonance::opcua
