#pragma once
// Lossless block encodings for the chunk files (byte layouts in docs/formats/chunk.md). A block
// holds the timestamps, values or quality codes of one chunk (up to kMaxBlockSamples samples).
// Every block starts with a codec id byte; the encoders try the candidate codecs on the block and
// keep the smallest. Values round-trip bit-exactly, including NaN payloads, -0.0 and infinities.
//
// Pure functions, no shared state: safe from any thread. Decoders validate everything against the
// block's bytes and the expected sample count and never read outside the span they are given.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::historian::codec {

inline constexpr std::size_t kMaxBlockSamples = 65535;  // the chunk header's count is a u16

enum class TsCodec : std::uint8_t {
  kGrid = 1,      // t0, step, exceptions: regular sampling costs a few bytes per block
  kDeltaFor = 2,  // t0, then deltas frame-of-reference + GCD + bit-packed
};

enum class ValueCodec : std::uint8_t {
  kConstant = 1,         // one value repeated
  kRle = 2,              // (value, run) pairs: states, set points
  kDecimal = 3,          // ALP-style: v == n / 10^e, integers (optionally delta) FOR-packed
  kFloat32Decimal = 4,   // the same in the float32 domain, for values that were float32 at the source
  kXor = 5,              // Gorilla XOR against the previous value: true doubles
  kRaw = 6,              // 8 bytes per value: the guaranteed fallback
};

enum class QualityCodec : std::uint8_t { kRle = 1 };

// Each appends one self-describing block to `out`. Precondition: size <= kMaxBlockSamples.
void encode_timestamps(std::span<const std::int64_t> ts, std::vector<std::uint8_t>& out);
void encode_values(std::span<const double> values, std::vector<std::uint8_t>& out);
void encode_quality(std::span<const std::uint32_t> quality, std::vector<std::uint8_t>& out);

// Each decodes exactly `out.size()` entries from a block that must be consumed exactly; any other
// shape is kCorruption with a message naming the field and byte offset.
Status decode_timestamps(std::span<const std::uint8_t> block, std::span<std::int64_t> out);
Status decode_values(std::span<const std::uint8_t> block, std::span<double> out);
Status decode_quality(std::span<const std::uint8_t> block, std::span<std::uint32_t> out);

// For tests and the format doc: encode with one specific value codec (returns false when that
// codec cannot represent the block, e.g. kConstant on varying values).
bool encode_values_with(ValueCodec codec, std::span<const double> values, std::vector<std::uint8_t>& out);

}  // namespace resonance::historian::codec
