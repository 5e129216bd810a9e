#pragma once
// Recovery: replays the WAL segments in order and cuts the log at the first record that is torn
// or damaged, so the log on disk is again a clean prefix that the writer can continue.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "historian/env.h"
#include "historian/wal_format.h"

namespace resonance::historian {

struct WalRecovery {
  std::uint64_t records = 0;
  std::uint64_t samples = 0;
  std::uint64_t truncated_bytes = 0;  // cut from the damaged segment plus all later segments
  std::uint32_t dropped_segments = 0;
  std::optional<std::uint64_t> last_sequence;
  std::optional<std::uint32_t> last_segment;  // newest segment left on disk
  // (segment, sequence of its first record) for every surviving segment that holds a record, in
  // order: the checkpoint deletes a segment once the next one starts at or below the watermark.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> segment_first_sequence;
  // Set when recovery cut the log at a damaged record (not for a torn tail, which is normal after a
  // crash): "<segment path>: segment offset N: <reason>; K record(s) before it kept, M bytes dropped".
  std::string damage;
};

// Hands every valid record to `on_record` in log order. Rule: segments in ascending number;
// within one, records in order; stop at the first record whose length, checksum, structure or
// sequence (must be its predecessor's + 1) is bad; truncate that segment there and delete every
// later segment. What was dropped is logged. I/O errors fail the recovery (nothing is cut then).
Result<WalRecovery> recover_wal(Env& env, const std::filesystem::path& wal_dir,
                                const std::function<void(WalRecord&&)>& on_record);

}  // namespace resonance::historian
