#pragma once
// The CSV accepted by `resonance backfill` (docs/formats/backfill-csv.md): a header line, then one
// sample per line. Two shapes:
//   series,ts,value[,quality]   several series, named by path (site/area/line/equipment/signal)
//   ts,value[,quality]          one series named on the command line: what GET /api/v1/export writes
// ts is integer nanoseconds since the epoch or RFC 3339 (2024-05-01T08:00:00.125Z, an offset
// +02:00 allowed); an empty value is NaN; quality is an OPC UA status code, decimal or 0x-hex,
// Good (0) when the column or the field is empty. Pure: no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::historian {

struct BackfillCsv {
  std::vector<std::string> paths;  // distinct series paths, in order of first appearance
  struct Row {
    std::uint32_t path = 0;  // index into paths
    std::uint32_t line = 0;  // 1-based, for messages about the row later (an unknown series)
    TimestampNs ts_ns = 0;
    double value = 0;
    std::uint32_t quality = 0;
  };
  std::vector<Row> rows;
};

// `file_name` only labels errors: "<file>:<line>:<column>: <what was expected>, found '<text>'"
// (columns 1-based, in bytes). `series_path` names the one series of a file without a series
// column; it must be empty for a file with one, and is then checked like the paths in the file.
Result<BackfillCsv> parse_backfill_csv(std::string_view text, std::string_view file_name,
                                       std::string_view series_path = {});

// RFC 3339 date-time to ns since the epoch ("Z" or "+hh:mm"/"-hh:mm"; up to 9 fraction digits).
std::optional<TimestampNs> parse_rfc3339_ns(std::string_view text);

}  // namespace resonance::historian
