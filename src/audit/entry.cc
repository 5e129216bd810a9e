#include "resonance/audit/entry.h"

#include <array>
#include <utility>

namespace resonance::audit {

namespace {
constexpr std::uint8_t kEntryVersion = 1;
constexpr std::array<std::pair<EntryType, std::string_view>, 7> kNames{{
    {EntryType::kIngestBatch, "ingest.batch"},
    {EntryType::kPolicyLoad, "policy.load"},
    {EntryType::kPolicyDecision, "policy.decision"},
    {EntryType::kConsentChange, "consent.change"},
    {EntryType::kModelLifecycle, "model.lifecycle"},
    {EntryType::kInferenceBatch, "inference.batch"},
    {EntryType::kLogMeta, "log.meta"},
}};
}  // namespace

std::string_view to_string(EntryType type) {
  for (const auto& [t, name] : kNames)
    if (t == type) return name;
  return "unknown";
}

std::optional<EntryType> entry_type_from_string(std::string_view name) {
  for (const auto& [t, n] : kNames)
    if (n == name) return t;
  return std::nullopt;
}

Status encode_entry(const Entry& entry, std::vector<std::uint8_t>& out) {
  if (kEntryHeaderSize + entry.body.size() > kMaxEntrySize)
    return Status(StatusCode::kInvalidArgument, "audit entry of type " + std::string(to_string(entry.type)) +
                                                    " is " + std::to_string(kEntryHeaderSize + entry.body.size()) +
                                                    " bytes; the limit is 65535 (put a digest in the body instead)");
  out.push_back(kEntryVersion);
  out.push_back(static_cast<std::uint8_t>(entry.type));
  const auto ts = static_cast<std::uint64_t>(entry.ts_ns);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(ts >> shift));
  out.insert(out.end(), entry.body.begin(), entry.body.end());
  return Status::ok();
}

Result<Entry> decode_entry(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kEntryHeaderSize)
    return error(StatusCode::kCorruption, "entry is " + std::to_string(bytes.size()) +
                                              " bytes, shorter than its 10-byte header");
  if (bytes.size() > kMaxEntrySize)
    return error(StatusCode::kCorruption, "entry is " + std::to_string(bytes.size()) + " bytes, over 65535");
  if (bytes[0] != kEntryVersion)
    return error(StatusCode::kCorruption, "entry byte 0: unknown version " + std::to_string(bytes[0]));
  Entry e;
  e.type = static_cast<EntryType>(bytes[1]);
  if (to_string(e.type) == "unknown")
    return error(StatusCode::kCorruption, "entry byte 1: unknown type " + std::to_string(bytes[1]));
  std::uint64_t ts = 0;
  for (std::size_t i = 2; i < 10; ++i) ts = ts << 8 | bytes[i];
  e.ts_ns = static_cast<std::int64_t>(ts);
  e.body.assign(reinterpret_cast<const char*>(bytes.data()) + kEntryHeaderSize, bytes.size() - kEntryHeaderSize);
  return e;
}

}  // namespace resonance::audit
