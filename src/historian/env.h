#pragma once
// The file-system operations the historian needs, behind an interface so tests can substitute a
// fault-injecting implementation (drop unsynced data, fail fsync, fill the disk, flip bits) in the
// manner of LevelDB's Env and RocksDB's FaultInjectionTestFS. Every method reports failure as a
// Status carrying the path and errno text; none throws.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::historian {

// A file opened for appending. Not thread-safe: one owner (the WAL flusher) at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` (short writes and EINTR are retried inside) or fails.
  virtual Status append(std::span<const std::uint8_t> data) = 0;
  // fdatasync: on success every byte appended so far survives power loss. After a failure the
  // file's durable state is unknown (the kernel may have dropped the dirty pages): callers must not
  // retry and must not trust earlier appends that were not covered by a successful sync.
  virtual Status sync() = 0;
  // Appends `data` like append(), and has the kernel write it back to the disk in steps of
  // `step_bytes`, waiting for each, so that at most one step of this file is ever dirty. Not a
  // durability promise (sync() still makes the bytes durable); it keeps a large file's write-back
  // from piling up behind, or in front of, another file's fdatasync on the same disk. The default
  // only appends (Envs without write-back control, tests).
  virtual Status append_written_back(std::span<const std::uint8_t> data, std::size_t step_bytes) {
    (void)step_bytes;
    return append(data);
  }
  virtual std::uint64_t size() const = 0;  // bytes in the file, including unsynced appends
};

// A read-only view of a whole file (mmap in the POSIX Env). The bytes stay valid for the object's
// lifetime; thread-safe to read from any thread.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual std::span<const std::uint8_t> bytes() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // Opens `path` for appending at its current end, creating it (empty) if missing.
  virtual Result<std::unique_ptr<WritableFile>> open_appendable(const std::filesystem::path& path) = 0;
  virtual Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path) = 0;
  virtual Result<std::uint64_t> file_size(const std::filesystem::path& path) = 0;
  // Cuts `path` to `size` bytes and syncs it, so the cut survives a crash before the next append.
  virtual Status truncate(const std::filesystem::path& path, std::uint64_t size) = 0;
  // Names (not paths) of the regular files in `dir`, unordered.
  virtual Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) = 0;
  virtual Status remove(const std::filesystem::path& path) = 0;
  virtual Status create_dirs(const std::filesystem::path& dir) = 0;
  // fsyncs a directory so that files created or removed in it stay created or removed.
  virtual Status sync_dir(const std::filesystem::path& dir) = 0;
  // Atomically replaces `to` with `from` (rename(2)); callers sync the directory afterwards.
  // Defaults delegate to posix_env() so Envs written before chunk files keep compiling.
  virtual Status rename(const std::filesystem::path& from, const std::filesystem::path& to);
  // Maps `path` read-only. The default reads it into memory.
  virtual Result<std::shared_ptr<const MappedFile>> map_file(const std::filesystem::path& path);
};

// The process-wide POSIX implementation; lives for the whole program.
Env& posix_env();

}  // namespace resonance::historian
