#pragma once
// A log entry: what happened (type), when (UTC ns) and a canonical JSON body with the details.
// Binary encoding v1 (docs/formats/tlog-entry.md): version u8 = 1 | type u8 | ts_ns i64 BE | body.
// The encoded bytes are what the leaf hash covers and are stored verbatim in entry bundles.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::audit {

enum class EntryType : std::uint8_t {
  kIngestBatch = 1,
  kPolicyLoad = 2,
  kPolicyDecision = 3,
  kConsentChange = 4,
  kModelLifecycle = 5,
  kInferenceBatch = 6,
  kLogMeta = 7,  // time beacons, key rotation, predecessor-log checkpoint
};

std::string_view to_string(EntryType type);  // "ingest.batch", …
std::optional<EntryType> entry_type_from_string(std::string_view name);

struct Entry {
  EntryType type = EntryType::kLogMeta;
  std::int64_t ts_ns = 0;  // UTC, nanoseconds since the epoch
  std::string body;        // a JSON object, serialised canonically by the producer
};

inline constexpr std::size_t kEntryHeaderSize = 10;
inline constexpr std::size_t kMaxEntrySize = 65535;  // tlog-tiles bundles use u16 lengths

// Fails with kInvalidArgument when the encoding would exceed kMaxEntrySize.
Status encode_entry(const Entry& entry, std::vector<std::uint8_t>& out);
// Fails with kCorruption naming the byte offset and what was wrong.
Result<Entry> decode_entry(std::span<const std::uint8_t> bytes);

}  // namespace resonance::audit
