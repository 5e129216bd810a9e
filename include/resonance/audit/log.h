#pragma once
// The node's transparency log (docs/audit.md). Appends are durable on return: the entry is in the
// journal (and fsynced unless options say otherwise) before the index is handed out, so an
// acknowledged append survives kill -9. checkpoint() publishes the C2SP tiles and a signed
// checkpoint under the directory, which can then be copied off the node and verified offline.
//
// Thread-safe: one mutex serialises appends, checkpoints and proofs.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "resonance/audit/entry.h"
#include "resonance/audit/merkle.h"
#include "resonance/audit/note.h"
#include "resonance/core/dir_lock.h"
#include "resonance/core/status.h"

namespace resonance::audit {

struct LogOptions {
  bool fsync = true;  // false only for tests and benchmarks: then kill -9 is safe, power loss not
};

struct LogStats {
  std::uint64_t entries = 0;
  std::uint64_t checkpoint_size = 0;
  std::uint64_t recovered_torn_bytes = 0;  // cut from the journal tail on open
};

class Log {
 public:
  // Opens or creates the log in `dir`; the signer's name is the log's origin. Replays the journal,
  // cutting a torn tail, and refuses (kCorruption) when the stored checkpoint does not match the
  // replayed entries — the log must never sign a checkpoint inconsistent with an earlier one.
  static Result<std::unique_ptr<Log>> open(const std::filesystem::path& dir, Signer signer,
                                           LogOptions options = {});
  ~Log();

  Result<std::uint64_t> append(const Entry& entry);
  // One journal write (and one fsync) for the whole batch; returns the index of the first entry.
  Result<std::uint64_t> append_batch(std::span<const Entry> entries);
  // Same, for entries already encoded (see encode_entry): the fast path for batch producers.
  Result<std::uint64_t> append_encoded(std::span<const std::string> encoded);

  // Writes new tiles and entry bundles, then a signed checkpoint for the current size, and
  // returns the signed note. Idempotent when nothing was appended.
  Result<std::string> checkpoint();

  std::uint64_t size() const;
  Hash root() const;
  Result<std::vector<Hash>> prove_inclusion(std::uint64_t index, std::uint64_t size) const;
  Result<std::vector<Hash>> prove_consistency(std::uint64_t old_size, std::uint64_t new_size) const;
  const VerifierKey& verifier_key() const { return signer_.verifier(); }
  LogStats stats() const;

 private:
  Log(std::filesystem::path dir, Signer signer, LogOptions options, DirLock lock);
  Status recover();
  Status write_tiles(std::uint64_t size);

  const std::filesystem::path dir_;
  const Signer signer_;
  const LogOptions options_;
  DirLock lock_;
  mutable std::mutex mu_;
  int journal_fd_ = -1;               // guarded by mu_
  bool broken_ = false;               // a journal write failed: refuse appends until reopened
  MemoryTree tree_;                   // guarded by mu_
  std::uint64_t bundle_base_ = 0;     // index of pending_[0]
  std::vector<std::string> pending_;  // entries of bundles not yet written full
  std::vector<std::uint64_t> full_tiles_written_;  // per tile level
  LogStats stats_;
};

}  // namespace resonance::audit
