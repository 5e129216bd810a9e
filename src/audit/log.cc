// The write path (docs/audit.md, "Durability"). The journal `<dir>/journal` is the source of truth:
// each record is u16 BE length | entry | first 8 bytes of the entry's leaf hash, so a torn or
// garbled tail is recognised on replay and cut. Tiles and entry bundles are derived from it at
// checkpoint time and fsynced before the checkpoint that covers them is renamed into place.
#include "resonance/audit/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "resonance/audit/tiles.h"

namespace resonance::audit {

namespace {

constexpr std::size_t kCheckBytes = 8;
constexpr std::size_t kParallelHashBatch = 2048;  // below this a thread costs more than it saves

Status errno_status(const std::filesystem::path& path, std::string_view what) {
  return Status(StatusCode::kIoError, path.string() + ": " + std::string(what) + " (" + std::strerror(errno) + ")");
}

void append_record(std::string_view entry, const Hash& leaf, std::string& out) {
  append_to_bundle(entry, out);
  out.append(reinterpret_cast<const char*>(leaf.data()), kCheckBytes);
}

}  // namespace

Log::Log(std::filesystem::path dir, Signer signer, LogOptions options, DirLock lock)
    : dir_(std::move(dir)), signer_(std::move(signer)), options_(options), lock_(std::move(lock)) {}

Log::~Log() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

Result<std::unique_ptr<Log>> Log::open(const std::filesystem::path& dir, Signer signer, LogOptions options) {
  if (signer.verifier().type != KeyType::kEd25519)
    return error(StatusCode::kInvalidArgument, "audit log key " + signer.name() + " must be an Ed25519 (type 0x01) key");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return error(StatusCode::kIoError, dir.string() + ": cannot create (" + ec.message() + ")");
  auto lock = DirLock::acquire(dir);
  if (!lock) return error(lock.error());
  std::unique_ptr<Log> log(new Log(dir, std::move(signer), options, std::move(*lock)));
  if (auto s = log->recover(); !s) return error(s);
  return log;
}

Status Log::recover() {
  const auto path = dir_ / "journal";
  journal_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (journal_fd_ < 0) return errno_status(path, "cannot open");
  auto data = read_file(path);
  if (!data) return data.error();
  std::size_t off = 0;
  std::vector<std::string> entries;
  while (off + 2 <= data->size()) {
    const std::size_t len = std::size_t{static_cast<std::uint8_t>((*data)[off])} << 8 |
                            static_cast<std::uint8_t>((*data)[off + 1]);
    if (off + 2 + len + kCheckBytes > data->size()) break;
    const std::string_view entry(data->data() + off + 2, len);
    const Hash leaf = leaf_hash(as_bytes(entry));
    if (std::memcmp(leaf.data(), data->data() + off + 2 + len, kCheckBytes) != 0) break;
    tree_.append(leaf);
    entries.emplace_back(entry);
    off += 2 + len + kCheckBytes;
  }
  // The stored checkpoint must describe a prefix of what was replayed.
  std::uint64_t signed_size = 0;
  auto note = read_file(dir_ / "checkpoint");
  if (note) {
    auto opened = open_note(*note, {signer_.verifier()});
    if (!opened) return Status(StatusCode::kCorruption, (dir_ / "checkpoint").string() + ": " + opened.error().message());
    auto cp = parse_checkpoint_text(opened->note.text);
    if (!cp) return Status(StatusCode::kCorruption, (dir_ / "checkpoint").string() + ": " + cp.error().message());
    if (cp->size > tree_.size())
      return Status(StatusCode::kCorruption, "audit log " + dir_.string() + ": the checkpoint covers " +
                                                 std::to_string(cp->size) + " entries but the journal holds only " +
                                                 std::to_string(tree_.size()) + "; refusing to sign a rolled-back log");
    if (*tree_hash(tree_, cp->size) != cp->root)
      return Status(StatusCode::kCorruption, "audit log " + dir_.string() + ": the journal's first " +
                                                 std::to_string(cp->size) + " entries do not hash to the signed root");
    signed_size = cp->size;
  } else if (note.error().code() != StatusCode::kNotFound) {
    return note.error();
  }
  // Only now, with the signed prefix known to be intact, is the unreadable rest cut off. A torn
  // write leaves it, but so could a flipped bit in acknowledged entries: the bytes are kept in
  // journal.tail-<offset> beside the journal (never silently destroyed) and the stats say so.
  if (off < data->size()) {
    stats_.recovered_torn_bytes = data->size() - off;
    const auto kept = dir_ / ("journal.tail-" + std::to_string(off));
    const int tail_fd = ::open(kept.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tail_fd < 0) return errno_status(kept, "cannot keep the unreadable journal tail");
    const std::string_view rest(data->data() + off, data->size() - off);
    std::size_t written = 0;
    while (written < rest.size()) {
      const ssize_t n = ::write(tail_fd, rest.data() + written, rest.size() - written);
      if (n <= 0) {
        ::close(tail_fd);
        return errno_status(kept, "cannot keep the unreadable journal tail");
      }
      written += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(tail_fd) == 0;
    ::close(tail_fd);
    if (!synced) return errno_status(kept, "cannot sync the kept journal tail");
    if (::ftruncate(journal_fd_, static_cast<off_t>(off)) != 0 || ::fsync(journal_fd_) != 0)
      return errno_status(path, "cannot cut the unreadable tail");
  }
  if (::lseek(journal_fd_, 0, SEEK_END) < 0) return errno_status(path, "seek failed");
  stats_.checkpoint_size = signed_size;
  // Tiles and bundles that the signed checkpoint covers in full were fsynced before it was.
  for (int level = 0; (signed_size >> (level * kTileHeight)) >= kTileWidth; ++level)
    full_tiles_written_.push_back((signed_size >> (level * kTileHeight)) / kTileWidth);
  bundle_base_ = signed_size / kTileWidth * kTileWidth;
  pending_.assign(std::make_move_iterator(entries.begin() + static_cast<std::ptrdiff_t>(bundle_base_)),
                  std::make_move_iterator(entries.end()));
  stats_.entries = tree_.size();
  return Status::ok();
}

Result<std::uint64_t> Log::append(const Entry& entry) { return append_batch(std::span(&entry, 1)); }

Result<std::uint64_t> Log::append_batch(std::span<const Entry> entries) {
  std::vector<std::string> encoded;
  encoded.reserve(entries.size());
  std::vector<std::uint8_t> buf;
  for (const auto& e : entries) {
    buf.clear();
    if (auto s = encode_entry(e, buf); !s) return error(s);
    encoded.emplace_back(reinterpret_cast<const char*>(buf.data()), buf.size());
  }
  return append_encoded(encoded);
}

Result<std::uint64_t> Log::append_encoded(std::span<const std::string> encoded) {
  for (const auto& e : encoded)
    if (e.size() > kMaxEntrySize)
      return error(StatusCode::kInvalidArgument, "audit entry is " + std::to_string(e.size()) + " bytes; the limit is 65535");
  // Leaf hashes are independent: a large batch is hashed on two cores (the box has two).
  std::vector<Hash> leaves(encoded.size());
  auto hash_range = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) leaves[i] = leaf_hash(as_bytes(encoded[i]));
  };
  if (encoded.size() >= kParallelHashBatch) {
    const std::size_t half = encoded.size() / 2;
    std::thread helper(hash_range, half, encoded.size());
    hash_range(0, half);
    helper.join();
  } else {
    hash_range(0, encoded.size());
  }
  std::string records;
  for (std::size_t i = 0; i < encoded.size(); ++i) append_record(encoded[i], leaves[i], records);
  std::lock_guard lock(mu_);
  if (broken_)
    return error(StatusCode::kFailedPrecondition, "audit log " + dir_.string() + ": an earlier journal write failed; reopen the log");
  std::size_t off = 0;
  while (off < records.size()) {
    const ssize_t n = ::write(journal_fd_, records.data() + off, records.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken_ = true;  // a partial record may sit at the tail; replay cuts it
      return error(errno_status(dir_ / "journal", "append failed"));
    }
    off += static_cast<std::size_t>(n);
  }
  if (options_.fsync && ::fdatasync(journal_fd_) != 0) {
    broken_ = true;
    return error(errno_status(dir_ / "journal", "fdatasync failed"));
  }
  const std::uint64_t first = tree_.size();
  for (const auto& leaf : leaves) tree_.append(leaf);
  pending_.insert(pending_.end(), encoded.begin(), encoded.end());
  stats_.entries = tree_.size();
  return first;
}

Status Log::write_tiles(std::uint64_t size) {
  // Entry bundles: full ones once, then the partial one for this size. Written entries leave
  // pending_ in one erase at the end (erasing per bundle would be quadratic in a long backlog).
  std::size_t consumed = 0;
  while (bundle_base_ + kTileWidth <= size) {
    std::string bundle;
    for (std::uint64_t i = 0; i < kTileWidth; ++i) append_to_bundle(pending_[consumed + i], bundle);
    const std::uint64_t n = bundle_base_ / kTileWidth;
    if (auto s = write_file_atomic(dir_ / tile_path(kEntriesLevel, n, kTileWidth), bundle, /*sync=*/false); !s) {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(consumed));
      return s;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_ / (tile_path(kEntriesLevel, n, kTileWidth) + ".p"), ec);
    consumed += kTileWidth;
    bundle_base_ += kTileWidth;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(consumed));
  if (size > bundle_base_) {
    std::string bundle;
    for (std::uint64_t i = 0; i < size - bundle_base_; ++i) append_to_bundle(pending_[i], bundle);
    if (auto s = write_file_atomic(dir_ / tile_path(kEntriesLevel, bundle_base_ / kTileWidth, size - bundle_base_), bundle, /*sync=*/false); !s)
      return s;
  }
  // Hash tiles: level L holds the hashes of tree level 8·L.
  for (int level = 0; (size >> (level * kTileHeight)) > 0; ++level) {
    const auto& hashes = tree_.level(level * kTileHeight);
    const std::uint64_t count = size >> (level * kTileHeight);
    if (full_tiles_written_.size() <= static_cast<std::size_t>(level)) full_tiles_written_.push_back(0);
    auto& done = full_tiles_written_[static_cast<std::size_t>(level)];
    for (std::uint64_t n = done; n * kTileWidth + kTileWidth <= count; ++n) {
      std::string data(reinterpret_cast<const char*>(hashes[n * kTileWidth].data()), kTileWidth * 32);
      if (auto s = write_file_atomic(dir_ / tile_path(level, n, kTileWidth), data, /*sync=*/false); !s) return s;
      std::error_code ec;
      std::filesystem::remove_all(dir_ / (tile_path(level, n, kTileWidth) + ".p"), ec);
      done = n + 1;
    }
    if (count % kTileWidth != 0) {
      const std::uint64_t n = count / kTileWidth;
      std::string data(reinterpret_cast<const char*>(hashes[n * kTileWidth].data()), (count % kTileWidth) * 32);
      if (auto s = write_file_atomic(dir_ / tile_path(level, n, count % kTileWidth), data, /*sync=*/false); !s) return s;
    }
  }
  return Status::ok();
}

Result<std::string> Log::checkpoint() {
  std::lock_guard lock(mu_);
  // After a failed write or sync, pages may have been dropped while the bookkeeping says they
  // are on disk: never sign over them (the historian's rule: a failed fsync is not retried).
  if (broken_)
    return error(StatusCode::kFailedPrecondition,
                 "audit log " + dir_.string() + ": an earlier write or sync failed; restart to recover");
  const std::uint64_t size = tree_.size();
  if (auto s = write_tiles(size); !s) {
    broken_ = true;
    return error(s);
  }
  // One syncfs for all tiles written above (instead of two fsyncs per file): they must be on disk
  // before the checkpoint that covers them.
  if (options_.fsync) {
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dfd >= 0 && ::syncfs(dfd) == 0;
    if (dfd >= 0) ::close(dfd);
    if (!synced) {
      broken_ = true;
      return error(errno_status(dir_, "syncfs before the checkpoint failed"));
    }
  }
  Checkpoint cp{signer_.name(), size, *tree_hash(tree_, size), {}};
  auto note = sign_note(format_checkpoint_text(cp), signer_);
  if (!note) return note;
  if (auto s = write_file_atomic(dir_ / "checkpoint", *note, options_.fsync); !s) return error(s);
  stats_.checkpoint_size = size;
  return note;
}

std::uint64_t Log::size() const {
  std::lock_guard lock(mu_);
  return tree_.size();
}

Hash Log::root() const {
  std::lock_guard lock(mu_);
  return tree_.root();
}

Result<std::vector<Hash>> Log::prove_inclusion(std::uint64_t index, std::uint64_t size) const {
  std::lock_guard lock(mu_);
  if (size > tree_.size())
    return error(StatusCode::kOutOfRange, "tree size " + std::to_string(size) + " exceeds the log's " + std::to_string(tree_.size()));
  return audit::prove_inclusion(tree_, index, size);
}

Result<std::vector<Hash>> Log::prove_consistency(std::uint64_t old_size, std::uint64_t new_size) const {
  std::lock_guard lock(mu_);
  if (new_size > tree_.size())
    return error(StatusCode::kOutOfRange, "tree size " + std::to_string(new_size) + " exceeds the log's " + std::to_string(tree_.size()));
  return audit::prove_consistency(tree_, old_size, new_size);
}

LogStats Log::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace resonance::audit
