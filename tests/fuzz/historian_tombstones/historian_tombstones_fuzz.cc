// Fuzzes the TOMBSTONES parser (docs/formats/tombstones.md). Beyond "no crash, no sanitizer
// report, no read outside the input" it checks the format is canonical: whatever the parser
// accepts encodes back to exactly the input bytes, and every accepted list names each series once.
// Seeds in corpus/ are files written by encode_tombstones (and the store) plus damaged ones.

#include <cstdint>
#include <cstdlib>
#include <set>
#include <span>
#include <vector>

#include "historian/tombstones.h"

namespace h = resonance::historian;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  auto list = h::parse_tombstones(bytes, "TOMBSTONES");
  if (!list) {
    // Every refusal is a corruption with a message a user can act on.
    if (list.error().code() != resonance::StatusCode::kCorruption || list.error().message().empty())
      std::abort();
    return 0;
  }
  const auto again = h::encode_tombstones(*list);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  std::set<resonance::SeriesId> seen;
  for (const auto& t : *list)
    if (!seen.insert(t.series).second) std::abort();
  return 0;
}
