#include "resonance/audit/tiles.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace resonance::audit {

namespace {
Status io_error(const std::filesystem::path& path, std::string_view what) {
  return Status(StatusCode::kIoError, path.string() + ": " + std::string(what) + " (" + std::strerror(errno) + ")");
}
}  // namespace

std::string tile_index_path(std::uint64_t n) {
  std::string out = fmt::format("{:03d}", n % 1000);
  for (n /= 1000; n > 0; n /= 1000) out = fmt::format("x{:03d}/", n % 1000) + out;
  return out;
}

std::string tile_path(int level, std::uint64_t n, std::uint64_t width) {
  std::string out = "tile/" + (level == kEntriesLevel ? std::string("entries") : std::to_string(level)) + "/" +
                    tile_index_path(n);
  if (width > 0 && width < kTileWidth) out += ".p/" + std::to_string(width);
  return out;
}

std::uint64_t tile_width(int level, std::uint64_t n, std::uint64_t size) {
  const int shift = (level == kEntriesLevel ? 0 : level) * kTileHeight;
  const std::uint64_t count = shift >= 64 ? 0 : size >> shift;
  if (count <= n * kTileWidth) return 0;
  return std::min(kTileWidth, count - n * kTileWidth);
}

Result<std::vector<std::string>> parse_bundle(std::string_view data) {
  std::vector<std::string> out;
  std::size_t off = 0;
  while (off < data.size()) {
    if (data.size() - off < 2)
      return error(StatusCode::kCorruption, "byte " + std::to_string(off) + ": a 2-byte length is cut off");
    const std::size_t len = std::size_t{static_cast<std::uint8_t>(data[off])} << 8 | static_cast<std::uint8_t>(data[off + 1]);
    if (data.size() - off - 2 < len)
      return error(StatusCode::kCorruption, "byte " + std::to_string(off) + ": entry " + std::to_string(out.size()) +
                                                " claims " + std::to_string(len) + " bytes, only " +
                                                std::to_string(data.size() - off - 2) + " remain");
    out.emplace_back(data.substr(off + 2, len));
    off += 2 + len;
  }
  return out;
}

void append_to_bundle(std::string_view entry, std::string& bundle) {
  bundle += static_cast<char>(entry.size() >> 8);
  bundle += static_cast<char>(entry.size() & 0xff);
  bundle += entry;
}

Result<std::string> read_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return error(StatusCode::kNotFound, path.string() + ": missing");
    return error(io_error(path, "cannot open"));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto s = io_error(path, "read failed");
      ::close(fd);
      return error(s);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data, bool sync) {
  const auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return Status(StatusCode::kIoError, parent.string() + ": cannot create (" + ec.message() + ")");
  const auto tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(tmp, "cannot create");
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto s = io_error(tmp, "write failed");
      ::close(fd);
      return s;
    }
    off += static_cast<std::size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    auto s = io_error(tmp, "fsync failed");
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error(path, "rename failed");
  if (sync) {  // the rename itself must survive a power loss
    const int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return io_error(parent, "cannot open the directory to sync it");
    const bool synced = ::fsync(dfd) == 0;
    auto s = synced ? Status::ok() : io_error(parent, "directory fsync failed");
    ::close(dfd);
    return s;
  }
  return Status::ok();
}

Result<const std::vector<Hash>*> TileHashReader::tile(int tile_level, std::uint64_t n) const {
  const auto key = std::make_pair(tile_level, n);
  if (auto it = cache_.find(key); it != cache_.end()) return &it->second;
  const std::uint64_t width = tile_width(tile_level, n, size_);
  if (width == 0)
    return error(StatusCode::kOutOfRange, "tile " + std::to_string(tile_level) + "/" + std::to_string(n) +
                                              " is beyond a tree of " + std::to_string(size_) + " entries");
  // A full tile serves every size; a partial one only the size it was cut for.
  auto data = read_file(dir_ / tile_path(tile_level, n, kTileWidth));
  std::string path = tile_path(tile_level, n, kTileWidth);
  if (!data && width < kTileWidth && data.error().code() == StatusCode::kNotFound) {
    path = tile_path(tile_level, n, width);
    data = read_file(dir_ / path);
  }
  if (!data) return error(data.error());
  if (data->size() < width * 32 || data->size() % 32 != 0)
    return error(StatusCode::kCorruption, path + ": " + std::to_string(data->size()) + " bytes, expected " +
                                              std::to_string(width) + " hashes of 32 bytes (truncated tile)");
  std::vector<Hash> hashes(width);
  std::memcpy(hashes.data(), data->data(), width * 32);
  return &cache_.emplace(key, std::move(hashes)).first->second;
}

Result<Hash> TileHashReader::node(int level, std::uint64_t index) const {
  // Subtrees whose level is not a multiple of 8 are hashed from the tile below them.
  const int tile_level = level / kTileHeight;
  const int rest = level % kTileHeight;
  const std::uint64_t first = index << rest;  // index at level 8·tile_level
  auto t = tile(tile_level, first / kTileWidth);
  if (!t) return error(t.error());
  const std::uint64_t pos = first % kTileWidth;
  const std::uint64_t count = std::uint64_t{1} << rest;
  if (pos + count > (*t)->size())
    return error(StatusCode::kOutOfRange, "subtree " + std::to_string(level) + "/" + std::to_string(index) +
                                              " is not complete in a tree of " + std::to_string(size_));
  std::vector<Hash> row((*t)->begin() + static_cast<std::ptrdiff_t>(pos),
                        (*t)->begin() + static_cast<std::ptrdiff_t>(pos + count));
  while (row.size() > 1) {
    for (std::size_t i = 0; i < row.size() / 2; ++i) row[i] = node_hash(row[2 * i], row[2 * i + 1]);
    row.resize(row.size() / 2);
  }
  return row[0];
}

}  // namespace resonance::audit
