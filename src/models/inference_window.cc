// Window assembly for live inference: the ring buffer per input series, the features computed
// over a window, and the canonical bytes whose SHA-256 an inference record carries.

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "resonance/models/inference.h"

namespace resonance::models {

namespace {

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string canonical_window_encoding(std::span<const WindowInput> inputs) {
  std::string out;
  std::size_t total = 0;
  for (const auto& in : inputs) total += 4 + 16 * in.values.size();
  out.reserve(total);
  for (const auto& in : inputs) {
    put_le(out, static_cast<std::uint32_t>(in.values.size()), 4);
    for (std::size_t i = 0; i < in.values.size(); ++i) {
      std::uint64_t bits;
      std::memcpy(&bits, &in.values[i], 8);
      put_le(out, static_cast<std::uint64_t>(in.ts_ns[i]), 8);
      put_le(out, bits, 8);
    }
  }
  return out;
}

WindowRing::WindowRing(std::size_t capacity) : ts_(std::max<std::size_t>(capacity, 1)), values_(ts_.size()) {}

void WindowRing::push(TimestampNs ts_ns, double value) {
  ts_[head_] = ts_ns;
  values_[head_] = value;
  head_ = (head_ + 1) % ts_.size();
  size_ = std::min(size_ + 1, ts_.size());
}

TimestampNs WindowRing::newest_ts() const {
  if (size_ == 0) return 0;
  return ts_[(head_ + ts_.size() - 1) % ts_.size()];
}

void WindowRing::window(TimestampNs to_ns, std::int64_t window_ns, WindowInput& out) const {
  out.ts_ns.clear();
  out.values.clear();
  const std::size_t cap = ts_.size();
  const std::size_t oldest = (head_ + cap - size_) % cap;
  if (window_ns <= 0) {
    // The newest sample at or before `to`: walk back from the newest.
    for (std::size_t k = 0; k < size_; ++k) {
      const std::size_t i = (head_ + cap - 1 - k) % cap;
      if (ts_[i] <= to_ns) {
        out.ts_ns.push_back(ts_[i]);
        out.values.push_back(values_[i]);
        return;
      }
    }
    return;
  }
  const TimestampNs from_exclusive = to_ns - window_ns;
  for (std::size_t k = 0; k < size_; ++k) {
    const std::size_t i = (oldest + k) % cap;
    if (ts_[i] > from_exclusive && ts_[i] <= to_ns) {
      out.ts_ns.push_back(ts_[i]);
      out.values.push_back(values_[i]);
    }
  }
}

}  // namespace resonance::models
