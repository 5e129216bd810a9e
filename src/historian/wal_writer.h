#pragma once
// Appends framed records to the WAL segment files <wal_dir>/NNNNNNNN.wal, rotating to a new
// segment at a size limit. Used by the flusher thread only.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

#include "historian/env.h"
#include "resonance/core/status.h"
#include "resonance/historian/historian.h"

namespace resonance::historian {

// "00000042.wal" for 42: fixed width, so a directory listing sorts in log order.
std::string segment_file_name(std::uint32_t number);
// The number in a segment file name, or nullopt if `name` is not one.
std::optional<std::uint32_t> parse_segment_file_name(std::string_view name);

// A segment the chunk flusher is deleting is first renamed to its name plus this suffix (see
// WalWriter::delete_segments_below); recovery removes such leftovers of a crash.
inline constexpr std::string_view kDeletingSegmentSuffix = ".deleting";

// Not thread-safe: owned and called by one thread (the flusher) at a time.
class WalWriter {
 public:
  // Continues `last_segment` (the newest after recovery) if given, else starts segment 1.
  // `segment_bytes`: rotate before a record that would take the current segment past this size;
  // a single record larger than that gets a segment of its own.
  static Result<std::unique_ptr<WalWriter>> open(Env& env, std::filesystem::path wal_dir,
                                                 std::optional<std::uint32_t> last_segment,
                                                 std::uint64_t segment_bytes, Durability durability);

  // Appends the records (concatenated in `bytes`, sizes in `record_sizes`, which sum to
  // bytes.size()) and, under Durability::kSync, fdatasyncs them before returning ok. On error the
  // tail of the log is in an unknown state: the caller must stop writing (no retry, no further sync).
  Status write(std::span<const std::uint8_t> bytes, std::span<const std::uint32_t> record_sizes);

  std::uint32_t current_segment() const { return segment_number_; }

  // Seeds the (segment, first sequence) table from recovery.
  void set_segment_first_sequence(std::vector<std::pair<std::uint32_t, std::uint64_t>> table);
  // Deletes every segment other than the current one whose records all carry a sequence below
  // `watermark` (they are in chunk files). Thread-safe with respect to write(): the table has its
  // own lock and the current segment is never touched. Returns how many segments were deleted.
  // Each segment is renamed out of the log and shrunk in steps before it is unlinked (see
  // remove_in_steps), which takes longer than an unlink but never holds up write()'s fdatasync for
  // long.
  Result<std::size_t> delete_segments_below(std::uint64_t watermark);

 private:
  WalWriter(Env& env, std::filesystem::path wal_dir, std::uint64_t segment_bytes, Durability durability)
      : env_(env), wal_dir_(std::move(wal_dir)), segment_bytes_(segment_bytes), durability_(durability) {}
  Status open_segment(std::uint32_t number);
  // Cuts `path` down in steps, each synced, then unlinks it.
  Status remove_in_steps(const std::filesystem::path& path);

  Env& env_;
  const std::filesystem::path wal_dir_;
  const std::uint64_t segment_bytes_;
  const Durability durability_;
  std::uint32_t segment_number_ = 0;
  std::unique_ptr<WritableFile> file_;
  bool segment_has_record_ = false;  // flusher only

  std::mutex table_mu_;
  std::atomic<std::uint32_t> current_{0};
  std::vector<std::pair<std::uint32_t, std::uint64_t>> first_sequence_;  // guarded by table_mu_
};

}  // namespace resonance::historian
