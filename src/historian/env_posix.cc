// POSIX Env: plain open/write/fdatasync. No O_DIRECT and no mmap: the WAL writes large sequential
// chunks and syncs them explicitly, which the page cache handles well.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/core.h>

#include "historian/env.h"

namespace resonance::historian {
namespace {

Status io_error(std::string_view op, const std::filesystem::path& path, int err) {
  return Status(StatusCode::kIoError, fmt::format("{} {}: {}", op, path.string(), std::strerror(err)));
}

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::filesystem::path path, int fd, std::uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override { ::close(fd_); }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status append(std::span<const std::uint8_t> data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error("write", path_, errno);
      }
      data = data.subspan(static_cast<std::size_t>(n));
      size_ += static_cast<std::uint64_t>(n);
    }
    return Status::ok();
  }

  Status append_written_back(std::span<const std::uint8_t> data, std::size_t step_bytes) override {
    if (step_bytes == 0) return append(data);
    while (!data.empty()) {
      const std::size_t n = std::min(step_bytes, data.size());
      const auto at = static_cast<off64_t>(size_);
      if (Status s = append(data.first(n)); !s) return s;
      // WAIT_BEFORE|WRITE|WAIT_AFTER: this step is on the disk before the next one is dirtied.
      // A failure here is a write-back error the next fdatasync would report too; report it now.
      if (::sync_file_range(fd_, at, static_cast<off64_t>(n),
                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
        return io_error("sync_file_range", path_, errno);
      data = data.subspan(n);
    }
    return Status::ok();
  }

  Status sync() override {
    // fdatasync, not fsync: the size change of an append is data-relevant metadata and is covered,
    // the mtime is not and need not be.
    if (::fdatasync(fd_) != 0) return io_error("fdatasync", path_, errno);
    return Status::ok();
  }

  std::uint64_t size() const override { return size_; }

 private:
  std::filesystem::path path_;
  int fd_;
  std::uint64_t size_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> open_appendable(const std::filesystem::path& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return error(io_error("open", path, errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return error(io_error("fstat", path, err));
    }
    return std::make_unique<PosixWritableFile>(path, fd, static_cast<std::uint64_t>(st.st_size));
  }

  Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path) override {
    FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return error(io_error("open", path, errno));
    std::vector<std::uint8_t> out;
    std::uint8_t chunk[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        return error(io_error("read", path, errno));
      }
      if (n == 0) break;
      out.insert(out.end(), chunk, chunk + n);
    }
    return out;
  }

  Result<std::uint64_t> file_size(const std::filesystem::path& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return error(io_error("stat", path, errno));
    return static_cast<std::uint64_t>(st.st_size);
  }

  Status truncate(const std::filesystem::path& path, std::uint64_t size) override {
    FdGuard fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return io_error("open", path, errno);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return io_error("ftruncate", path, errno);
    if (::fsync(fd.get()) != 0) return io_error("fsync", path, errno);
    return Status::ok();
  }

  Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) override {
    std::error_code ec;
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      if (it->is_regular_file(type_ec)) names.push_back(it->path().filename().string());
    }
    if (ec) return error(StatusCode::kIoError, fmt::format("list {}: {}", dir.string(), ec.message()));
    return names;
  }

  Status remove(const std::filesystem::path& path) override {
    if (::unlink(path.c_str()) != 0) return io_error("unlink", path, errno);
    return Status::ok();
  }

  Status create_dirs(const std::filesystem::path& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status(StatusCode::kIoError, fmt::format("mkdir {}: {}", dir.string(), ec.message()));
    return Status::ok();
  }

  Status sync_dir(const std::filesystem::path& dir) override {
    FdGuard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return io_error("open", dir, errno);
    if (::fsync(fd.get()) != 0) return io_error("fsync", dir, errno);
    return Status::ok();
  }

  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename", from, errno);
    return Status::ok();
  }

  Result<std::shared_ptr<const MappedFile>> map_file(const std::filesystem::path& path) override {
    FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return error(io_error("open", path, errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return error(io_error("fstat", path, errno));
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) return std::shared_ptr<const MappedFile>(std::make_shared<Mapping>(nullptr, 0));
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) return error(io_error("mmap", path, errno));
    return std::shared_ptr<const MappedFile>(std::make_shared<Mapping>(static_cast<const std::uint8_t*>(p), size));
  }

 private:
  class Mapping final : public MappedFile {
   public:
    Mapping(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
    ~Mapping() override {
      if (p_ != nullptr) ::munmap(const_cast<std::uint8_t*>(p_), n_);
    }
    std::span<const std::uint8_t> bytes() const override { return {p_, n_}; }

   private:
    const std::uint8_t* p_;
    std::size_t n_;
  };
};

class VectorMapping final : public MappedFile {
 public:
  explicit VectorMapping(std::vector<std::uint8_t> b) : b_(std::move(b)) {}
  std::span<const std::uint8_t> bytes() const override { return b_; }

 private:
  std::vector<std::uint8_t> b_;
};

}  // namespace

Status Env::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  return posix_env().rename(from, to);
}

Result<std::shared_ptr<const MappedFile>> Env::map_file(const std::filesystem::path& path) {
  auto bytes = read_file(path);
  if (!bytes) return error(bytes.error());
  return std::shared_ptr<const MappedFile>(std::make_shared<VectorMapping>(std::move(*bytes)));
}

Env& posix_env() {
  static PosixEnv env;
  return env;
}

}  // namespace resonance::historian
