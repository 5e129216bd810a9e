#pragma once
// Writing JSON numbers and strings straight into a caller's buffer: no allocation, no format
// string parsed per number, no JSON tree. Shared by the API's data routes (a /query answer writes
// up to 100,000 points; fmt's format strings were most of its time, bench/RESULTS.md Historian)
// and the inference log (100,000 records a second; docs/formats/inference-log.md).
//
// Doubles are written with the fewest digits that read back as the same double (std::to_chars),
// in plain notation from 1e-5 to below 1e16 (4.01, 100000) and in exponent notation outside it
// (1e+16, 2.5e-07), as fmt and JavaScript do. NaN and ±infinity are `null` (JSON has neither);
// -0.0 is `-0.0` because most parsers (Python's json, nlohmann) read `-0` as the integer 0.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace resonance::json_writer {

// Upper bounds of one number's text, for sizing a buffer before writing.
inline constexpr std::size_t kMaxDoubleChars = 32;  // at most 24: -0.000012345678901234567
inline constexpr std::size_t kMaxInt64Chars = 20;   // -9223372036854775808
inline constexpr std::size_t kMaxUint32Chars = 10;  // 4294967295

// Each writes at `p`, which must have room for the bound above, and returns the end.
inline char* write_int(char* p, std::int64_t v) {
  return std::to_chars(p, p + kMaxInt64Chars, v).ptr;
}

inline char* write_uint(char* p, std::uint32_t v) {
  return std::to_chars(p, p + kMaxUint32Chars, v).ptr;
}

inline char* write_literal(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Writes a column of ns timestamps, mostly ascending and close together (a series' points): the
// digits of the whole seconds change once a second and are copied from the previous point, only
// the nine digits of the nanoseconds are converted. Same text as write_int.
class TimestampWriter {
 public:
  char* write(char* p, std::int64_t ts_ns) {
    constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
    if (ts_ns < kNanosPerSecond) return write_int(p, ts_ns);
    const std::int64_t seconds = ts_ns / kNanosPerSecond;
    if (seconds != seconds_) {
      seconds_ = seconds;
      seconds_len_ = static_cast<std::size_t>(
          std::to_chars(seconds_text_, seconds_text_ + sizeof seconds_text_, seconds).ptr -
          seconds_text_);
    }
    p = write_literal(p, {seconds_text_, seconds_len_});
    return write_nine_digits(p, static_cast<std::uint32_t>(ts_ns % kNanosPerSecond));
  }

 private:
  static char* write_nine_digits(char* p, std::uint32_t v) {
    static constexpr char kPairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    p[8] = static_cast<char>('0' + v % 10);
    v /= 10;
    for (int i = 6; i >= 0; i -= 2) {
      std::memcpy(p + i, kPairs + 2 * (v % 100), 2);
      v /= 100;
    }
    return p + 9;
  }

  std::int64_t seconds_ = -1;
  char seconds_text_[kMaxInt64Chars];
  std::size_t seconds_len_ = 0;
};

// The general case: any finite double other than zero.
inline char* write_double_general(char* p, double v) {
  const double magnitude = std::fabs(v);
  const auto notation = magnitude >= 1e-5 && magnitude < 1e16 ? std::chars_format::fixed
                                                              : std::chars_format::scientific;
  return std::to_chars(p, p + kMaxDoubleChars, v, notation).ptr;
}

inline constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
inline constexpr unsigned kMaxDecimalDigits = 8;

// True when v is the double nearest to n / 10^k, with n the integer nearest v * 10^k (|n| < 2^53,
// so n and 10^k are exact doubles and the division rounds once, as a parser does).
inline bool decimal_at(double v, unsigned k, std::int64_t& n) {
  const double x = v * kPow10[k];
  if (!(std::fabs(x) < 4.5e15)) return false;
  n = static_cast<std::int64_t>(x < 0 ? x - 0.5 : x + 0.5);
  return static_cast<double>(n) / kPow10[k] == v;
}

// Writes n with k digits after the decimal point ("1234", 2 -> "12.34"; 5, 3 -> "0.005").
inline char* write_scaled(char* p, std::int64_t n, unsigned k) {
  if (n < 0) *p++ = '-';
  const std::uint64_t u = n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  char digits[kMaxInt64Chars];
  const auto len =
      static_cast<unsigned>(std::to_chars(digits, digits + sizeof digits, u).ptr - digits);
  if (k == 0) return write_literal(p, {digits, len});
  if (len > k) {
    p = write_literal(p, {digits, len - k});
    *p++ = '.';
    return write_literal(p, {digits + len - k, k});
  }
  *p++ = '0';
  *p++ = '.';
  for (unsigned i = len; i < k; ++i) *p++ = '0';
  return write_literal(p, {digits, len});
}

// Writes one double of a column. `scale` carries the number of decimals of the previous value
// from call to call (start it at 0): sensor values of one series mostly share it, and a value
// found to be n / 10^k is printed from n, several times cheaper than the general algorithm. The
// text is the same as the general case gives: the fewest digits that read back as v, in plain
// notation (the smallest k that works; a trailing zero would mean k - 1 works too).
inline char* write_double(char* p, double v, unsigned& scale) {
  if (!std::isfinite(v)) return write_literal(p, "null");
  if (v == 0) return write_literal(p, std::signbit(v) ? "-0.0" : "0");
  const double magnitude = std::fabs(v);
  if (magnitude >= 1e-5 && magnitude < 1e15) {
    std::int64_t n = 0;
    unsigned k = scale;
    if (decimal_at(v, k, n)) {
      std::int64_t fewer = 0;
      while (k > 0 && decimal_at(v, k - 1, fewer)) {
        --k;
        n = fewer;
      }
      scale = k;
      return write_scaled(p, n, k);
    }
    for (k = scale + 1; k <= kMaxDecimalDigits; ++k)
      if (decimal_at(v, k, n)) {
        scale = k;
        return write_scaled(p, n, k);
      }
  }
  return write_double_general(p, v);
}

inline char* write_double(char* p, double v) {
  unsigned scale = 0;
  return write_double(p, v, scale);
}

// The same as a std::string append: the inference log's form, where an integral value keeps a
// ".0" (1.0, 100000.0, -0.0) so every output reads as a JSON number with a fraction, as
// nlohmann::json writes doubles. Non-finite: null.
inline void append_double_with_fraction(std::string& out, double v) {
  char text[kMaxDoubleChars + 2];
  char* end = write_double(text, v);
  if (std::isfinite(v) && std::string_view(text, static_cast<std::size_t>(end - text)).find_first_of(".e") ==
                              std::string_view::npos)
    end = write_literal(end, ".0");
  out.append(text, end);
}

// Appends `text` as a JSON string, quotes included: the short escapes where JSON has them
// (\" \\ \b \f \n \r \t), \u00XX (lower-case hex) for the other control characters, as
// nlohmann::json writes them; every other byte as it is (UTF-8 passes through). Runs of plain
// characters are appended whole: names and paths rarely need an escape.
inline void append_string(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t plain = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
    out.append(text.substr(plain, i - plain));
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const auto u = static_cast<unsigned char>(c);
        const char escape[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
        out.append(escape, sizeof escape);
      }
    }
  }
  out.append(text.substr(plain));
  out.push_back('"');
}

}  // namespace resonance::json_writer
