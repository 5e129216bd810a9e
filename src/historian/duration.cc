#include "resonance/historian/duration.h"

#include <charconv>
#include <limits>
#include <utility>

namespace resonance {

std::optional<std::int64_t> parse_duration_ns(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (ec != std::errc{} || ptr != text.data() + digits) return std::nullopt;
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"", 1},           {"ns", 1},          {"us", 1'000},          {"ms", 1'000'000}, {"s", 1'000'000'000},
      {"m", 60'000'000'000}, {"h", 3'600'000'000'000}, {"d", 86'400'000'000'000}};
  const std::string_view unit = text.substr(digits);
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    if (n > std::numeric_limits<std::int64_t>::max() / scale) return std::nullopt;
    return n * scale;
  }
  return std::nullopt;
}

}  // namespace resonance
