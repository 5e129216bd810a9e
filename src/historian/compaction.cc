// Compaction: a partition that received several chunk files (one per flush, plus late data and
// backfill, which overlap the others in time) is rewritten as one file holding exactly what reads
// return — per series the merge of its chunks, the newest winning on equal timestamps, tombstoned
// series left out — cut again into chunks of chunk_samples. Afterwards aggregations answer those
// chunks from their statistics again instead of decoding overlapping ones, and a query opens one
// file per partition.
//
// Concurrency: the merge and the (paced) write of the new file run without any engine lock; only
// the swap takes flush_mu_, and ChunkStore::replace_partition refuses it if a flush, retention or
// a delete changed the partition meanwhile. The chunk flusher is never held up for longer than
// a rename, a directory sync and unlinks.

#include <algorithm>
#include <chrono>
#include <limits>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "historian/historian_impl.h"

namespace resonance::historian {

namespace {
constexpr std::size_t kWriteSliceBytes = 256 << 10;
}  // namespace

bool HistorianImpl::pace_compaction(MonoTime started, std::uint64_t& paced_bytes, std::size_t bytes) {
  paced_bytes += bytes;
  std::unique_lock lock(compaction_mu_);
  if (compaction_closing_) return false;
  if (options_.compaction_bytes_per_s == 0) return true;
  // Token bucket without a burst: byte k may go at started + k / rate.
  const auto due = started + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                 double(paced_bytes) * 1e9 / double(options_.compaction_bytes_per_s)));
  compaction_cv_.wait_until(lock, due, [this] { return compaction_closing_; });
  return !compaction_closing_;
}

Result<CompactionReport> HistorianImpl::compact(bool include_newest) {
  std::lock_guard compact_lock(compact_mu_);
  CompactionReport report;
  const auto partitions = store_->partitions();
  if (partitions.empty()) return report;
  const std::int64_t newest = partitions.back().partition_start;
  const MonoTime started = mono_now();
  std::uint64_t paced = 0;
  auto pace = [&](std::size_t n) { return pace_compaction(started, paced, n); };

  for (const auto& p : partitions) {
    if (p.seqs.size() < options_.compaction_min_files || !p.compactable) continue;
    if (!include_newest && p.partition_start == newest) continue;
    const std::uint64_t generation = store_->tombstone_generation();
    const auto by_series = store_->chunks_in(p);
    ChunkFileBuilder builder(p.partition_start, p.partition_ns);
    std::vector<std::uint8_t> encoded;
    std::uint64_t samples_out = 0;
    for (const auto& [series, refs] : by_series) {
      std::vector<SampleRun> runs;
      for (const auto& c : refs) {
        if (!pace(c.view.whole.size()))
          return error(StatusCode::kUnavailable, "historian: compaction stopped (store closing)");
        SampleRun r{c.rank, {}};
        // Chunks were verified when their file was opened; a failure now is a bug or bad memory,
        // and the partition must not be rewritten without the samples.
        if (Status s = decode_chunk_samples(c.view, std::numeric_limits<TimestampNs>::min(),
                                            std::numeric_limits<TimestampNs>::max(), r.samples);
            !s)
          return error(s.code(), fmt::format("historian: compacting partition {}: series {}: {}", p.partition_start,
                                             series, s.message()));
        runs.push_back(std::move(r));
      }
      const auto merged = merge_runs(runs, std::numeric_limits<std::size_t>::max());
      std::vector<TimestampNs> ts;
      std::vector<double> values;
      std::vector<std::uint32_t> quality;
      for (std::size_t at = 0; at < merged.size(); at += options_.chunk_samples) {
        const std::size_t n = std::min(options_.chunk_samples, merged.size() - at);
        ts.clear();
        values.clear();
        quality.clear();
        for (std::size_t i = at; i < at + n; ++i) {
          ts.push_back(merged[i].ts_ns);
          values.push_back(merged[i].value);
          quality.push_back(merged[i].quality.code);
        }
        encoded.clear();
        encode_chunk(series, ts, values, quality, encoded);
        builder.add(series, encoded);
      }
      samples_out += merged.size();
    }
    const auto bytes = builder.finish();
    auto tmp = store_->write_partition_tmp(p, bytes, kWriteSliceBytes, pace);
    if (!tmp) return error(tmp.error());
    Result<bool> replaced = false;
    {
      std::lock_guard flush_lock(flush_mu_);
      replaced = store_->replace_partition(p, *tmp, generation);
    }
    if (!replaced) return error(replaced.error());
    if (!*replaced) {
      ++report.abandoned;
      continue;
    }
    ++report.partitions;
    report.files_in += p.seqs.size();
    report.bytes_in += p.bytes;
    report.bytes_out += bytes.size();
    report.samples_out += samples_out;
    std::lock_guard lock(compaction_mu_);
    ++compactions_;
    compaction_bytes_written_ += bytes.size();
  }
  if (report.partitions > 0)
    spdlog::info("historian: compaction folded {} files of {} partitions into one each ({} -> {} bytes, {} samples)",
                 report.files_in, report.partitions, report.bytes_in, report.bytes_out, report.samples_out);
  return report;
}

void HistorianImpl::compaction_loop() {
  std::unique_lock lock(compaction_mu_);
  while (!compaction_closing_) {
    compaction_cv_.wait_for(lock, std::chrono::milliseconds(options_.compaction_interval_ms),
                            [this] { return compaction_closing_; });
    if (compaction_closing_) break;
    lock.unlock();
    auto r = compact(false);
    lock.lock();
    if (!r && !compaction_closing_) {
      if (compaction_error_.empty()) spdlog::error("historian: compaction failed (will retry): {}", r.error().to_string());
      compaction_error_ = r.error().to_string();
    } else if (r) {
      compaction_error_.clear();
    }
  }
}

}  // namespace resonance::historian
