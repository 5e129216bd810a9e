// Fuzzes the WAL decoder the way recovery uses it: the input is a whole segment file. Beyond "no
// crash, no sanitizer report" it checks two properties:
//   - the scan never claims more valid bytes than it was given, and stops for a reason;
//   - the format is canonical: every record the decoder accepts re-encodes to exactly its bytes,
//     so nothing the decoder accepts is lost or altered by a replay.
// Seeds in corpus/ are real records written by the historian (see docs/formats/wal.md).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "historian/wal_format.h"

using resonance::historian::encode_record;
using resonance::historian::scan_segment;
using resonance::historian::ScanStop;
using resonance::historian::WalRecord;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  std::size_t offset = 0;
  std::vector<std::uint8_t> reencoded;
  const auto scan = scan_segment(input, std::nullopt, [&](WalRecord&& rec) {
    reencoded.clear();
    encode_record(rec.sequence, rec.batch, reencoded);
    if (offset + reencoded.size() > size || std::memcmp(reencoded.data(), data + offset, reencoded.size()) != 0)
      std::abort();  // accepted bytes that do not round-trip
    offset += reencoded.size();
  });
  if (scan.valid_bytes != offset || scan.valid_bytes > size) std::abort();
  if ((scan.stop == ScanStop::kCleanEnd) != (scan.valid_bytes == size)) std::abort();
  if (scan.stop != ScanStop::kCleanEnd && scan.reason.empty()) std::abort();
  return 0;
}
