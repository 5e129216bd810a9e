// Fuzzes the service message decoder (every structure the client knows, and through them every
// built-in type). Whatever decodes must re-encode and decode again to an equal message: the
// encoder may pick a shorter NodeId form or turn a null array into an empty one, but never lose
// a value. Errors must say what and where.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "connectors/opcua/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::opcua;
  auto message = decode_message(std::span<const std::uint8_t>(data, size));
  if (!message) {
    if (message.error().message().find(" at offset ") == std::string::npos) std::abort();
    return 0;
  }
  Writer w;
  encode_message(w, *message);
  auto again = decode_message(w.data());
  if (!again || !(*again == *message)) std::abort();
  return 0;
}
