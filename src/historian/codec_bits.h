#pragma once
// Byte and bit helpers shared by the block codecs (docs/formats/chunk.md): little-endian fixed
// fields, LEB128 varints, zigzag, and LSB-first bit packing. The reader never reads past its span:
// every accessor checks the remaining length and reports a short input as an error naming the
// offset, so hostile blocks cannot make a decoder read out of bounds. Pure; no shared state.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "resonance/core/status.h"

namespace resonance::historian::codec {

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { fixed(v, 2); }
  void u32(std::uint32_t v) { fixed(v, 4); }
  void u64(std::uint64_t v) { fixed(v, 8); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void svarint(std::int64_t v) { varint(zigzag(v)); }
  std::vector<std::uint8_t>& out() { return out_; }

 private:
  void fixed(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t>& out_;
};

// Reads from a span; the first failure is sticky (later reads return 0) so decoders can check once
// per section. `what` names the block in error messages.
class ByteReader {
 public:
  ByteReader(std::span<const std::uint8_t> in, std::string_view what) : in_(in), what_(what) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(fixed(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(fixed(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4)); }
  std::uint64_t u64() { return fixed(8); }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return fail("varint runs past the end");
      const std::uint8_t b = in_[pos_++];
      if (shift == 63 && (b & 0x7e) != 0) return fail("varint overflows 64 bits");
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail("varint longer than 10 bytes");
  }
  std::int64_t svarint() { return unzigzag(varint()); }
  // A view of the next `n` bytes, or an empty span (and a failure) if fewer remain.
  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (n > in_.size() - pos_) {
      fail(fmt::format("needs {} bytes, {} remain", n, in_.size() - pos_));
      return {};
    }
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  bool ok() const { return status_.is_ok(); }
  const Status& status() const { return status_; }
  std::uint64_t fail(std::string_view why) {
    if (status_.is_ok())
      status_ = Status(StatusCode::kCorruption, fmt::format("{} block: {} at byte {}", what_, why, pos_));
    pos_ = in_.size();
    return 0;
  }

 private:
  std::uint64_t fixed(std::size_t n) {
    if (n > in_.size() - pos_) return fail(fmt::format("needs {} bytes, {} remain", n, in_.size() - pos_));
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  std::span<const std::uint8_t> in_;
  std::string_view what_;
  std::size_t pos_ = 0;
  Status status_;
};

// LSB-first bit stream.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void put(std::uint64_t v, unsigned bits) {  // bits <= 64
    for (unsigned done = 0; done < bits;) {
      if (used_ == 0) out_.push_back(0);
      const unsigned take = std::min(8u - used_, bits - done);
      const auto chunk = static_cast<std::uint8_t>((v >> done) & ((1u << take) - 1));
      out_.back() |= static_cast<std::uint8_t>(chunk << used_);
      used_ = (used_ + take) % 8;
      done += take;
    }
  }

 private:
  std::vector<std::uint8_t>& out_;
  unsigned used_ = 0;  // bits used in out_.back(); 0 = start a new byte
};

class BitReader {
 public:
  explicit BitReader(std::span<const std::uint8_t> in, std::size_t bit = 0) : in_(in), bit_(bit) {}
  // Returns false (and 0) when the stream ends first; callers turn that into a Status.
  bool get(unsigned bits, std::uint64_t& v) {
    v = 0;
    if (bits > in_.size() * 8 - bit_) return false;
    if (bits == 0) return true;
    if constexpr (std::endian::native == std::endian::little) {
      // Fast path, while 9 bytes are left: one unaligned load covers up to 64 bits at any offset
      // (plus one byte for the bits past the word). Decoding is most of a range read and of an
      // aggregation that cannot use chunk statistics.
      const std::size_t byte = bit_ / 8;
      if (byte + 9 <= in_.size()) {
        const unsigned off = static_cast<unsigned>(bit_ % 8);
        std::uint64_t word = 0;
        std::memcpy(&word, in_.data() + byte, 8);
        std::uint64_t r = word >> off;
        if (off + bits > 64) r |= static_cast<std::uint64_t>(in_[byte + 8]) << (64 - off);
        if (bits < 64) r &= (std::uint64_t{1} << bits) - 1;
        v = r;
        bit_ += bits;
        return true;
      }
    }
    for (unsigned done = 0; done < bits;) {
      const std::size_t byte = bit_ / 8;
      const unsigned off = static_cast<unsigned>(bit_ % 8);
      const unsigned take = std::min(8u - off, bits - done);
      v |= static_cast<std::uint64_t>((in_[byte] >> off) & ((1u << take) - 1)) << done;
      bit_ += take;
      done += take;
    }
    return true;
  }
  // Counts one-bits, at most `max` (<= 56): consumes them and, when a zero came before `max`
  // ones, that zero too. `q` = the ones counted. False when the stream ends first.
  bool unary(unsigned max, unsigned& q) {
    if constexpr (std::endian::native == std::endian::little) {
      const std::size_t byte = bit_ / 8;
      if (byte + 8 <= in_.size()) {
        std::uint64_t word = 0;
        std::memcpy(&word, in_.data() + byte, 8);
        const auto ones = static_cast<unsigned>(std::countr_one(word >> (bit_ % 8)));  // 57+ bits valid
        q = std::min(ones, max);
        bit_ += q == max ? max : q + 1;
        return true;
      }
    }
    for (q = 0; q < max; ++q) {
      std::uint64_t bit = 0;
      if (!get(1, bit)) return false;
      if (bit == 0) return true;
    }
    return true;
  }
  std::size_t bytes_consumed() const { return (bit_ + 7) / 8; }
  std::size_t bit_position() const { return bit_; }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t bit_ = 0;
};

// The 64 bits at byte `at` of `p`, little-endian (the caller checked that 8 bytes are there).
inline std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline std::uint64_t bits_of(double v) { return std::bit_cast<std::uint64_t>(v); }
inline double double_of(std::uint64_t v) { return std::bit_cast<double>(v); }

}  // namespace resonance::historian::codec
