#include "resonance/core/dir_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace resonance {

Result<DirLock> DirLock::acquire(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "LOCK";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return error(StatusCode::kIoError, fmt::format("{}: cannot open lock file: {}", file.string(),
                                                   std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char holder[32] = {};
    const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK)
      return error(StatusCode::kFailedPrecondition,
                   fmt::format("data directory '{}' is in use by another resonance process (pid {}); "
                               "stop it or choose another node.data_dir",
                               dir.string(), n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "?"));
    return error(StatusCode::kIoError, fmt::format("{}: flock: {}", file.string(), std::strerror(err)));
  }
  // Record who holds it, for the message above. Best effort: the lock itself is what counts.
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return DirLock(fd);
}

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace resonance
