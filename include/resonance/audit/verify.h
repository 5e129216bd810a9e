#pragma once
// Offline verification of a copied log directory (docs/audit.md): nothing needs to run.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "resonance/audit/note.h"
#include "resonance/core/status.h"

namespace resonance::audit {

struct VerifiedLog {
  Checkpoint checkpoint;
  std::vector<std::string> signed_by;
  std::uint64_t entries_checked = 0;
  std::uint64_t tiles_checked = 0;
};

// Checks the checkpoint's signatures (the log key and every witness key given), recomputes every
// leaf from the entry bundles, checks each stored hash tile and the root. The error names the first
// bad thing: file, entry index or tile position, and the expected and found values.
Result<VerifiedLog> verify_log_dir(const std::filesystem::path& dir, const VerifierKey& log_key,
                                   const std::vector<VerifierKey>& witnesses);

// Reads and checks a checkpoint from a file or from `<dir>/checkpoint`.
Result<Checkpoint> read_checkpoint(const std::filesystem::path& file_or_dir, const VerifierKey* log_key,
                                   std::string* note_text = nullptr);

// Builds the C2SP tlog-proof for entry `index` from the tiles in `dir`, after checking it.
Result<std::string> prove_entry(const std::filesystem::path& dir, std::uint64_t index, const VerifierKey* log_key);

// Checks that `newer` extends `older` (same origin, a valid consistency proof computed from the
// tiles in `tiles_dir`); a fork or rollback fails naming both sizes and roots.
struct ConsistencyResult {
  Checkpoint older, newer;
  std::vector<Hash> proof;
};
Result<ConsistencyResult> check_consistency(const std::filesystem::path& older, const std::filesystem::path& newer,
                                            const std::filesystem::path& tiles_dir, const VerifierKey* log_key);

}  // namespace resonance::audit
