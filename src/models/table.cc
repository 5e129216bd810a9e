#include "resonance/models/table.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace resonance::models {

namespace {

struct RawRow {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Consumes one line ending (CRLF, CR or LF) at `i` if there is one.
bool eat_line_end(std::string_view text, std::size_t& i) {
  if (i >= text.size()) return false;
  if (text[i] == '\r') {
    ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    return true;
  }
  if (text[i] == '\n') {
    ++i;
    return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

Result<std::vector<RawRow>> split_csv(std::string_view text, std::string_view source) {
  std::vector<RawRow> rows;
  std::size_t i = 0;
  std::size_t line = 1;
  while (i < text.size()) {
    RawRow row;
    row.line = line;
    bool any_content = false;
    for (;;) {  // one field per iteration
      std::size_t j = i;
      while (j < text.size() && is_blank(text[j])) ++j;
      std::string field;
      if (j < text.size() && text[j] == '"') {
        const std::size_t quote_line = line;
        std::size_t k = j + 1;
        bool closed = false;
        while (k < text.size()) {
          if (text[k] == '"') {
            if (k + 1 < text.size() && text[k + 1] == '"') {
              field.push_back('"');
              k += 2;
              continue;
            }
            closed = true;
            ++k;
            break;
          }
          if (text[k] == '\n' || (text[k] == '\r' && (k + 1 >= text.size() || text[k + 1] != '\n'))) ++line;
          field.push_back(text[k++]);
        }
        if (!closed) {
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}:{}: field {}: quoted field is never closed", source, quote_line,
                                   row.fields.size() + 1));
        }
        while (k < text.size() && is_blank(text[k])) ++k;
        if (k < text.size() && text[k] != ',' && text[k] != '\r' && text[k] != '\n') {
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}:{}: field {}: unexpected '{}' after the closing quote", source, line,
                                   row.fields.size() + 1, text[k]));
        }
        any_content = true;
        i = k;
      } else {
        std::size_t k = j;
        while (k < text.size() && text[k] != ',' && text[k] != '\r' && text[k] != '\n') ++k;
        field = std::string(trim(text.substr(j, k - j)));
        if (!field.empty()) any_content = true;
        i = k;
      }
      row.fields.push_back(std::move(field));
      if (i < text.size() && text[i] == ',') {
        any_content = true;
        ++i;
        continue;
      }
      break;
    }
    if (eat_line_end(text, i)) ++line;
    if (any_content) rows.push_back(std::move(row));  // blank lines carry no record
  }
  return rows;
}

std::vector<RawRow> split_whitespace(std::string_view text) {
  std::vector<RawRow> rows;
  std::size_t i = 0;
  std::size_t line = 1;
  while (i < text.size()) {
    RawRow row;
    row.line = line;
    while (i < text.size() && text[i] != '\r' && text[i] != '\n') {
      while (i < text.size() && is_blank(text[i])) ++i;
      std::size_t k = i;
      while (k < text.size() && !is_blank(text[k]) && text[k] != '\r' && text[k] != '\n') ++k;
      if (k > i) row.fields.emplace_back(text.substr(i, k - i));
      i = k;
    }
    if (eat_line_end(text, i)) ++line;
    if (!row.fields.empty()) rows.push_back(std::move(row));
  }
  return rows;
}

bool parse_number(std::string_view s, double& out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

}  // namespace

const Column* Table::find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<const Column*> Table::column(std::string_view name) const {
  if (const auto* c = find(name)) return c;
  std::string names;
  for (const auto& c : columns) names += fmt::format("{}'{}'", names.empty() ? "" : ", ", c.name);
  return error(StatusCode::kNotFound, fmt::format("{}: no column '{}' (columns: {})", source, name, names));
}

Result<const Column*> Table::number_column(std::string_view name) const {
  auto c = column(name);
  if (!c) return c;
  if ((*c)->type != ColumnType::kNumber) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: column '{}' holds text, a number column is needed", source, name));
  }
  return c;
}

Result<Table> parse_table(std::string_view bytes, std::string_view source, const ReadOptions& options) {
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  std::vector<RawRow> rows;
  if (options.format == TextFormat::kCsv) {
    auto split = split_csv(bytes, source);
    if (!split) return std::unexpected(split.error());
    rows = std::move(*split);
  } else {
    rows = split_whitespace(bytes);
  }

  Table table;
  table.source = std::string(source);
  std::vector<std::string> names;
  std::size_t first = 0;
  if (options.header) {
    if (rows.empty()) return error(StatusCode::kInvalidArgument, fmt::format("{}: empty file, no header line", source));
    names = rows[0].fields;
    first = 1;
  } else {
    if (options.names.empty()) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}: no header line and no column names given", source));
    }
    names = options.names;
  }
  std::set<std::string, std::less<>> seen;
  for (std::size_t f = 0; f < names.size(); ++f) {
    if (names[f].empty()) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}: column {} has an empty name", source, f + 1));
    }
    if (!seen.insert(names[f]).second) {
      return error(StatusCode::kInvalidArgument, fmt::format("{}: column name '{}' appears twice", source, names[f]));
    }
  }
  for (const auto& [forced, type] : options.types) {
    if (!seen.contains(forced)) {
      return error(StatusCode::kNotFound, fmt::format("{}: no column '{}' to type", source, forced));
    }
  }
  if (rows.size() <= first) return error(StatusCode::kInvalidArgument, fmt::format("{}: no data rows", source));

  const std::size_t ncols = names.size();
  for (std::size_t r = first; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.fields.size() < ncols) {
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}:{}: {} fields, expected {} (missing column {} '{}')", source, row.line,
                               row.fields.size(), ncols, row.fields.size() + 1, names[row.fields.size()]));
    }
    if (row.fields.size() > ncols) {
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}:{}: {} fields, expected {} (field {} has no column)", source, row.line,
                               row.fields.size(), ncols, ncols + 1));
    }
  }

  table.rows = rows.size() - first;
  table.columns.resize(ncols);
  for (std::size_t c = 0; c < ncols; ++c) {
    Column& col = table.columns[c];
    col.name = names[c];
    const auto forced = options.types.find(col.name);
    bool numeric = true;
    if (forced != options.types.end()) {
      numeric = forced->second == ColumnType::kNumber;
    }
    col.numbers.reserve(numeric ? table.rows : 0);
    for (std::size_t r = first; r < rows.size(); ++r) {
      const std::string& cell = rows[r].fields[c];
      if (cell.empty()) {
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}:{}: field {} (column '{}') is empty", source, rows[r].line, c + 1, col.name));
      }
      if (!numeric) continue;
      double v = 0;
      if (!parse_number(cell, v)) {
        if (forced != options.types.end()) {
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}:{}: field {} (column '{}'): expected a number, got '{}'", source,
                                   rows[r].line, c + 1, col.name, cell.substr(0, 40)));
        }
        numeric = false;  // inferred text
        col.numbers.clear();
        continue;
      }
      col.numbers.push_back(v);
    }
    if (!numeric) {
      col.type = ColumnType::kText;
      col.numbers.clear();
      col.numbers.shrink_to_fit();
      col.texts.reserve(table.rows);
      for (std::size_t r = first; r < rows.size(); ++r) col.texts.push_back(rows[r].fields[c]);
    }
  }
  return table;
}

Result<std::string> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return error(StatusCode::kNotFound, fmt::format("{}: cannot open ({})", path.string(), std::strerror(errno)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return error(StatusCode::kIoError, fmt::format("{}: read failed", path.string()));
  return std::move(out).str();
}

Result<Table> read_table(const std::filesystem::path& path, const ReadOptions& options) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return std::unexpected(bytes.error());
  return parse_table(*bytes, path.string(), options);
}

}  // namespace resonance::models
