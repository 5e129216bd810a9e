// Fuzzes the table reader (CSV and whitespace text) with and without a header and forced types.
// The first byte picks the options; the rest is the file. Any input must give a table or an
// error, and a table must be internally consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "resonance/models/table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::models;
  if (size == 0) return 0;
  ReadOptions options;
  const std::uint8_t mode = data[0];
  options.format = (mode & 1) != 0 ? TextFormat::kWhitespace : TextFormat::kCsv;
  options.header = (mode & 2) == 0;
  if (!options.header) options.names = {"a", "b", "c"};
  if ((mode & 4) != 0 && !options.header) options.types["b"] = ColumnType::kNumber;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto table = parse_table(bytes, "fuzz", options);
  if (!table) {
    if (table.error().message().empty()) std::abort();
    return 0;
  }
  for (const auto& column : table->columns) {
    const std::size_t n = column.type == ColumnType::kNumber ? column.numbers.size() : column.texts.size();
    if (n != table->rows) std::abort();
  }
  return 0;
}
