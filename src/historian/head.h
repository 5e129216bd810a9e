#pragma once
// The head: every durable sample, per series, ordered by timestamp, in memory. Later issues seal
// it into compressed chunks; for now it is the whole queryable store.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "resonance/core/sample.h"

namespace resonance::historian {

// Thread-safe: one writer (the flusher, or recovery before the flusher starts) and any number of
// concurrent readers.
class Head {
 public:
  // Inserts in timestamp order. A sample whose (series, ts_ns) is already present replaces it
  // (last write wins), so a retransmitted batch is stored exactly once. Returns how many samples
  // were new (the rest replaced existing ones).
  std::size_t insert(std::span<const Sample> samples);

  std::optional<Sample> latest(SeriesId series) const;  // the sample with the largest ts_ns
  // from_ns <= ts < to_ns, ascending, at most `limit`.
  std::vector<Sample> range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                            std::size_t limit) const;

  std::size_t sample_count() const { return sample_count_.load(std::memory_order_relaxed); }
  std::size_t series_count() const { return series_count_.load(std::memory_order_relaxed); }

 private:
  // Columns rather than an array of Sample: 20 bytes per point instead of 32, and the layout
  // the chunk encoder will want.
  struct SeriesColumns {
    std::vector<TimestampNs> ts_ns;  // strictly ascending
    std::vector<double> values;
    std::vector<std::uint32_t> quality;
  };
  void insert_one(SeriesColumns& cols, const Sample& s, std::size_t& added);

  mutable std::shared_mutex mu_;
  std::unordered_map<SeriesId, SeriesColumns> series_;  // guarded by mu_
  // Mirrors of the sizes, written under mu_ (exclusive) and read without it, so stats() and
  // the admission check in submit() never wait for a long insert.
  std::atomic<std::size_t> sample_count_{0};
  std::atomic<std::size_t> series_count_{0};
};

}  // namespace resonance::historian
