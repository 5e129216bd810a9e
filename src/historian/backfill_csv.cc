#include "historian/backfill_csv.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

#include <fmt/core.h>

#include "resonance/core/catalog.h"

namespace resonance::historian {

namespace {

struct Field {
  std::string_view text;
  std::size_t column = 1;  // 1-based byte column of the field's first character
};

// Splits one line on commas; a field wrapped in double quotes loses them (paths and numbers never
// hold commas or quotes, so no escaping is needed).
std::vector<Field> split(std::string_view line) {
  std::vector<Field> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    std::string_view f = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::size_t column = start + 1;
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) {
      f.remove_prefix(1);
      ++column;
    }
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') {
      f = f.substr(1, f.size() - 2);
      ++column;
    }
    out.push_back(Field{f, column});
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

std::string shown(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string s(text.substr(0, kMax));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return text.size() > kMax ? s + "..." : s;
}

template <class T>
bool parse_int(std::string_view t, T& out, int base = 10) {
  if (t.empty()) return false;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), out, base);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant's days_from_civil.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<TimestampNs> parse_rfc3339_ns(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') ||
      t[13] != ':' || t[16] != ':')
    return std::nullopt;
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!parse_int(t.substr(0, 4), y) || !parse_int(t.substr(5, 2), mo) || !parse_int(t.substr(8, 2), d) ||
      !parse_int(t.substr(11, 2), h) || !parse_int(t.substr(14, 2), mi) || !parse_int(t.substr(17, 2), s))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t i = 19;
  std::int64_t frac_ns = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    int digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (++digits > 9) return std::nullopt;
      frac_ns = frac_ns * 10 + (t[i] - '0');
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 9; ++k) frac_ns *= 10;
  }
  std::int64_t offset_s = 0;
  const std::string_view zone = t.substr(i);
  if (zone == "Z" || zone == "z") {
    offset_s = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    unsigned oh = 0, om = 0;
    if (!parse_int(zone.substr(1, 2), oh) || !parse_int(zone.substr(4, 2), om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = (zone[0] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const std::int64_t seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
  // Years 0000-9999 keep seconds * 1e9 far inside int64 only from 1678 to 2262: check.
  constexpr std::int64_t kMaxS = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;
  if (seconds > kMaxS || seconds < -kMaxS) return std::nullopt;
  return seconds * 1'000'000'000 + frac_ns;
}

Result<BackfillCsv> parse_backfill_csv(std::string_view text, std::string_view file_name,
                                       std::string_view series_path) {
  BackfillCsv out;
  std::unordered_map<std::string, std::uint32_t> path_index;
  auto fail = [&](std::size_t line, std::size_t column, std::string_view what, std::string_view found) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}:{}:{}: {}, found '{}'", file_name, line, column, what, shown(found)));
  };
  enum Col { kSeries, kTs, kValue, kQuality };
  std::vector<Col> layout;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  bool header_seen = false;
  if (text.starts_with("\xEF\xBB\xBF")) pos = 3;  // a UTF-8 byte-order mark (spreadsheet exports)
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines
    const auto fields = split(line);
    if (!header_seen) {
      header_seen = true;
      for (const auto& f : fields) {
        if (f.text == "series") layout.push_back(kSeries);
        else if (f.text == "ts") layout.push_back(kTs);
        else if (f.text == "value") layout.push_back(kValue);
        else if (f.text == "quality") layout.push_back(kQuality);
        else
          return fail(line_no, f.column, "header: expected the columns series,ts,value[,quality] or ts,value[,quality]",
                      f.text);
      }
      const bool with_series = !layout.empty() && layout[0] == kSeries;
      const std::vector<Col> a{kSeries, kTs, kValue}, b{kSeries, kTs, kValue, kQuality}, c{kTs, kValue},
          d{kTs, kValue, kQuality};
      if (layout != a && layout != b && layout != c && layout != d)
        return fail(line_no, 1, "header: expected the columns series,ts,value[,quality] or ts,value[,quality]", line);
      if (with_series && !series_path.empty())
        return fail(line_no, 1, "the file names its series in a 'series' column, so no series may be given besides",
                    line);
      if (!with_series) {
        if (series_path.empty())
          return fail(line_no, 1, "the file has no 'series' column: name its series (--series site/area/line/equipment/signal)",
                      line);
        if (Status s = validate_series_path(series_path); !s)
          return error(StatusCode::kInvalidArgument, fmt::format("series '{}': {}", shown(series_path), s.message()));
        out.paths.emplace_back(series_path);
      }
      continue;
    }
    if (fields.size() != layout.size())
      return fail(line_no, fields.size() > layout.size() ? fields[layout.size()].column : line.size() + 1,
                  fmt::format("expected {} fields as in the header, got {}", layout.size(), fields.size()), line);
    BackfillCsv::Row row;
    row.line = static_cast<std::uint32_t>(line_no);
    for (std::size_t k = 0; k < layout.size(); ++k) {
      const Field& f = fields[k];
      switch (layout[k]) {
        case kSeries: {
          const std::string key(f.text);
          auto it = path_index.find(key);
          if (it == path_index.end()) {
            if (Status s = validate_series_path(f.text); !s)
              return fail(line_no, f.column, fmt::format("series: {}", s.message()), f.text);
            it = path_index.emplace(key, static_cast<std::uint32_t>(out.paths.size())).first;
            out.paths.push_back(key);
          }
          row.path = it->second;
          break;
        }
        case kTs: {
          if (parse_int(f.text, row.ts_ns)) break;
          if (const auto t = parse_rfc3339_ns(f.text)) {
            row.ts_ns = *t;
            break;
          }
          return fail(line_no, f.column,
                      "ts: expected integer nanoseconds since the epoch or an RFC 3339 time "
                      "(2024-05-01T08:00:00.125Z)",
                      f.text);
        }
        case kValue: {
          if (f.text.empty() || f.text == "nan" || f.text == "NaN" || f.text == "NAN") {
            row.value = std::numeric_limits<double>::quiet_NaN();
            break;
          }
          std::string_view t = f.text;
          if (t.starts_with('+')) t.remove_prefix(1);  // from_chars refuses a leading '+'
          const auto r = std::from_chars(t.data(), t.data() + t.size(), row.value);
          if (r.ec == std::errc() && r.ptr == t.data() + t.size() && !t.empty()) break;
          return fail(line_no, f.column, "value: expected a number (empty or nan for not-a-number)", f.text);
        }
        case kQuality: {
          if (f.text.empty()) {
            row.quality = Quality::kGood;
            break;
          }
          const bool hex = f.text.starts_with("0x") || f.text.starts_with("0X");
          if (parse_int(hex ? f.text.substr(2) : f.text, row.quality, hex ? 16 : 10)) break;
          return fail(line_no, f.column, "quality: expected an OPC UA status code, decimal or 0x-hex (0 = Good)",
                      f.text);
        }
      }
    }
    out.rows.push_back(row);
  }
  if (!header_seen)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}:1:1: expected a header line (series,ts,value[,quality] or ts,value[,quality]), "
                             "found an empty file",
                             file_name));
  return out;
}

}  // namespace resonance::historian
