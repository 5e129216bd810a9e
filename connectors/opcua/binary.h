#pragma once
// Little-endian primitive reader and writer for the OPC UA binary encoding (OPC 10000-6, 5.2).
// The Reader never reads past its span: every read checks the remaining length first and fails
// with the field being read and the byte offset where it started. The Writer appends to a vector.
// Both are shared by the UA TCP (UACP/UASC) messages and, later, PubSub UADP.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::opcua {

// Bounds that keep a hostile peer from making us allocate or recurse without limit. A message is
// already bounded by the negotiated MaxMessageSize; these catch lengths that lie about it.
struct DecodeLimits {
  std::size_t max_nesting = 64;           // Variant in DataValue in Variant ..., DiagnosticInfo chains
  std::size_t max_array_length = 1 << 24; // elements in one array (also bounded by the bytes left)
  // Memory the decoded arrays of one message may take (elements × their in-memory size): a small
  // encoding can stand for large objects (a 1-byte Variant becomes a 100-byte value), so the
  // bytes left alone do not bound the allocation.
  std::size_t max_decoded_bytes = std::size_t{256} << 20;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes, DecodeLimits limits = {})
      : bytes_(bytes), limits_(limits) {}

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return bytes_.size() - offset_; }
  const DecodeLimits& limits() const { return limits_; }
  std::span<const std::uint8_t> rest() const { return bytes_.subspan(offset_); }

  Result<std::uint8_t> u8(std::string_view what);
  Result<std::uint16_t> u16(std::string_view what);
  Result<std::uint32_t> u32(std::string_view what);
  Result<std::uint64_t> u64(std::string_view what);
  Result<std::int32_t> i32(std::string_view what) {
    auto v = u32(what);
    if (!v) return error(v.error());
    return static_cast<std::int32_t>(*v);
  }
  // `n` raw bytes; the span points into the input.
  Result<std::span<const std::uint8_t>> bytes(std::size_t n, std::string_view what);
  Status skip(std::size_t n, std::string_view what);

  // An Int32 element count: -1 (null) and 0 give 0; other negatives, counts above the limit, and
  // counts that cannot fit in the bytes left (each element takes at least `min_element_size`) fail.
  Result<std::size_t> array_length(std::string_view what, std::size_t min_element_size = 1);
  // Charges `count` elements of `element_size` bytes to the message's decoded-memory budget
  // before they are allocated; fails naming the array when the budget would be exceeded.
  Status charge(std::string_view what, std::size_t count, std::size_t element_size);

  // Nesting guard for recursive types; pair with leave().
  Status enter(std::string_view what);
  void leave() { --depth_; }

  // "what at offset N: detail" with kInvalidArgument — the one shape every decode error has.
  Status fail(std::string_view what, std::size_t at, std::string_view detail) const;

 private:
  Status need(std::size_t n, std::string_view what) const;

  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
  std::size_t depth_ = 0;
  std::size_t decoded_bytes_ = 0;
  DecodeLimits limits_;
};

class Writer {
 public:
  Writer() = default;
  explicit Writer(std::vector<std::uint8_t>&& reuse) : out_(std::move(reuse)) { out_.clear(); }

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void u64(std::uint64_t v) { put(v); }
  void i32(std::int32_t v) { put(static_cast<std::uint32_t>(v)); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void bytes(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
  // Overwrites 4 bytes at `at` (message sizes known only at the end).
  void patch_u32(std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }

  std::size_t size() const { return out_.size(); }
  const std::vector<std::uint8_t>& data() const { return out_; }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  template <typename T>
  void put(T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> out_;
};

// Prefixes a decode error with the enclosing field ("ReadResponse.Results[2]." + inner message),
// so the message reads as a path from the outermost structure to the failing byte.
Status with_context(Status inner, std::string_view context);

}  // namespace resonance::opcua
