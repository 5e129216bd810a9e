// Fuzzes the dataset decoder (docs/formats/dataset.md). A decoded dataset must re-encode to the
// very same bytes: the encoding is canonical, so anything else is a decoder bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "resonance/models/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace resonance::models;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto ds = decode_dataset(bytes, "fuzz");
  if (!ds) {
    if (ds.error().message().empty()) std::abort();
    return 0;
  }
  if (encode_dataset(*ds) != bytes) std::abort();
  return 0;
}
