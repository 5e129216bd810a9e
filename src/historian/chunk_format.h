#pragma once
// Chunk files (layout in docs/formats/chunk.md): immutable, one per (partition, flush). A chunk is
// one series' samples in one partition, at most 65,535 (the head seals at 1,024), with a header of
// statistics that aggregations use without decoding. Pure functions: no I/O, no locks.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::historian {

inline constexpr std::size_t kChunkFileHeaderBytes = 32;
inline constexpr std::size_t kChunkFooterBytes = 40;
inline constexpr std::size_t kIndexEntryBytes = 16;
// Version 2 (written) has a variable-length chunk header of varints and scaled statistics, about
// 40 bytes where version 1 (still read) spent a fixed 88, and timestamp blocks relative to t_min.
inline constexpr std::uint32_t kChunkFormatVersion = 2;
inline constexpr std::uint32_t kChunkFormatVersionV1 = 1;
inline constexpr std::size_t kChunkHeaderBytesV1 = 88;

// Statistics cover the chunk's samples; min, max and sum skip NaN values (value_count says how
// many were used); first and last are the values at t_min and t_max whatever they are.
struct ChunkHeader {
  std::uint32_t total_bytes = 0;   // header + the three blocks
  std::uint32_t header_bytes = 0;  // 88 in version 1, variable in version 2
  std::uint32_t crc = 0;           // v1: CRC-32C of bytes [8, total_bytes); v2: of the bytes after it
  SeriesId series = 0;
  std::uint16_t count = 0;
  std::uint16_t value_count = 0;  // non-NaN values
  std::uint8_t ts_codec = 0, value_codec = 0, quality_codec = 0;
  std::uint32_t ts_bytes = 0, value_bytes = 0, quality_bytes = 0;
  TimestampNs t_min = 0, t_max = 0;
  double min = 0, max = 0, sum = 0, first = 0, last = 0;
};

// A chunk inside a file: its parsed header and the three blocks (views into the file bytes).
struct ChunkView {
  ChunkHeader header;
  std::span<const std::uint8_t> ts_block, value_block, quality_block;
  std::span<const std::uint8_t> whole;  // header + blocks
  TimestampNs ts_base = 0;              // what the timestamp block is relative to (v2: t_min)
};

// Columns of one chunk, ascending strictly by timestamp.
struct ChunkColumns {
  std::vector<TimestampNs> ts;
  std::vector<double> values;
  std::vector<std::uint32_t> quality;
};

// Encodes one chunk (1..65,535 samples, strictly ascending timestamps) in the current format
// (version 2) and appends it to `out`.
void encode_chunk(SeriesId series, std::span<const TimestampNs> ts, std::span<const double> values,
                  std::span<const std::uint32_t> quality, std::vector<std::uint8_t>& out);
// The same in format version 1, for tests that old files stay readable.
void encode_chunk_v1(SeriesId series, std::span<const TimestampNs> ts, std::span<const double> values,
                     std::span<const std::uint32_t> quality, std::vector<std::uint8_t>& out);

// Parses and checks (lengths, CRC) the chunk at the start of `bytes`, written in `version`.
Result<ChunkView> parse_chunk(std::span<const std::uint8_t> bytes, std::uint32_t version = kChunkFormatVersion);
// Decodes the blocks of a parsed chunk; checks the timestamps are strictly ascending and match
// t_min/t_max.
Status decode_chunk(const ChunkView& chunk, ChunkColumns& out);
// The checks decode_chunk makes on a chunk's decoded timestamps (strictly ascending, first and
// last equal to t_min and t_max), for readers that decode the blocks themselves.
Status check_chunk_timestamps(const ChunkView& chunk, std::span<const TimestampNs> ts);
// True when the chunk's timestamp block is a regular grid t0 + i * step that passes those checks
// without being decoded (step > 0, or a single sample); the common case, read without decoding.
bool chunk_grid(const ChunkView& chunk, std::int64_t& t0, std::int64_t& step);

struct IndexEntry {
  SeriesId series = 0;
  std::uint32_t chunk_count = 0;
  std::uint64_t offset = 0;  // of the series' first chunk; its chunks are contiguous
};

struct ChunkFileInfo {
  std::uint32_t version = kChunkFormatVersion;
  std::int64_t partition_start = 0;
  std::int64_t partition_ns = 0;
  std::vector<IndexEntry> index;  // ascending series
};

// Builds a chunk file in memory: add the chunks of each series in ascending series order.
class ChunkFileBuilder {
 public:
  // `version` 1 only for tests of reading old files (chunks then from encode_chunk_v1).
  ChunkFileBuilder(std::int64_t partition_start, std::int64_t partition_ns,
                   std::uint32_t version = kChunkFormatVersion);
  // `chunk` is one encoded chunk (from encode_chunk) of `series`; series must not decrease.
  void add(SeriesId series, std::span<const std::uint8_t> chunk);
  std::vector<std::uint8_t> finish();

 private:
  std::vector<std::uint8_t> bytes_;
  std::vector<IndexEntry> index_;
};

// Checks the file header, footer, index and every chunk (CRC, series, bounds); on success the
// chunks of index entry e are parse_chunk-able in sequence from e.offset.
Result<ChunkFileInfo> parse_chunk_file(std::span<const std::uint8_t> file);
// A damaged chunk found by salvage_chunk_file: the chunks of `series` from byte `offset` of the file
// on were skipped (a chunk's length locates the next one, so nothing after a bad chunk of the same
// series can be trusted).
struct ChunkDamage {
  SeriesId series = 0;
  std::uint64_t offset = 0;
  std::uint32_t chunks_lost = 0;
  std::string reason;
};
struct SalvagedChunkFile {
  ChunkFileInfo info;  // entries cut to their readable chunks; series left with none are dropped
  std::vector<ChunkDamage> damage;
};
// Like parse_chunk_file, but damage inside the chunk area costs only the damaged series' chunks
// from the bad one on, not the whole file: the file header, footer and index (each CRC-checked)
// must be intact, since without them nothing can be located. On success, chunks_of works for every
// entry of `info`.
Result<SalvagedChunkFile> salvage_chunk_file(std::span<const std::uint8_t> file);

// The chunks of one index entry (parse_chunk_file already validated them); `file` is the whole
// file (its header gives the format version).
Result<std::vector<ChunkView>> chunks_of(std::span<const std::uint8_t> file, const IndexEntry& entry);

}  // namespace resonance::historian
