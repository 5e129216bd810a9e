#pragma once
// Reading tabular files exactly as they are published: comma-separated (CSV, RFC 4180 quoting)
// or whitespace-separated text. A UTF-8 byte-order mark, CRLF, CR-only and LF line endings,
// trailing spaces and blank lines are all accepted. Columns are typed (number or text); every
// error names the source, the line, the field number and the column. Format: docs/formats/dataset.md.

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::models {

enum class TextFormat { kCsv, kWhitespace };
enum class ColumnType { kNumber, kText };

struct Column {
  std::string name;
  ColumnType type = ColumnType::kNumber;
  std::vector<double> numbers;     // when type == kNumber, one per row
  std::vector<std::string> texts;  // when type == kText, one per row
};

struct Table {
  std::string source;  // file path or a caller-given name, used in error messages
  std::size_t rows = 0;
  std::vector<Column> columns;

  const Column* find(std::string_view name) const;
  // The named column, or an error listing the columns there are.
  Result<const Column*> column(std::string_view name) const;
  Result<const Column*> number_column(std::string_view name) const;
};

struct ReadOptions {
  TextFormat format = TextFormat::kCsv;
  bool header = true;               // first non-blank line names the columns
  std::vector<std::string> names;   // column names when header == false (required then)
  // Columns forced to a type; the others are numbers when every cell parses as one, else text.
  std::map<std::string, ColumnType, std::less<>> types;
};

// Parses `bytes` (the whole file). `source` names it in errors ("train_FD001.txt:12: ...").
Result<Table> parse_table(std::string_view bytes, std::string_view source, const ReadOptions& options);
Result<Table> read_table(const std::filesystem::path& path, const ReadOptions& options);

// Reads a whole file; the error names the path and errno text.
Result<std::string> read_file_bytes(const std::filesystem::path& path);

}  // namespace resonance::models
