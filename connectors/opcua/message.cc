#include "connectors/opcua/message.h"

#include <string>
#include <utility>

namespace resonance::opcua {
namespace {

template <std::size_t I = 0>
Status decode_by_id(Reader& r, std::uint32_t id, ServiceMessage& out, bool& known) {
  if constexpr (I < std::variant_size_v<ServiceMessage>) {
    using T = std::variant_alternative_t<I, ServiceMessage>;
    if (id == T::kEncodingId) {
      known = true;
      auto& slot = out.emplace<I>();
      return with_context(decode(r, slot), T::kName);
    }
    return decode_by_id<I + 1>(r, id, out, known);
  } else {
    return Status::ok();
  }
}

}  // namespace

void encode_message(Writer& w, const ServiceMessage& message) {
  std::visit([&w](const auto& m) { encode_message(w, m); }, message);
}

Result<ServiceMessage> decode_message(std::span<const std::uint8_t> body, DecodeLimits limits) {
  Reader r(body, limits);
  NodeId type;
  if (auto s = decode(r, type); !s) return error(with_context(std::move(s), "message type"));
  if (type.ns != 0 || !std::holds_alternative<std::uint32_t>(type.id))
    return error(r.fail("message type", 0, "not a standard encoding id: " + to_string(type)));
  ServiceMessage out;
  bool known = false;
  if (auto s = decode_by_id(r, type.numeric_id(), out, known); !s) return error(std::move(s));
  if (!known)
    return error(r.fail("message type", 0,
                        "unsupported service encoding id i=" + std::to_string(type.numeric_id())));
  if (r.remaining() != 0)
    return error(r.fail(message_name(out), r.offset(),
                        std::to_string(r.remaining()) + " trailing bytes after the message"));
  return out;
}

std::string_view message_name(const ServiceMessage& message) {
  return std::visit([](const auto& m) { return std::string_view(std::decay_t<decltype(m)>::kName); },
                    message);
}

const ResponseHeader* response_header(const ServiceMessage& message) {
  return std::visit(
      [](const auto& m) -> const ResponseHeader* {
        if constexpr (requires { m.header.service_result; }) {
          return &m.header;
        } else {
          return nullptr;
        }
      },
      message);
}

}  // namespace resonance::opcua
