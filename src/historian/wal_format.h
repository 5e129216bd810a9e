#pragma once
// The WAL record format: encoder, decoder and segment scanner. The byte layout is specified in
// docs/formats/wal.md; keep the two in step. Everything here is pure (no I/O, no locks), so the
// fuzz target and tests drive it directly.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::historian {

inline constexpr std::uint8_t kWalFormatVersion = 1;
inline constexpr std::uint8_t kRecordTypeBatch = 1;
// Frame header: u32 body length, u32 CRC-32C over (length field || body).
inline constexpr std::size_t kFrameHeaderBytes = 8;
// version, type, sequence, 2 string lengths, receive_ts, transformation count, sample count.
inline constexpr std::size_t kMinBodyBytes = 1 + 1 + 8 + 4 + 4 + 8 + 4 + 4;
inline constexpr std::size_t kSampleBytes = 4 + 8 + 8 + 4;
// Larger lengths are treated as corruption by the reader, so the writer refuses such batches.
inline constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 28;  // 256 MiB

struct WalRecord {
  std::uint64_t sequence = 0;
  SampleBatch batch;
};

// Framed size (header + body) of the record `batch` encodes to.
std::size_t encoded_record_size(const SampleBatch& batch);

// Appends the framed record to `out`. Precondition: encoded_record_size(batch) - 8 <=
// kMaxBodyBytes (the caller checks; the historian rejects larger batches).
void encode_record(std::uint64_t sequence, const SampleBatch& batch, std::vector<std::uint8_t>& out);

struct DecodedRecord {
  WalRecord record;
  std::size_t framed_bytes = 0;  // header + body consumed from the input
};

// Decodes the record at the start of `bytes`. Errors: kOutOfRange when `bytes` ends before the
// record does (a torn tail), kCorruption when the length, checksum or structure is wrong. The
// message names the field and offset (relative to `bytes`).
Result<DecodedRecord> decode_record(std::span<const std::uint8_t> bytes);

enum class ScanStop : std::uint8_t {
  kCleanEnd,  // every byte belongs to a valid record
  kTornTail,  // the tail is an incomplete record or zero fill: normal after kill -9 / power loss
  kCorrupt,   // a bad length, checksum, structure or sequence: bytes from there on are dropped
};

struct SegmentScan {
  std::size_t valid_bytes = 0;  // length of the prefix made of whole, valid records
  std::uint64_t records = 0;
  std::uint64_t samples = 0;
  std::optional<std::uint64_t> last_sequence;
  ScanStop stop = ScanStop::kCleanEnd;
  std::string reason;  // why the scan stopped early; empty on kCleanEnd
};

// Walks a segment record by record, handing each valid one to `on_record` (may be empty), and
// stops at the first bad one. `expected_sequence`: the sequence the first record must carry
// (nullopt = any); each later record must carry its predecessor's plus one.
SegmentScan scan_segment(std::span<const std::uint8_t> bytes,
                         std::optional<std::uint64_t> expected_sequence,
                         const std::function<void(WalRecord&&)>& on_record);

}  // namespace resonance::historian
