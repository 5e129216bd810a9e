#include "connectors/opcua/binary.h"

#include <algorithm>
#include <string>

namespace resonance::opcua {

Status Reader::fail(std::string_view what, std::size_t at, std::string_view detail) const {
  std::string m;
  m.reserve(what.size() + detail.size() + 32);
  m.append(what).append(" at offset ").append(std::to_string(at)).append(": ").append(detail);
  return Status(resonance::StatusCode::kInvalidArgument, std::move(m));
}

Status Reader::need(std::size_t n, std::string_view what) const {
  if (remaining() >= n) return Status::ok();
  return fail(what, offset_,
              "needs " + std::to_string(n) + " bytes, only " + std::to_string(remaining()) + " left");
}

Result<std::uint8_t> Reader::u8(std::string_view what) {
  if (auto s = need(1, what); !s) return error(std::move(s));
  return bytes_[offset_++];
}

Result<std::uint16_t> Reader::u16(std::string_view what) {
  if (auto s = need(2, what); !s) return error(std::move(s));
  const std::uint16_t v = static_cast<std::uint16_t>(bytes_[offset_] | (bytes_[offset_ + 1] << 8));
  offset_ += 2;
  return v;
}

Result<std::uint32_t> Reader::u32(std::string_view what) {
  if (auto s = need(4, what); !s) return error(std::move(s));
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | bytes_[offset_ + i];
  offset_ += 4;
  return v;
}

Result<std::uint64_t> Reader::u64(std::string_view what) {
  if (auto s = need(8, what); !s) return error(std::move(s));
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | bytes_[offset_ + i];
  offset_ += 8;
  return v;
}

Result<std::span<const std::uint8_t>> Reader::bytes(std::size_t n, std::string_view what) {
  if (auto s = need(n, what); !s) return error(std::move(s));
  auto out = bytes_.subspan(offset_, n);
  offset_ += n;
  return out;
}

Status Reader::skip(std::size_t n, std::string_view what) {
  if (auto s = need(n, what); !s) return s;
  offset_ += n;
  return Status::ok();
}

Result<std::size_t> Reader::array_length(std::string_view what, std::size_t min_element_size) {
  const std::size_t at = offset_;
  auto n = i32(what);
  if (!n) return error(n.error());
  if (*n == -1 || *n == 0) return std::size_t{0};
  if (*n < 0) return error(fail(what, at, "negative length " + std::to_string(*n)));
  const auto count = static_cast<std::size_t>(*n);
  if (count > limits_.max_array_length)
    return error(fail(what, at,
                      "length " + std::to_string(count) + " exceeds the limit " +
                          std::to_string(limits_.max_array_length)));
  if (min_element_size > 0 && count > remaining() / min_element_size)
    return error(fail(what, at,
                      "length " + std::to_string(count) + " cannot fit in the " +
                          std::to_string(remaining()) + " bytes left"));
  return count;
}

Status Reader::charge(std::string_view what, std::size_t count, std::size_t element_size) {
  const std::size_t budget_left = limits_.max_decoded_bytes - std::min(decoded_bytes_, limits_.max_decoded_bytes);
  if (element_size != 0 && count > budget_left / element_size)
    return fail(what, offset_,
                std::to_string(count) + " elements of " + std::to_string(element_size) +
                    " bytes exceed the decoded-memory limit of " + std::to_string(limits_.max_decoded_bytes) +
                    " bytes per message");
  decoded_bytes_ += count * element_size;
  return Status::ok();
}

Status Reader::enter(std::string_view what) {
  if (depth_ >= limits_.max_nesting)
    return fail(what, offset_, "nesting deeper than " + std::to_string(limits_.max_nesting));
  ++depth_;
  return Status::ok();
}

Status with_context(Status inner, std::string_view context) {
  if (inner.is_ok()) return inner;
  std::string m(context);
  if (!m.empty() && inner.message().size() > 0 && inner.message().front() != '[') m.push_back('.');
  m.append(inner.message());
  return Status(inner.code(), std::move(m));
}

}  // namespace resonance::opcua
