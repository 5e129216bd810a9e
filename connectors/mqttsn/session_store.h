#pragma once
// The gateway's session state file: what survives a restart (spec 6.1 leaves persistence to the
// gateway; Paho loses subscriptions on restart, its issue #134). Format, with an example:
// docs/formats/mqttsn-sessions.md. Not persisted: in-flight QoS 1/2 exchanges and queued
// downstream messages (a client retransmits its own; the gateway's are at most once per restart).
//
// Pure functions plus one atomic file write; thread-safe.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/mqttsn/session.h"
#include "resonance/core/status.h"

namespace resonance::mqttsn {

struct StoredSession {
  std::string client_id;
  bool clean_session = true;
  std::uint16_t keep_alive_s = 0;
  ClientState state = ClientState::kActive;  // kActive, kAsleep or kDisconnected
  std::uint16_t sleep_s = 0;
  std::optional<std::pair<std::string, std::uint16_t>> endpoint;  // address literal, port
  std::optional<Will> will;
  std::vector<std::pair<std::uint16_t, std::string>> topics;  // normal topic id -> name
  std::vector<Subscription> subscriptions;
  bool operator==(const StoredSession&) const = default;
};

std::string encode_sessions(const std::vector<StoredSession>& sessions);
// Errors name the line and the field: "mqttsn sessions line 3: topic id '0' must be 1..65535".
Result<std::vector<StoredSession>> decode_sessions(std::string_view text);

// Writes via a temporary file, fsync and rename, so a crash leaves the old or the new file.
Status write_sessions_file(const std::filesystem::path& file, const std::vector<StoredSession>& sessions);
// The same for text encode_sessions() made (the gateway encodes on its loop, writes elsewhere).
Status write_sessions_text(const std::filesystem::path& file, const std::string& text);
// A missing file is an empty list.
Result<std::vector<StoredSession>> read_sessions_file(const std::filesystem::path& file);

}  // namespace resonance::mqttsn
