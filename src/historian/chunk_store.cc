#include "historian/chunk_store.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <mutex>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "historian/codec.h"
#include "historian/codec_bits.h"
#include "historian/crc32c.h"

namespace resonance::historian {

namespace {
constexpr std::string_view kSuffix = ".chunk";
constexpr std::string_view kCheckpoint = "CHECKPOINT";
constexpr std::string_view kTombstones = "TOMBSTONES";

// "<partition_start>_<file_seq>.chunk" -> file_seq
std::optional<std::uint64_t> parse_name(std::string_view name) {
  if (!name.ends_with(kSuffix)) return std::nullopt;
  name.remove_suffix(kSuffix.size());
  const auto us = name.rfind('_');
  if (us == std::string_view::npos) return std::nullopt;
  std::int64_t start = 0;
  std::uint64_t seq = 0;
  auto a = std::from_chars(name.data(), name.data() + us, start);
  auto b = std::from_chars(name.data() + us + 1, name.data() + name.size(), seq);
  if (a.ec != std::errc() || a.ptr != name.data() + us || b.ec != std::errc() || b.ptr != name.data() + name.size())
    return std::nullopt;
  return seq;
}

// Chunk files are written back to the disk in steps of this size before their fdatasync. Written
// whole (1.6-2 MB per flush at 10 M samples/s) and then synced, a flush's file was all dirty at
// once and its write-back and journal commit delayed the WAL's fdatasync on the same disk, on the
// acknowledgement path (a 7 ms chunk-file sync in the middle of the ingest; bench/RESULTS.md).
constexpr std::size_t kWriteBackStepBytes = 512 << 10;

Status write_atomically(Env& env, const std::filesystem::path& dir, const std::string& name,
                        std::span<const std::uint8_t> bytes) {
  const auto tmp = dir / (name + ".tmp");
  (void)env.remove(tmp);  // a leftover from a crash; absence is the normal case
  auto file = env.open_appendable(tmp);
  if (!file) return file.error();
  Status written = (*file)->append_written_back(bytes, kWriteBackStepBytes);
  if (written) written = (*file)->sync();
  file->reset();
  if (!written) {
    // Best effort: a full disk should get its space back now, not at the next open.
    (void)env.remove(tmp);
    return written;
  }
  if (Status s = env.rename(tmp, dir / name); !s) return s;
  return env.sync_dir(dir);
}
}  // namespace

Result<std::unique_ptr<ChunkStore>> ChunkStore::open(Env& env, std::filesystem::path dir) {
  if (Status s = env.create_dirs(dir); !s) return error(std::move(s));
  std::unique_ptr<ChunkStore> store(new ChunkStore(env, dir));
  auto names = env.list_dir(dir);
  if (!names) return error(names.error());
  std::vector<std::pair<std::uint64_t, std::string>> files;
  for (const auto& name : *names) {
    if (name.ends_with(".tmp")) {
      if (Status s = env.remove(dir / name); !s) return error(std::move(s));
    } else if (auto seq = parse_name(name)) {
      files.emplace_back(*seq, name);
    } else if (name == kCheckpoint) {
      auto bytes = env.read_file(dir / name);
      if (!bytes) return error(bytes.error());
      codec::ByteReader r(*bytes, "CHECKPOINT");
      const std::uint64_t w = r.u64();
      const std::uint32_t crc = r.u32();
      if (!r.ok() || r.remaining() != 0 || crc != crc32c(std::span(*bytes).first(8)))
        spdlog::error("historian: {}: damaged, replaying the whole WAL", (dir / name).string());
      else
        store->checkpoint_ = w;
    } else if (name == kTombstones) {
      auto bytes = env.read_file(dir / name);
      if (!bytes) return error(bytes.error());
      // A damaged tombstone list must not silently resurrect deleted series: refuse to open.
      auto list = parse_tombstones(*bytes, (dir / name).string());
      if (!list)
        return error(StatusCode::kCorruption,
                     fmt::format("historian: {}; deleted series would reappear, refusing to open",
                                 list.error().message()));
      store->tombstones_ = std::move(*list);
    } else if (!name.ends_with(".corrupt")) {
      spdlog::warn("historian: ignoring unexpected file {} in {}", name, dir.string());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& [seq, name] : files) {
    auto mapped = env.map_file(dir / name);
    if (!mapped) return error(mapped.error());
    if (Status s = store->add(*mapped, seq, name); !s) {
      const std::string report = fmt::format("{}: {}; renamed to .corrupt", (dir / name).string(), s.message());
      spdlog::error("historian: {}", report);
      if (Status r = env.rename(dir / name, dir / (name + ".corrupt")); !r) return error(std::move(r));
      ++store->damage_.files_quarantined;
      store->damage_.last = report;
      continue;
    }
    store->next_file_seq_ = seq + 1;
  }
  return store;
}

Status ChunkStore::add(std::shared_ptr<const MappedFile> file, std::uint64_t file_seq, std::string name) {
  const auto bytes = file->bytes();
  auto salvaged = salvage_chunk_file(bytes);
  if (!salvaged) return salvaged.error();
  const ChunkFileInfo* info = &salvaged->info;
  // Validate every index entry before publishing any of them, so a bad file adds nothing.
  for (const auto& e : info->index)
    if (auto views = chunks_of(bytes, e); !views) return views.error();
  std::unique_lock lock(mu_);
  for (const auto& d : salvaged->damage) {
    // The rest of the file stays readable; the WAL that held these samples may be gone, so they
    // are lost unless a copy exists elsewhere: say exactly what and where.
    damage_.last = fmt::format("{}: chunk at byte {} of series {}: {} ({} chunk(s) of the series skipped)",
                               (dir_ / name).string(), d.offset, d.series, d.reason, d.chunks_lost);
    damage_.chunks_skipped += d.chunks_lost;
    spdlog::error("historian: {}", damage_.last);
  }
  const std::int64_t end = info->partition_start > std::numeric_limits<std::int64_t>::max() - info->partition_ns
                               ? std::numeric_limits<std::int64_t>::max()
                               : info->partition_start + info->partition_ns;
  files_by_seq_[file_seq] = FileEntry{std::move(name), info->partition_start, info->partition_ns,
                                      !salvaged->damage.empty(), end, file};
  std::uint64_t k = 0;
  for (const auto& e : info->index) {
    auto views = chunks_of(bytes, e);
    if (!views) return views.error();
    if (tombstoned(e.series, file_seq)) continue;
    auto& list = by_series_[e.series];
    for (const auto& v : *views) {
      list.push_back(ChunkRef{file, v, (file_seq << 24) | k++});
      auto it = latest_.find(e.series);
      if (it == latest_.end() || v.header.t_max >= it->second.ts_ns) {
        // The last sample's quality is not in the header; decode the (small) quality block.
        std::vector<std::uint32_t> q(v.header.count);
        (void)codec::decode_quality(v.quality_block, q);
        latest_[e.series] = Sample{e.series, v.header.t_max, v.header.last, Quality{q.back()}};
      }
    }
  }
  bytes_ += bytes.size();
  ++files_;
  return Status::ok();
}

Status ChunkStore::write_file(std::int64_t partition_start, std::int64_t partition_ns,
                              std::span<const SeriesChunks> series) {
  ChunkFileBuilder builder(partition_start, partition_ns);
  for (const auto& s : series)
    for (const auto& c : s.chunks) builder.add(s.series, c);
  const auto bytes = builder.finish();
  const std::uint64_t seq = next_file_seq_++;
  const std::string name = fmt::format("{}_{:08}{}", partition_start, seq, kSuffix);
  if (Status s = write_atomically(env_, dir_, name, bytes); !s) return s;
  auto mapped = env_.map_file(dir_ / name);
  if (!mapped) return mapped.error();
  return add(*mapped, seq, name);
}

Status ChunkStore::write_checkpoint(std::uint64_t covered_below) {
  std::vector<std::uint8_t> bytes;
  codec::ByteWriter w(bytes);
  w.u64(covered_below);
  w.u32(crc32c(std::span(bytes).first(8)));
  if (Status s = write_atomically(env_, dir_, std::string(kCheckpoint), bytes); !s) return s;
  checkpoint_ = covered_below;
  return Status::ok();
}

std::vector<ChunkRef> ChunkStore::chunks(SeriesId series, TimestampNs from, TimestampNs to) const {
  std::vector<ChunkRef> out;
  std::shared_lock lock(mu_);
  const auto it = by_series_.find(series);
  if (it == by_series_.end()) return out;
  for (const auto& c : it->second)
    if (c.view.header.t_max >= from && c.view.header.t_min < to) out.push_back(c);
  return out;
}

std::optional<Sample> ChunkStore::latest(SeriesId series) const {
  std::shared_lock lock(mu_);
  const auto it = latest_.find(series);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

bool ChunkStore::tombstoned(SeriesId series, std::uint64_t file_seq) const {
  for (const auto& t : tombstones_)
    if (t.series == series && file_seq < t.file_seq_below) return true;
  return false;
}

void ChunkStore::recompute_latest(SeriesId series) {
  latest_.erase(series);
  const auto it = by_series_.find(series);
  if (it == by_series_.end()) return;
  if (it->second.empty()) {
    by_series_.erase(it);
    return;
  }
  const ChunkRef* best = nullptr;
  for (const auto& c : it->second)
    if (best == nullptr || c.view.header.t_max >= best->view.header.t_max) best = &c;
  std::vector<std::uint32_t> q(best->view.header.count);
  (void)codec::decode_quality(best->view.quality_block, q);
  latest_[series] = Sample{series, best->view.header.t_max, best->view.header.last, Quality{q.back()}};
}

Result<std::size_t> ChunkStore::drop_partitions_before(TimestampNs cutoff_ns) {
  std::vector<FileEntry> doomed;
  {
    std::unique_lock lock(mu_);
    for (auto it = files_by_seq_.begin(); it != files_by_seq_.end();) {
      if (it->second.partition_end > cutoff_ns) {
        ++it;
        continue;
      }
      doomed.push_back(it->second);
      bytes_ -= it->second.file->bytes().size();
      --files_;
      it = files_by_seq_.erase(it);
    }
    if (doomed.empty()) return std::size_t{0};
    std::vector<SeriesId> touched;
    for (auto& [series, list] : by_series_) {
      const std::size_t before = list.size();
      std::erase_if(list, [&](const ChunkRef& c) {
        for (const auto& d : doomed)
          if (c.file == d.file) return true;
        return false;
      });
      if (list.size() != before) touched.push_back(series);
    }
    for (SeriesId s : touched) recompute_latest(s);
  }
  // Readers that still hold a ChunkRef keep the mapping alive; unlinking does not disturb it.
  for (const auto& d : doomed)
    if (Status s = env_.remove(dir_ / d.name); !s) return error(std::move(s));
  if (Status s = env_.sync_dir(dir_); !s) return error(std::move(s));
  return doomed.size();
}

Status ChunkStore::write_tombstones(const std::vector<Tombstone>& list) {
  return write_atomically(env_, dir_, std::string(kTombstones), encode_tombstones(list));
}

Status ChunkStore::add_tombstone(SeriesId series, std::uint64_t wal_sequence) {
  std::vector<Tombstone> list = tombstones();
  bool merged = false;
  for (auto& t : list)
    if (t.series == series) {  // a later delete supersedes an earlier one
      t.file_seq_below = next_file_seq_;
      t.wal_sequence_below = std::max(t.wal_sequence_below, wal_sequence);
      merged = true;
    }
  if (!merged) list.push_back(Tombstone{series, next_file_seq_, wal_sequence});
  if (Status s = write_tombstones(list); !s) return s;
  std::unique_lock lock(mu_);
  tombstones_ = std::move(list);
  ++tombstone_generation_;
  by_series_.erase(series);
  latest_.erase(series);
  return Status::ok();
}

std::vector<ChunkStore::Tombstone> ChunkStore::tombstones() const {
  std::shared_lock lock(mu_);
  return tombstones_;
}

ChunkStore::Damage ChunkStore::damage() const {
  std::shared_lock lock(mu_);
  return damage_;
}

std::vector<ChunkStore::PartitionFiles> ChunkStore::partitions() const {
  std::shared_lock lock(mu_);
  std::map<std::pair<std::int64_t, std::int64_t>, PartitionFiles> groups;
  for (const auto& [seq, f] : files_by_seq_) {
    auto& g = groups[{f.partition_start, f.partition_ns}];
    g.partition_start = f.partition_start;
    g.partition_ns = f.partition_ns;
    g.seqs.push_back(seq);  // files_by_seq_ is ordered, so seqs ascend
    g.bytes += f.file->bytes().size();
    if (f.damaged) g.compactable = false;
  }
  std::vector<PartitionFiles> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  // Groups of different lengths that overlap in time (the partition length was reconfigured).
  for (auto& a : out)
    for (const auto& b : out)
      if (&a != &b && a.partition_ns != b.partition_ns) {
        const std::int64_t a_end = files_by_seq_.at(a.seqs.front()).partition_end;
        const std::int64_t b_end = files_by_seq_.at(b.seqs.front()).partition_end;
        if (a.partition_start < b_end && b.partition_start < a_end) a.compactable = false;
      }
  return out;
}

std::map<SeriesId, std::vector<ChunkRef>> ChunkStore::chunks_in(const PartitionFiles& p) const {
  std::map<SeriesId, std::vector<ChunkRef>> out;
  std::shared_lock lock(mu_);
  std::vector<const MappedFile*> files;
  for (std::uint64_t seq : p.seqs)
    if (const auto it = files_by_seq_.find(seq); it != files_by_seq_.end()) files.push_back(it->second.file.get());
  for (const auto& [series, list] : by_series_)
    for (const auto& c : list)
      if (std::find(files.begin(), files.end(), c.file.get()) != files.end()) out[series].push_back(c);
  return out;
}

std::uint64_t ChunkStore::tombstone_generation() const {
  std::shared_lock lock(mu_);
  return tombstone_generation_;
}

Result<std::filesystem::path> ChunkStore::write_partition_tmp(const PartitionFiles& p,
                                                              std::span<const std::uint8_t> bytes,
                                                              std::size_t slice_bytes,
                                                              const std::function<bool(std::size_t)>& pace) {
  const auto tmp = dir_ / fmt::format("{}_compacted{}.tmp", p.partition_start, kSuffix);
  (void)env_.remove(tmp);  // a leftover of an abandoned attempt; absence is the normal case
  auto file = env_.open_appendable(tmp);
  if (!file) return error(file.error());
  Status written = Status::ok();
  for (std::size_t at = 0; at < bytes.size() && written; at += slice_bytes) {
    const std::size_t n = std::min(slice_bytes, bytes.size() - at);
    if (!pace(n)) {
      written = Status(StatusCode::kUnavailable, "historian: compaction stopped (store closing)");
      break;
    }
    written = (*file)->append(bytes.subspan(at, n));
  }
  if (written) written = (*file)->sync();
  file->reset();
  if (!written) {
    (void)env_.remove(tmp);  // best effort: a full disk gets its space back now
    return error(std::move(written));
  }
  return tmp;
}

Result<bool> ChunkStore::replace_partition(const PartitionFiles& p, const std::filesystem::path& tmp,
                                           std::uint64_t tombstone_generation) {
  bool unchanged = false;
  {
    std::shared_lock lock(mu_);
    std::vector<std::uint64_t> now;
    for (const auto& [seq, f] : files_by_seq_)
      if (f.partition_start == p.partition_start && f.partition_ns == p.partition_ns) now.push_back(seq);
    unchanged = now == p.seqs && tombstone_generation_ == tombstone_generation;
  }
  if (!unchanged) {
    (void)env_.remove(tmp);
    return false;
  }
  const std::uint64_t seq = next_file_seq_++;
  const std::string name = fmt::format("{}_{:08}{}", p.partition_start, seq, kSuffix);
  if (Status s = env_.rename(tmp, dir_ / name); !s) return error(std::move(s));
  // Durable before the old files go: from here a crash leaves the new file and some of the old
  // ones, which hold the same samples (reads deduplicate; the next compaction folds them again).
  if (Status s = env_.sync_dir(dir_); !s) return error(std::move(s));
  auto mapped = env_.map_file(dir_ / name);
  if (!mapped) return error(mapped.error());
  // Published before the old files are withdrawn: a reader sees both (deduplicated), never neither.
  if (Status s = add(*mapped, seq, name); !s) return error(std::move(s));
  std::vector<FileEntry> old;
  {
    std::unique_lock lock(mu_);
    for (std::uint64_t s : p.seqs) {
      const auto it = files_by_seq_.find(s);
      if (it == files_by_seq_.end()) continue;
      old.push_back(it->second);
      bytes_ -= it->second.file->bytes().size();
      --files_;
      files_by_seq_.erase(it);
    }
    std::vector<SeriesId> touched;
    for (auto& [series, list] : by_series_) {
      const std::size_t before = list.size();
      std::erase_if(list, [&](const ChunkRef& c) {
        for (const auto& f : old)
          if (c.file == f.file) return true;
        return false;
      });
      if (list.size() != before) touched.push_back(series);
    }
    for (SeriesId s : touched) recompute_latest(s);
  }
  for (const auto& f : old)
    if (Status s = env_.remove(dir_ / f.name); !s) return error(std::move(s));
  if (Status s = env_.sync_dir(dir_); !s) return error(std::move(s));
  return true;
}

std::uint64_t ChunkStore::bytes() const {
  std::shared_lock lock(mu_);
  return bytes_;
}

std::size_t ChunkStore::files() const {
  std::shared_lock lock(mu_);
  return files_;
}

}  // namespace resonance::historian
