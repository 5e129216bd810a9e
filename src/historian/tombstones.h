#pragma once
// The TOMBSTONES file of a store (layout in docs/formats/tombstones.md): which series were deleted
// and from which chunk files and WAL records. Pure functions, no I/O: ChunkStore reads and writes
// the file, the fuzz target drives the parser directly.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::historian {

inline constexpr std::uint32_t kTombstoneMagic = 0x52544F4D;  // bytes "MOTR" on disk
inline constexpr std::size_t kTombstoneEntryBytes = 20;

struct Tombstone {
  SeriesId series = 0;
  std::uint64_t file_seq_below = 0;      // chunk files numbered below this lose the series
  std::uint64_t wal_sequence_below = 0;  // WAL records below this do not bring it back
  bool operator==(const Tombstone&) const = default;
};

// The whole file for `list` (magic, count, entries, CRC-32C). Canonical: parse_tombstones of the
// result gives `list` back, and encoding that again gives the same bytes.
std::vector<std::uint8_t> encode_tombstones(std::span<const Tombstone> list);

// Parses a whole TOMBSTONES file. Any damage (short file, bad magic, a count that does not match
// the length, a CRC mismatch, a series listed twice) is kCorruption with the byte offset in the
// message, prefixed by `what` (the file's path).
Result<std::vector<Tombstone>> parse_tombstones(std::span<const std::uint8_t> bytes,
                                                std::string_view what);

}  // namespace resonance::historian
