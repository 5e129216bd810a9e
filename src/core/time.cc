#include "resonance/core/time.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <ctime>

namespace resonance {

TimestampNs unix_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<TimestampNs>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m, d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool parse_fixed(std::string_view text, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > text.size()) return false;
  for (std::size_t i = pos; i < pos + len; ++i)
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  std::from_chars(text.data() + pos, text.data() + pos + len, out);
  return true;
}

}  // namespace

std::string format_rfc3339(TimestampNs ts_ns) {
  std::int64_t secs = ts_ns / kNanosPerSecond;
  std::int64_t nanos = ts_ns % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    secs -= 1;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  const Civil c = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", c.y, c.m, c.d, sod / 3600,
                     (sod % 3600) / 60, sod % 60, nanos);
}

Result<TimestampNs> parse_timestamp(std::string_view text) {
  if (text.empty()) return error(StatusCode::kInvalidArgument, "empty timestamp");
  // Integer nanoseconds (optionally negative).
  {
    std::int64_t ns = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
    if (ec == std::errc() && ptr == text.data() + text.size()) return ns;
    if (ec == std::errc::result_out_of_range)
      return error(StatusCode::kOutOfRange, fmt::format("timestamp '{}' does not fit in int64 ns", text));
  }
  const auto bad = [&](std::string_view what) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("timestamp '{}': {} (expected RFC 3339 such as "
                             "2026-11-21T10:02:20.5Z, or integer nanoseconds)",
                             text, what));
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_fixed(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !parse_fixed(text, 5, 2, month) || text[7] != '-' || !parse_fixed(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !parse_fixed(text, 11, 2, hour) ||
      text[13] != ':' || !parse_fixed(text, 14, 2, minute) || text[16] != ':' ||
      !parse_fixed(text, 17, 2, second))
    return bad("not of the form YYYY-MM-DDThh:mm:ss");
  if (month < 1 || month > 12) return bad("month out of range");
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day < 1 || day > kDaysIn[month - 1]) return bad("day out of range");
  if (hour > 23 || minute > 59 || second > 60) return bad("time of day out of range");
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return bad("'.' not followed by digits");
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  std::int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (!parse_fixed(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !parse_fixed(text, pos + 4, 2, om) || oh > 23 || om > 59)
      return bad("bad UTC offset (expected Z or +hh:mm)");
    offset_s = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad("missing time zone (Z or +hh:mm)");
  }
  if (pos != text.size()) return bad("unexpected characters after the time zone");
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * kNanosPerSecond + nanos;
}

}  // namespace resonance
