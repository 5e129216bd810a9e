// Fuzzes the MQTT-SN session state file decoder (docs/formats/mqttsn-sessions.md). Whatever
// decodes must encode and decode again to equal sessions; every error must say where.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "connectors/mqttsn/session_store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::mqttsn;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sessions = decode_sessions(text);
  if (!sessions) {
    if (sessions.error().message().find("mqttsn sessions") == std::string::npos) std::abort();
    return 0;
  }
  auto again = decode_sessions(encode_sessions(*sessions));
  if (!again || !(*again == *sessions)) std::abort();
  return 0;
}
