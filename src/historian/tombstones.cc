#include "historian/tombstones.h"

#include <fmt/core.h>

#include <set>

#include "historian/codec_bits.h"
#include "historian/crc32c.h"

namespace resonance::historian {

namespace {
constexpr std::size_t kHeaderBytes = 8;  // magic, count
constexpr std::size_t kCrcBytes = 4;
}  // namespace

std::vector<std::uint8_t> encode_tombstones(std::span<const Tombstone> list) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(kHeaderBytes + list.size() * kTombstoneEntryBytes + kCrcBytes);
  codec::ByteWriter w(bytes);
  w.u32(kTombstoneMagic);
  w.u32(static_cast<std::uint32_t>(list.size()));
  for (const auto& t : list) {
    w.u32(t.series);
    w.u64(t.file_seq_below);
    w.u64(t.wal_sequence_below);
  }
  w.u32(crc32c(bytes));
  return bytes;
}

Result<std::vector<Tombstone>> parse_tombstones(std::span<const std::uint8_t> bytes,
                                                std::string_view what) {
  auto corrupt = [what](std::string msg) {
    return error(StatusCode::kCorruption, fmt::format("{}: {}", what, msg));
  };
  if (bytes.size() < kHeaderBytes + kCrcBytes)
    return corrupt(fmt::format("{} bytes, shorter than the 12-byte minimum", bytes.size()));
  codec::ByteReader r(bytes, what);
  const std::uint32_t magic = r.u32();
  const std::uint32_t count = r.u32();
  if (magic != kTombstoneMagic)
    return corrupt(
        fmt::format("magic {:#010x} at byte 0, expected {:#010x}", magic, kTombstoneMagic));
  // Checked before any entry is read, so a huge count cannot make us allocate or loop.
  const std::uint64_t expected =
      kHeaderBytes + std::uint64_t{count} * kTombstoneEntryBytes + kCrcBytes;
  if (expected != bytes.size())
    return corrupt(fmt::format("count {} at byte 4 needs {} bytes, the file has {}", count,
                               expected, bytes.size()));
  const std::size_t crc_at = bytes.size() - kCrcBytes;
  const std::uint32_t computed = crc32c(bytes.first(crc_at));
  std::vector<Tombstone> list;
  list.reserve(count);
  std::set<SeriesId> seen;
  for (std::uint32_t i = 0; i < count; ++i) {
    Tombstone t;
    t.series = r.u32();
    t.file_seq_below = r.u64();
    t.wal_sequence_below = r.u64();
    list.push_back(t);
  }
  const std::uint32_t stored = r.u32();
  if (!r.ok()) return error(r.status());
  if (stored != computed)
    return corrupt(
        fmt::format("CRC {:#010x} at byte {} != computed {:#010x}", stored, crc_at, computed));
  // The writer merges a repeated delete into one entry; two entries for a series mean the file is
  // not ours to trust.
  for (std::uint32_t i = 0; i < count; ++i)
    if (!seen.insert(list[i].series).second)
      return corrupt(fmt::format("series {} listed twice (entry {} at byte {})", list[i].series, i,
                                 kHeaderBytes + std::size_t{i} * kTombstoneEntryBytes));
  return list;
}

}  // namespace resonance::historian
