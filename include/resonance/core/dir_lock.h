#pragma once
// An exclusive lock on a data directory, so two processes never open the same store (they would
// interleave WAL appends and corrupt each other). flock(2) on `<dir>/LOCK`: the kernel drops it
// when the process dies, so a kill -9 never leaves a stale lock behind.

#include <filesystem>

#include "resonance/core/status.h"

namespace resonance {

class DirLock {
 public:
  // Fails with kFailedPrecondition, naming the directory and the holder's pid, when another
  // process holds the lock.
  static Result<DirLock> acquire(const std::filesystem::path& dir);
  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace resonance
