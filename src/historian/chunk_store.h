#pragma once
// The chunk files of one store: <dir>/chunks/<partition_start>_<n>.chunk, immutable and mmapped,
// plus <dir>/chunks/CHECKPOINT, the WAL sequence below which every record is in chunk files.
//
// Thread-safety: any number of readers and one writer (the chunk flusher). Readers hold
// shared_ptrs to the mapped files, so a file stays mapped while a query uses it.
// Durability: a file is written to a .tmp name, fdatasynced, renamed and the directory fsynced
// before add() makes it visible; CHECKPOINT is replaced the same way after the files it covers.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <span>
#include <vector>

#include "historian/chunk_format.h"
#include "historian/env.h"
#include "historian/tombstones.h"
#include "resonance/core/sample.h"

namespace resonance::historian {

// A chunk visible to queries; `rank` orders sources for last-write-wins (higher = newer).
struct ChunkRef {
  std::shared_ptr<const MappedFile> file;  // keeps `view` valid
  ChunkView view;
  std::uint64_t rank = 0;
};

class ChunkStore {
 public:
  // Opens (creating) `dir`, removes leftover .tmp files, maps and verifies every chunk file. A chunk
  // that fails its CRC or structure checks costs only its series' chunks from it on in that file
  // (logged and counted, with file and byte offset); a file whose header, footer or index is
  // damaged is renamed to .corrupt. Neither is fatal.
  static Result<std::unique_ptr<ChunkStore>> open(Env& env, std::filesystem::path dir);

  // One series' chunks for a new file: the encoded chunks in the order they were sealed.
  struct SeriesChunks {
    SeriesId series = 0;
    std::vector<std::span<const std::uint8_t>> chunks;
  };
  // Writes one partition's file (series ascending) durably and makes it visible.
  Status write_file(std::int64_t partition_start, std::int64_t partition_ns, std::span<const SeriesChunks> series);

  std::uint64_t checkpoint() const { return checkpoint_; }
  Status write_checkpoint(std::uint64_t covered_below);

  // Chunks of `series` overlapping [from, to), in rank order.
  std::vector<ChunkRef> chunks(SeriesId series, TimestampNs from, TimestampNs to) const;
  std::optional<Sample> latest(SeriesId series) const;
  std::uint64_t bytes() const;
  std::size_t files() const;

  // Retention: deletes every chunk file whose partition ends at or before `cutoff_ns` (the
  // partition's time range is in the file header). Queries stop seeing the files first, then they
  // are unlinked and the directory synced; a crash in between leaves files the next call deletes.
  // Returns how many files were deleted. Writer only.
  Result<std::size_t> drop_partitions_before(TimestampNs cutoff_ns);

  // Deleting a series: a tombstone (series, every chunk file numbered below the current one) is
  // written durably to <dir>/TOMBSTONES, then the series' chunks disappear from queries. Chunk
  // files are not rewritten; tombstones are applied every time the files are opened (there is no
  // compaction to fold them in yet). `wal_sequence` is stored with it: WAL records below it must
  // not bring the series back on replay. Writer only.
  Status add_tombstone(SeriesId series, std::uint64_t wal_sequence);
  using Tombstone = historian::Tombstone;
  std::vector<Tombstone> tombstones() const;

  // Damage found when files were opened: chunks skipped, files renamed to .corrupt, and the last
  // report ("<path>: chunk at byte N of series S: <reason>"); empty while none.
  struct Damage {
    std::uint64_t chunks_skipped = 0;
    std::uint64_t files_quarantined = 0;
    std::string last;
  };
  Damage damage() const;

  // --- compaction (HistorianImpl::compact; docs/historian.md "Compaction") ---------------------
  // The files of one partition, identified by the (start, length) in their headers.
  struct PartitionFiles {
    std::int64_t partition_start = 0;
    std::int64_t partition_ns = 0;
    std::vector<std::uint64_t> seqs;  // ascending
    std::uint64_t bytes = 0;
    // False when folding them is unsafe now: a file had damaged chunks (the damage may be in the
    // page cache only; rewriting would make the loss permanent), or a file of a different partition
    // length overlaps the range (a changed configuration: ranks across both must stay as they are).
    bool compactable = true;
  };
  std::vector<PartitionFiles> partitions() const;  // ascending partition_start
  // Every visible chunk of `p`'s files (tombstoned series left out), by series, in rank order.
  std::map<SeriesId, std::vector<ChunkRef>> chunks_in(const PartitionFiles& p) const;
  // Changes whenever a tombstone is added.
  std::uint64_t tombstone_generation() const;
  // Writes `bytes` durably (written, fdatasynced) to a .tmp file of `p` in slices of at most
  // `slice_bytes`, calling `pace(n)` before each slice; `pace` returning false abandons the write
  // (the .tmp is removed, kUnavailable). A crash leaves only a .tmp, which open() deletes.
  Result<std::filesystem::path> write_partition_tmp(const PartitionFiles& p, std::span<const std::uint8_t> bytes,
                                                    std::size_t slice_bytes,
                                                    const std::function<bool(std::size_t)>& pace);
  // Makes `tmp` the partition's only file: renamed to the next file number (so it outranks the
  // files it replaces, which it contains merged), the directory synced, published to queries, and
  // only then the old files are withdrawn and unlinked. Returns false, removing `tmp`, when the
  // partition changed since `p` was taken (another file, retention) or a tombstone was added since
  // `tombstone_generation`: the merge would be stale. Writer only (the caller holds the lock that
  // serialises chunk flushes and deletions).
  Result<bool> replace_partition(const PartitionFiles& p, const std::filesystem::path& tmp,
                                 std::uint64_t tombstone_generation);

 private:
  ChunkStore(Env& env, std::filesystem::path dir) : env_(env), dir_(std::move(dir)) {}
  Status add(std::shared_ptr<const MappedFile> file, std::uint64_t file_seq,
             std::string name);
  bool tombstoned(SeriesId series, std::uint64_t file_seq) const;  // mu_ held
  void recompute_latest(SeriesId series);                           // mu_ held exclusively
  Status write_tombstones(const std::vector<Tombstone>& list);

  struct FileEntry {
    std::string name;
    std::int64_t partition_start = 0;
    std::int64_t partition_ns = 0;
    bool damaged = false;            // some chunks failed their checks when it was opened
    std::int64_t partition_end = 0;  // partition_start + partition_ns (saturated)
    std::shared_ptr<const MappedFile> file;
  };

  Env& env_;
  const std::filesystem::path dir_;
  std::uint64_t checkpoint_ = 0;  // writer only (and open)
  std::uint64_t next_file_seq_ = 1;  // writer only

  mutable std::shared_mutex mu_;
  std::map<SeriesId, std::vector<ChunkRef>> by_series_;  // guarded by mu_
  std::map<SeriesId, Sample> latest_;                    // guarded by mu_
  std::uint64_t bytes_ = 0;                              // guarded by mu_
  std::size_t files_ = 0;                                // guarded by mu_
  std::map<std::uint64_t, FileEntry> files_by_seq_;      // guarded by mu_
  std::vector<Tombstone> tombstones_;                    // guarded by mu_
  Damage damage_;                                        // guarded by mu_
  std::uint64_t tombstone_generation_ = 0;               // guarded by mu_
};

}  // namespace resonance::historian
