#include "fault_env.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

namespace resonance::historian::testing {

namespace {
const char* op_name(FaultOp op) {
  switch (op) {
    case FaultOp::kOpen: return "open";
    case FaultOp::kAppend: return "write";
    case FaultOp::kSync: return "fdatasync";
    case FaultOp::kSyncDir: return "fsync dir";
    case FaultOp::kRename: return "rename";
    case FaultOp::kRemove: return "unlink";
    case FaultOp::kTruncate: return "ftruncate";
    case FaultOp::kRead: return "read";
  }
  return "?";
}

class BytesMapping final : public MappedFile {
 public:
  explicit BytesMapping(std::vector<std::uint8_t> b) : b_(std::move(b)) {}
  std::span<const std::uint8_t> bytes() const override { return b_; }

 private:
  std::vector<std::uint8_t> b_;
};
}  // namespace

// Wraps a real file; every call goes through the Env so faults and sync tracking apply.
class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv& env, std::filesystem::path path, std::unique_ptr<WritableFile> inner)
      : env_(env), path_(std::move(path)), inner_(std::move(inner)) {}
  Status append(std::span<const std::uint8_t> data) override {
    return env_.append(path_, *inner_, data);
  }
  Status sync() override { return env_.sync(path_, *inner_); }
  std::uint64_t size() const override { return inner_->size(); }

 private:
  FaultInjectionEnv& env_;
  std::filesystem::path path_;
  std::unique_ptr<WritableFile> inner_;
};

FaultInjectionEnv::FaultInjectionEnv(Env& base, bool real_sync)
    : base_(base), real_sync_(real_sync) {}

void FaultInjectionEnv::inject(FaultOp op, int err, std::string path_part, int skip, int times) {
  std::lock_guard lock(mu_);
  rules_.push_back(Rule{op, err, std::move(path_part), skip, times});
}

void FaultInjectionEnv::set_free_bytes(std::optional<std::uint64_t> bytes) {
  std::lock_guard lock(mu_);
  free_bytes_ = bytes;
}

void FaultInjectionEnv::flip_bit(const std::string& name, std::uint64_t offset, int bit) {
  std::lock_guard lock(mu_);
  flips_.push_back(Flip{name, offset, bit});
}

void FaultInjectionEnv::arm_crash_after(std::uint64_t n) {
  std::lock_guard lock(mu_);
  crash_countdown_ = n;
  if (n == 0) crashed_ = true;
}

bool FaultInjectionEnv::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

void FaultInjectionEnv::clear_faults() {
  std::lock_guard lock(mu_);
  rules_.clear();
  flips_.clear();
  free_bytes_.reset();
  crash_countdown_.reset();
}

std::uint64_t FaultInjectionEnv::calls(FaultOp op) const {
  std::lock_guard lock(mu_);
  const auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

std::uint64_t FaultInjectionEnv::mutating_calls() const {
  std::lock_guard lock(mu_);
  return mutating_calls_;
}

Status FaultInjectionEnv::check(FaultOp op, const std::filesystem::path& path, const char* what) {
  ++calls_[op];
  if (op != FaultOp::kRead) {
    ++mutating_calls_;
    if (crash_countdown_ && !crashed_) {
      if (*crash_countdown_ <= 1)
        crashed_ = true;
      else
        --*crash_countdown_;
    }
  }
  if (crashed_ && op != FaultOp::kRead)
    return Status(StatusCode::kIoError, fmt::format("{} {}: {} (simulated power loss)", what,
                                                    path.string(), std::strerror(EIO)));
  for (auto& r : rules_) {
    if (r.op != op || path.string().find(r.path_part) == std::string::npos) continue;
    if (r.skip > 0) {
      --r.skip;
      continue;
    }
    if (r.times <= 0) continue;
    --r.times;
    return Status(StatusCode::kIoError,
                  fmt::format("{} {}: {} (injected)", what, path.string(), std::strerror(r.err)));
  }
  return Status::ok();
}

FaultInjectionEnv::FileState& FaultInjectionEnv::track(const std::filesystem::path& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  // A file this Env has not seen yet existed before it was installed: all of it is durable.
  FileState st;
  if (auto size = base_.file_size(path)) {
    st.synced = *size;
    st.entry_durable = true;
  }
  return files_.emplace(path, st).first->second;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::open_appendable(
    const std::filesystem::path& path) {
  {
    std::lock_guard lock(mu_);
    if (Status s = check(FaultOp::kOpen, path, op_name(FaultOp::kOpen)); !s)
      return error(std::move(s));
    const bool exists = files_.contains(path) || base_.file_size(path).has_value();
    if (!exists && free_bytes_ && *free_bytes_ == 0)
      return error(StatusCode::kIoError, fmt::format("open {}: {} (injected: disk full)",
                                                     path.string(), std::strerror(ENOSPC)));
    track(path);
  }
  auto inner = base_.open_appendable(path);
  if (!inner) return inner;
  return std::unique_ptr<WritableFile>(new File(*this, path, std::move(*inner)));
}

Status FaultInjectionEnv::append(const std::filesystem::path& path, WritableFile& inner,
                                 std::span<const std::uint8_t> data) {
  std::unique_lock lock(mu_);
  if (Status s = check(FaultOp::kAppend, path, op_name(FaultOp::kAppend)); !s) return s;
  if (free_bytes_ && data.size() > *free_bytes_) {
    const auto fits = data.first(static_cast<std::size_t>(*free_bytes_));
    free_bytes_ = 0;
    lock.unlock();
    if (Status s = inner.append(fits); !s) return s;
    return Status(StatusCode::kIoError,
                  fmt::format("write {}: {} (injected: disk full after {} of {} bytes)",
                              path.string(), std::strerror(ENOSPC), fits.size(), data.size()));
  }
  if (free_bytes_) *free_bytes_ -= data.size();
  lock.unlock();
  return inner.append(data);
}

Status FaultInjectionEnv::sync(const std::filesystem::path& path, WritableFile& inner) {
  {
    std::lock_guard lock(mu_);
    if (Status s = check(FaultOp::kSync, path, op_name(FaultOp::kSync)); !s) return s;
  }
  if (real_sync_)
    if (Status s = inner.sync(); !s) return s;
  std::lock_guard lock(mu_);
  // A crash that struck while the sync ran wins: the caller must not be told it is durable.
  if (crashed_)
    return Status(StatusCode::kIoError, fmt::format("fdatasync {}: {} (simulated power loss)",
                                                    path.string(), std::strerror(EIO)));
  FileState& st = track(path);
  st.synced = std::max(st.synced, inner.size());
  return Status::ok();
}

Result<std::vector<std::uint8_t>> FaultInjectionEnv::read_file(const std::filesystem::path& path) {
  {
    std::lock_guard lock(mu_);
    if (Status s = check(FaultOp::kRead, path, op_name(FaultOp::kRead)); !s)
      return error(std::move(s));
  }
  auto bytes = base_.read_file(path);
  if (!bytes) return bytes;
  std::lock_guard lock(mu_);
  for (const auto& f : flips_)
    if (path.filename() == f.name && f.offset < bytes->size())
      (*bytes)[static_cast<std::size_t>(f.offset)] ^= static_cast<std::uint8_t>(1u << f.bit);
  return bytes;
}

Result<std::shared_ptr<const MappedFile>> FaultInjectionEnv::map_file(
    const std::filesystem::path& path) {
  // A private copy instead of mmap: bit flips apply, and a later power loss that rewrites the file
  // cannot pull bytes from under a reader.
  auto bytes = read_file(path);
  if (!bytes) return error(bytes.error());
  return std::shared_ptr<const MappedFile>(std::make_shared<BytesMapping>(std::move(*bytes)));
}

Result<std::uint64_t> FaultInjectionEnv::file_size(const std::filesystem::path& path) {
  return base_.file_size(path);
}

Status FaultInjectionEnv::truncate(const std::filesystem::path& path, std::uint64_t size) {
  std::lock_guard lock(mu_);
  if (Status s = check(FaultOp::kTruncate, path, op_name(FaultOp::kTruncate)); !s) return s;
  track(path);
  if (Status s = base_.truncate(path, size); !s) return s;
  files_[path].synced = size;  // Env::truncate syncs the cut
  return Status::ok();
}

Result<std::vector<std::string>> FaultInjectionEnv::list_dir(const std::filesystem::path& dir) {
  return base_.list_dir(dir);
}

Status FaultInjectionEnv::remove(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  if (Status s = check(FaultOp::kRemove, path, op_name(FaultOp::kRemove)); !s) return s;
  if (Status s = base_.remove(path); !s) return s;
  files_.erase(path);
  return Status::ok();
}

Status FaultInjectionEnv::create_dirs(const std::filesystem::path& dir) {
  {
    std::lock_guard lock(mu_);
    if (crashed_)
      return Status(StatusCode::kIoError,
                    fmt::format("mkdir {}: simulated power loss", dir.string()));
  }
  return base_.create_dirs(dir);
}

Status FaultInjectionEnv::sync_dir(const std::filesystem::path& dir) {
  std::lock_guard lock(mu_);
  if (Status s = check(FaultOp::kSyncDir, dir, op_name(FaultOp::kSyncDir)); !s) return s;
  if (real_sync_)
    if (Status s = base_.sync_dir(dir); !s) return s;
  for (auto& [path, st] : files_)
    if (path.parent_path() == dir) st.entry_durable = true;
  std::erase_if(renames_, [&](const PendingRename& r) { return r.to.parent_path() == dir; });
  return Status::ok();
}

Status FaultInjectionEnv::rename(const std::filesystem::path& from,
                                 const std::filesystem::path& to) {
  std::lock_guard lock(mu_);
  if (Status s = check(FaultOp::kRename, from, op_name(FaultOp::kRename)); !s) return s;
  PendingRename r{from, to, false, std::nullopt, std::nullopt};
  if (base_.file_size(to)) {
    auto before = base_.read_file(to);
    if (!before) return before.error();
    r.to_before = std::move(*before);
    r.to_state_before = track(to);
  }
  FileState moved = track(from);
  r.from_entry_durable = moved.entry_durable;
  if (Status s = base_.rename(from, to); !s) return s;
  files_.erase(from);
  moved.entry_durable = false;  // the new name exists only once the directory is synced
  files_[to] = moved;
  renames_.push_back(std::move(r));
  return Status::ok();
}

std::string FaultInjectionEnv::simulate_power_loss(LossMode mode, std::uint32_t seed) {
  std::lock_guard lock(mu_);
  std::mt19937 rng(seed);
  std::string log;
  // Undo unsynced renames, newest first: the data moves back to the old name and the target gets
  // its previous bytes (or disappears).
  for (auto it = renames_.rbegin(); it != renames_.rend(); ++it) {
    auto st = files_.find(it->to);
    FileState moved = st != files_.end() ? st->second : FileState{};
    (void)base_.rename(it->to, it->from);
    files_.erase(it->to);
    moved.entry_durable = it->from_entry_durable;  // a never-synced tmp name is removed below
    files_[it->from] = moved;
    if (it->to_before) {
      auto f = base_.open_appendable(it->to);
      if (f) (void)(*f)->append(*it->to_before);
      files_[it->to] = it->to_state_before.value_or(FileState{it->to_before->size(), true});
    }
    log += fmt::format("undid rename {} -> {}; ", it->from.filename().string(),
                       it->to.filename().string());
  }
  renames_.clear();
  for (auto it = files_.begin(); it != files_.end();) {
    const auto& [path, st] = *it;
    auto size = base_.file_size(path);
    if (!size) {
      it = files_.erase(it);
      continue;
    }
    if (!st.entry_durable) {
      (void)base_.remove(path);
      log += fmt::format("removed never-synced {}; ", path.filename().string());
      it = files_.erase(it);
      continue;
    }
    if (*size > st.synced) {
      std::uint64_t keep = st.synced;
      if (mode == LossMode::kKeepRandomPrefix)
        keep += std::uniform_int_distribution<std::uint64_t>(0, *size - st.synced)(rng);
      (void)base_.truncate(path, keep);
      log += fmt::format("cut {} from {} to {} bytes; ", path.filename().string(), *size, keep);
    }
    ++it;
  }
  files_.clear();  // everything left on disk is durable now
  crashed_ = false;
  crash_countdown_.reset();
  return log;
}

}  // namespace resonance::historian::testing
