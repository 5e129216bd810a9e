// Fuzzes every chunk decoder: the block codecs (timestamps, values, quality) and the chunk file
// parsers (strict, and the salvaging one used on open). Input byte 0 selects the target; for blocks, bytes 1-2 are the expected sample count
// (little-endian) and the rest is the block. Beyond "no crash, no sanitizer report, no read outside
// the input" it checks that a decoded value block re-encodes to something that decodes to the same
// bits (the encoder and decoder agree on whatever the decoder accepts). Seeds in corpus/ are real
// blocks and files written by the encoder (docs/formats/chunk.md).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "historian/chunk_format.h"
#include "historian/codec.h"

namespace hc = resonance::historian::codec;
namespace h = resonance::historian;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::size_t n = static_cast<std::size_t>(data[1]) | (static_cast<std::size_t>(data[2]) << 8);
  const std::span<const std::uint8_t> block(data + 3, size - 3);
  switch (data[0] % 4) {
    case 0: {
      std::vector<std::int64_t> ts(n);
      (void)hc::decode_timestamps(block, ts);
      break;
    }
    case 1: {
      std::vector<double> v(n);
      if (hc::decode_values(block, v).is_ok()) {
        std::vector<std::uint8_t> again;
        hc::encode_values(v, again);
        std::vector<double> back(n);
        if (!hc::decode_values(again, back).is_ok() || std::memcmp(back.data(), v.data(), n * sizeof(double)) != 0)
          std::abort();
      }
      break;
    }
    case 2: {
      std::vector<std::uint32_t> q(n);
      (void)hc::decode_quality(block, q);
      break;
    }
    case 3: {
      const std::span<const std::uint8_t> file(data + 1, size - 1);
      // The salvaging parser used on open: whatever it keeps must be locatable, and a file the
      // strict parser accepts must come through it whole.
      auto salvaged = h::salvage_chunk_file(file);
      if (salvaged)
        for (const auto& e : salvaged->info.index)
          if (!h::chunks_of(file, e)) std::abort();
      auto info = h::parse_chunk_file(file);
      if (!info) break;
      if (!salvaged || !salvaged->damage.empty() || salvaged->info.index.size() != info->index.size()) std::abort();
      for (const auto& e : info->index) {
        auto chunks = h::chunks_of(file, e);
        if (!chunks) std::abort();  // parse_chunk_file validated them
        h::ChunkColumns cols;
        for (const auto& c : *chunks) (void)h::decode_chunk(c, cols);
      }
      break;
    }
  }
  return 0;
}
