#include "api/http_target.h"

#include <fmt/format.h>

namespace resonance::api {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> ParsedTarget::param(std::string_view key) const {
  for (const auto& p : params)
    if (p.key == key) return std::string_view(p.value);
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;  // needs two more characters
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string quote_input(std::string_view text) {
  constexpr std::size_t kMaxShown = 96;
  if (text.size() <= kMaxShown) return fmt::format("'{}'", text);
  return fmt::format("'{}...' ({} bytes)", text.substr(0, kMaxShown), text.size());
}

Result<ParsedTarget> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/')
    return error(StatusCode::kInvalidArgument,
                 fmt::format("request target: expected a path starting with '/', found {}",
                             quote_input(target)));
  // A fragment is never meant to reach a server; drop it rather than mis-read it as a value.
  if (const auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);

  ParsedTarget parsed;
  const auto qmark = target.find('?');
  parsed.path = std::string(target.substr(0, qmark));
  if (qmark == std::string_view::npos) return parsed;

  std::string_view query = target.substr(qmark + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2" and a trailing '&' are harmless
    const auto eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto key = percent_decode(raw_key, true);
    if (!key)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("query string: expected %XX escapes with two hex digits in a "
                               "parameter name, found {}",
                               quote_input(raw_key)));
    auto value = percent_decode(raw_value, true);
    if (!value)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("query parameter '{}': expected %XX escapes with two hex digits, "
                               "found {}",
                               *key, quote_input(raw_value)));
    parsed.params.push_back({std::move(*key), std::move(*value)});
  }
  return parsed;
}

}  // namespace resonance::api
