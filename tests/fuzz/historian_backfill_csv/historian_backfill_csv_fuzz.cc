// Fuzzes the backfill CSV parser (docs/formats/backfill-csv.md) in both shapes. Beyond "no crash,
// no sanitizer report" it checks what the format promises: a refusal is kInvalidArgument naming
// the file, line and column; an accepted file's rows point at known paths, on existing lines.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "historian/backfill_csv.h"

namespace h = resonance::historian;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::string_view series : {std::string_view(), std::string_view("plant/hall1/line1/cnc-01/spindle_speed")}) {
    auto csv = h::parse_backfill_csv(text, "fuzz.csv", series);
    if (!csv) {
      const auto& e = csv.error();
      if ((e.code() != resonance::StatusCode::kInvalidArgument) || e.message().empty()) std::abort();
      if (!e.message().starts_with("fuzz.csv:") && !e.message().starts_with("series '")) std::abort();
      continue;
    }
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n';
    for (const auto& r : csv->rows)
      if (r.path >= csv->paths.size() || r.line < 2 || r.line > lines) std::abort();
  }
  return 0;
}
