// Fuzzes the reader of the binary query answer (docs/formats/points-binary.md): no crash, no
// sanitizer report, no read outside the input; whatever it accepts, written again with the same
// fields, gives back the very same bytes (header_bytes 48) or a body it also reads identically.
// Seeds in corpus/ are answers written by write_points_binary.

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "resonance/api/points_binary.h"

namespace api = resonance::api;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = api::read_points_binary(std::span(data, size));
  if (!parsed) return 0;
  std::vector<resonance::Sample> points;
  for (std::size_t i = 0; i < parsed->ts.size(); ++i)
    points.push_back(resonance::Sample{parsed->series, parsed->ts[i], parsed->values[i],
                                       resonance::Quality{parsed->quality[i]}});
  std::string again;
  api::write_points_binary(again, parsed->series, parsed->from_ns, parsed->to_ns, parsed->next_from_ns,
                           parsed->truncated, points);
  const auto back = api::read_points_binary(std::span(reinterpret_cast<const std::uint8_t*>(again.data()), again.size()));
  if (!back || back->ts != parsed->ts || back->quality != parsed->quality || back->values.size() != parsed->values.size())
    std::abort();
  for (std::size_t i = 0; i < back->values.size(); ++i)
    if (std::bit_cast<std::uint64_t>(back->values[i]) != std::bit_cast<std::uint64_t>(parsed->values[i])) std::abort();
  // A 48-byte header reads back to the same bytes.
  if (data[6] == 48 && data[7] == 0 && (again.size() != size || std::memcmp(again.data(), data, size) != 0)) std::abort();
  return 0;
}
