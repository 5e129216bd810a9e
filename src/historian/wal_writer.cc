#include "historian/wal_writer.h"

#include <charconv>

#include <fmt/core.h>

#include "historian/wal_format.h"

namespace resonance::historian {

std::string segment_file_name(std::uint32_t number) { return fmt::format("{:08}.wal", number); }

std::optional<std::uint32_t> parse_segment_file_name(std::string_view name) {
  constexpr std::string_view kSuffix = ".wal";
  if (name.size() != 8 + kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  std::uint32_t number = 0;
  const char* end = name.data() + 8;
  const auto [ptr, ec] = std::from_chars(name.data(), end, number);
  if (ec != std::errc() || ptr != end || number == 0) return std::nullopt;
  return number;
}

Result<std::unique_ptr<WalWriter>> WalWriter::open(Env& env, std::filesystem::path wal_dir,
                                                   std::optional<std::uint32_t> last_segment,
                                                   std::uint64_t segment_bytes, Durability durability) {
  std::unique_ptr<WalWriter> writer(new WalWriter(env, std::move(wal_dir), segment_bytes, durability));
  if (Status s = writer->open_segment(last_segment.value_or(1)); !s) return error(std::move(s));
  return writer;
}

Status WalWriter::open_segment(std::uint32_t number) {
  auto file = env_.open_appendable(wal_dir_ / segment_file_name(number));
  if (!file) return file.error();
  // The new file's directory entry must be durable before records in it are acknowledged.
  if (durability_ == Durability::kSync)
    if (Status s = env_.sync_dir(wal_dir_); !s) return s;
  file_ = std::move(*file);
  segment_number_ = number;
  segment_has_record_ = file_->size() > 0;
  current_.store(number);
  return Status::ok();
}

namespace {
// The sequence field of a framed record: after the 8-byte frame header, version and type bytes.
std::uint64_t record_sequence(std::span<const std::uint8_t> record) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(record[kFrameHeaderBytes + 2 + i]) << (8 * i);
  return v;
}
}  // namespace

void WalWriter::set_segment_first_sequence(std::vector<std::pair<std::uint32_t, std::uint64_t>> table) {
  std::lock_guard lock(table_mu_);
  first_sequence_ = std::move(table);
}

Result<std::size_t> WalWriter::delete_segments_below(std::uint64_t watermark) {
  std::vector<std::uint32_t> doomed;
  {
    std::lock_guard lock(table_mu_);
    const std::uint32_t current = current_.load();
    // Segment k is done when segment k+1 exists and starts at or below the watermark.
    std::size_t k = 0;
    while (k + 1 < first_sequence_.size() && first_sequence_[k].first != current &&
           first_sequence_[k + 1].second <= watermark) {
      doomed.push_back(first_sequence_[k].first);
      ++k;
    }
    first_sequence_.erase(first_sequence_.begin(), first_sequence_.begin() + static_cast<std::ptrdiff_t>(k));
  }
  if (doomed.empty()) return std::size_t{0};
  // Out of the log first, durably: a segment cut short under its log name would end recovery
  // there, and every later segment with it.
  const auto deleting = [this](std::uint32_t n) {
    return wal_dir_ / (segment_file_name(n) + std::string(kDeletingSegmentSuffix));
  };
  for (std::uint32_t n : doomed)
    if (Status s = env_.rename(wal_dir_ / segment_file_name(n), deleting(n)); !s) return error(std::move(s));
  if (Status s = env_.sync_dir(wal_dir_); !s) return error(std::move(s));
  for (std::uint32_t n : doomed)
    if (Status s = remove_in_steps(deleting(n)); !s) return error(std::move(s));
  if (Status s = env_.sync_dir(wal_dir_); !s) return error(std::move(s));
  return doomed.size();
}

Status WalWriter::remove_in_steps(const std::filesystem::path& path) {
  // Unlinking a whole 64 MiB segment frees all its blocks in one journal commit, which the WAL's
  // next fdatasync shares (ext4: every append's sync commits the journal); where freed blocks are
  // discarded at commit (ext4 mounted with discard, as on the bench machine) that commit takes
  // long: a WAL sync next to the unlink took 10-15 ms instead of ~1.3 (bench/RESULTS.md). Cut
  // in synced steps, each commit frees one step, and a WAL sync waits for one step at most.
  constexpr std::uint64_t kStepBytes = 4 << 20;
  auto size = env_.file_size(path);
  if (!size) return size.error();
  for (std::uint64_t left = *size; left > kStepBytes;) {
    left -= kStepBytes;
    if (Status s = env_.truncate(path, left); !s) return s;
  }
  return env_.remove(path);
}

Status WalWriter::write(std::span<const std::uint8_t> bytes, std::span<const std::uint32_t> record_sizes) {
  std::size_t begin = 0;  // start of the run of records not yet written
  std::size_t end = 0;
  for (const std::uint32_t size : record_sizes) {
    const std::uint64_t in_segment = file_->size() + (end - begin);
    if (in_segment > 0 && in_segment + size > segment_bytes_) {
      if (Status s = file_->append(bytes.subspan(begin, end - begin)); !s) return s;
      // Sync the old segment before the new one receives anything: recovery stops at the first
      // gap, so later durable records would be useless behind an undurable earlier one.
      if (durability_ == Durability::kSync)
        if (Status s = file_->sync(); !s) return s;
      if (Status s = open_segment(segment_number_ + 1); !s) return s;
      begin = end;
    }
    if (!segment_has_record_) {
      segment_has_record_ = true;
      std::lock_guard lock(table_mu_);
      first_sequence_.emplace_back(segment_number_, record_sequence(bytes.subspan(end, size)));
    }
    end += size;
  }
  if (Status s = file_->append(bytes.subspan(begin, end - begin)); !s) return s;
  if (durability_ == Durability::kSync) return file_->sync();
  return Status::ok();
}

}  // namespace resonance::historian
