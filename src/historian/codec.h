#pragma once
// Lossless block encodings for the chunk files (byte layouts in docs/formats/chunk.md). A block
// holds the timestamps, values or quality codes of one chunk (up to kMaxBlockSamples samples).
// Every block starts with a codec id byte. The value encoder chooses its codec ALP-style, from a
// sample of the block and size arithmetic rather than by building every candidate (ingest spends
// its CPU here); every decimal integer is checked against the decoder's formula and anything that
// does not reproduce bit for bit is an exception stored raw, so values round-trip bit-exactly,
// including NaN payloads, -0.0 and infinities.
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
  kDecimal = 3,          // ALP-style: v == n / 10^e, integers FOR-packed, delta or predicted, Rice-coded
  kFloat32Decimal = 4,   // the same in the float32 domain, for values that were float32 at the source
  kXor = 5,              // Gorilla XOR against the previous value: true doubles
  kRaw = 6,              // 8 bytes per value: the guaranteed fallback
};

enum class QualityCodec : std::uint8_t { kRle = 1 };

inline constexpr unsigned kMaxExponent = 18;

// What the value encoder learnt that a chunk header can reuse (format version 2 writes its
// statistics as integers at this scale where they reproduce exactly).
struct DecimalScale {
  bool valid = false;  // false: no scale fits (XOR and raw blocks); statistics stay raw doubles
  unsigned e = 0;      // value = decimal_value(n, e, f32)
  bool f32 = false;
  // Every non-NaN value is decimal_value(n_i, e, f32) and sum_mantissa = sum n_i (no overflow):
  // the exact sum is then sum_mantissa / 10^e, one rounding instead of one per addition.
  bool sum_exact = false;
  std::int64_t sum_mantissa = 0;
};

// The decoder's reconstruction of a decimal integer n at exponent e (e <= kMaxExponent).
double decimal_value(std::int64_t n, unsigned e, bool f32);
// The integer n with decimal_value(n, e, f32) bit-identical to v, if there is one.
bool decimal_integer(double v, unsigned e, bool f32, std::int64_t& n);
// An exact mantissa sum as a double: double(s) / 10^e (never rounded through float32).
double decimal_sum(std::int64_t s, unsigned e);

// Each appends one self-describing block to `out`. Precondition: size <= kMaxBlockSamples.
// Timestamps are stored as offsets from `base` (chunk format 2 passes t_min, so a regular block
// does not repeat its first timestamp; the decoder must be given the same base).
void encode_timestamps(std::span<const std::int64_t> ts, std::vector<std::uint8_t>& out, std::int64_t base = 0);
void encode_values(std::span<const double> values, std::vector<std::uint8_t>& out, DecimalScale* scale = nullptr);
void encode_quality(std::span<const std::uint32_t> quality, std::vector<std::uint8_t>& out);

// Each decodes exactly `out.size()` entries from a block that must be consumed exactly; any other
// shape is kCorruption with a message naming the field and byte offset.
Status decode_timestamps(std::span<const std::uint8_t> block, std::span<std::int64_t> out, std::int64_t base = 0);
Status decode_values(std::span<const std::uint8_t> block, std::span<double> out);
// True when `block` is a well-formed grid timestamp block without exceptions for `count` samples:
// then timestamp i is t0 + step * i (wrapping, as decode_timestamps computes it) and a reader may
// use that instead of decoding (aggregation finds bucket boundaries by division). False for any
// other block, well-formed or not: decode_timestamps then decodes or reports it.
bool grid_timestamps(std::span<const std::uint8_t> block, std::size_t count, std::int64_t base, std::int64_t& t0,
                     std::int64_t& step);
Status decode_quality(std::span<const std::uint8_t> block, std::span<std::uint32_t> out);

// For tests and the format doc: encode with one specific value codec (returns false when that
// codec cannot represent the block, e.g. kConstant on varying values). For the decimal codecs it
// keeps the smallest of their integer layouts.
bool encode_values_with(ValueCodec codec, std::span<const double> values, std::vector<std::uint8_t>& out);
// The previous encoder: builds every candidate codec and integer layout and keeps the smallest.
// For tests and the bench comparison only; encode_values must stay within a few percent of it.
void encode_values_exhaustive(std::span<const double> values, std::vector<std::uint8_t>& out);

}  // namespace resonance::historian::codec
