#pragma once
// A fault-injecting Env for the historian tests, after the idea of LevelDB's FaultInjectionTestEnv
// and RocksDB's FaultInjectionTestFS (our own code). It passes every call to a real Env and keeps
// what a power loss would need to undo:
//   * per file, the length covered by the last successful sync; and whether its directory entry
//     (creation or rename) has been made durable by a sync_dir of its directory;
//   * renames not yet covered by a sync_dir, with the target's previous bytes.
// simulate_power_loss() then rewrites the real files into the state a power loss could leave:
// unsynced tails cut (or, in kKeepRandomPrefix mode, cut at a random point past the synced
// length), files whose creation was never synced deleted, unsynced renames undone.
// Not modelled: unsynced unlink (a removed file stays removed) and unsynced directory creation.
//
// Faults, each at a chosen point: arm_crash_after(n) makes the n-th mutating call from now and
// every later one fail (the machine "stops"); inject() fails chosen operations with ENOSPC or EIO;
// set_free_bytes() makes appends fail with ENOSPC once a budget is used up, after writing what
// fits, as write(2) does; flip_bit() corrupts what reads return for one file.
//
// Thread-safe: the historian's flusher threads call it concurrently with the test thread.

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "historian/env.h"

namespace resonance::historian::testing {

enum class FaultOp : std::uint8_t {
  kOpen,
  kAppend,
  kSync,
  kSyncDir,
  kRename,
  kRemove,
  kTruncate,
  kRead
};

class FaultInjectionEnv final : public Env {
 public:
  // `real_sync`: whether syncs reach the disk. Tests that only simulate power loss do not need the
  // real fdatasync (this Env remembers what was synced), and skipping it keeps crash loops fast.
  explicit FaultInjectionEnv(Env& base = posix_env(), bool real_sync = false);

  // --- faults -------------------------------------------------------------------------------
  // Fails `op` on paths containing `path_part` with `err` (ENOSPC, EIO, ...): the first `skip`
  // matching calls pass, the next `times` fail.
  void inject(FaultOp op, int err, std::string path_part = "", int skip = 0, int times = 1 << 30);
  // Appends beyond this many further bytes fail with ENOSPC (the part that fits is written first);
  // new files cannot be created once it is 0. nullopt = unlimited (the default).
  void set_free_bytes(std::optional<std::uint64_t> bytes);
  // Reads (read_file, map_file) of paths whose file name is `name` return `bit` of byte `offset`
  // flipped, while the file on disk stays intact: bit rot seen through the page cache.
  void flip_bit(const std::string& name, std::uint64_t offset, int bit);
  // The n-th (1-based) mutating call from now fails with EIO, and so does every later one, until
  // simulate_power_loss(). 0 crashes at once.
  void arm_crash_after(std::uint64_t n);
  bool crashed() const;
  void clear_faults();  // everything above, except a crash already happened

  // --- power loss ---------------------------------------------------------------------------
  enum class LossMode : std::uint8_t {
    kDropUnsynced,      // every byte not covered by a sync is gone
    kKeepRandomPrefix,  // a random part of the unsynced tail survived (a torn write)
  };
  // Rewrites the files on disk as a power loss could leave them and forgets the crash, so the
  // store can be reopened through this Env. Call it only after the historian is destroyed.
  // Returns a description of what it undid (for failure messages).
  std::string simulate_power_loss(LossMode mode = LossMode::kDropUnsynced, std::uint32_t seed = 1);

  // --- observation --------------------------------------------------------------------------
  std::uint64_t calls(FaultOp op) const;  // attempted, including failed ones
  std::uint64_t mutating_calls() const;

  // --- Env ----------------------------------------------------------------------------------
  Result<std::unique_ptr<WritableFile>> open_appendable(const std::filesystem::path& path) override;
  Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path) override;
  Result<std::uint64_t> file_size(const std::filesystem::path& path) override;
  Status truncate(const std::filesystem::path& path, std::uint64_t size) override;
  Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) override;
  Status remove(const std::filesystem::path& path) override;
  Status create_dirs(const std::filesystem::path& dir) override;
  Status sync_dir(const std::filesystem::path& dir) override;
  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Result<std::shared_ptr<const MappedFile>> map_file(const std::filesystem::path& path) override;

 private:
  class File;
  friend class File;
  struct FileState {
    std::uint64_t synced = 0;    // bytes that survive power loss
    bool entry_durable = false;  // the directory entry survives power loss
  };
  struct PendingRename {
    std::filesystem::path from, to;
    bool from_entry_durable = false;
    std::optional<std::vector<std::uint8_t>> to_before;  // nullopt: `to` did not exist
    std::optional<FileState> to_state_before;
  };
  struct Rule {
    FaultOp op;
    int err;
    std::string path_part;
    int skip;
    int times;
  };

  // Counts the call and decides whether it fails; mu_ held. Returns the failure or ok.
  Status check(FaultOp op, const std::filesystem::path& path, const char* what);
  FileState& track(
      const std::filesystem::path& path);  // mu_ held; adopts an existing file as durable
  Status append(const std::filesystem::path& path, WritableFile& inner,
                std::span<const std::uint8_t> data);
  Status sync(const std::filesystem::path& path, WritableFile& inner);

  Env& base_;
  const bool real_sync_;
  mutable std::mutex mu_;
  std::map<std::filesystem::path, FileState> files_;  // guarded by mu_
  std::vector<PendingRename> renames_;                // guarded by mu_
  std::vector<Rule> rules_;                           // guarded by mu_
  std::optional<std::uint64_t> free_bytes_;           // guarded by mu_
  std::optional<std::uint64_t> crash_countdown_;      // guarded by mu_
  bool crashed_ = false;                              // guarded by mu_
  struct Flip {
    std::string name;
    std::uint64_t offset;
    int bit;
  };
  std::vector<Flip> flips_;                 // guarded by mu_
  std::map<FaultOp, std::uint64_t> calls_;  // guarded by mu_
  std::uint64_t mutating_calls_ = 0;        // guarded by mu_
};

}  // namespace resonance::historian::testing
