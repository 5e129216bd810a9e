#pragma once
// Splitting and decoding an HTTP request-target ("/api/v1/query?series=a%2Fb&limit=10").
// Internal to resonance_api; pure functions, tested directly.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::api {

struct QueryParam {
  std::string key;    // percent-decoded
  std::string value;  // percent-decoded, '+' read as a space (HTML form encoding)
};

struct ParsedTarget {
  std::string path;  // as sent, not decoded: routes and ids never need escapes
  std::vector<QueryParam> params;  // in order of appearance; duplicates kept for the caller to judge

  // The value of `key`, or nullopt when absent.
  std::optional<std::string_view> param(std::string_view key) const;
};

// Errors (kInvalidArgument) name the part that is wrong: a target that is not origin-form, or a
// parameter with a broken %-escape.
Result<ParsedTarget> parse_target(std::string_view target);

// Decodes %XX escapes; `plus_is_space` for query strings. Fails on a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// `text` in single quotes for an error message, cut to a readable length so a hostile request
// cannot make the error body large.
std::string quote_input(std::string_view text);

}  // namespace resonance::api
