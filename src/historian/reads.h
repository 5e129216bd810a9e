#pragma once
// Query helpers shared by the engine and the Historian contract's default implementations: folding
// samples into buckets and aligning series on a grid (frame_fill.h). Pure; thread-safe.

#include <span>
#include <vector>

#include "historian/chunk_format.h"
#include "resonance/historian/historian.h"

namespace resonance::historian {

// Bucket index of ts, or -1 when ts is outside [from, to).
inline std::int64_t bucket_of(TimestampNs ts, TimestampNs from, TimestampNs to, std::int64_t step) {
  if (ts < from || ts >= to) return -1;
  return (ts - from) / step;
}

// Folds one sample into a bucket (samples must arrive in ascending time per bucket).
void fold_sample(AggregateBucket& b, TimestampNs ts, double value);
// Folds a bucket-sized summary that lies after everything already in `b`.
void fold_summary(AggregateBucket& b, const AggregateBucket& later);

// Aggregates samples sorted by time.
void aggregate_samples(std::span<const Sample> samples, TimestampNs from, TimestampNs to,
                       std::int64_t step, std::vector<AggregateBucket>& out);

// The same over columns (ts ascending): each bucket's slice is folded in one tight loop, without
// building samples first. For a chunk that no other source overlaps (no deduplication needed).
void aggregate_columns(std::span<const TimestampNs> ts, std::span<const double> values,
                       TimestampNs from, TimestampNs to, std::int64_t step,
                       std::vector<AggregateBucket>& out);

// The same for values on a regular grid, timestamp i = t0 + i * ts_step (ts_step > 0): bucket
// boundaries by division instead of timestamps. Same buckets as aggregate_columns on those
// timestamps.
void aggregate_grid(TimestampNs t0, std::int64_t ts_step, std::span<const double> values, TimestampNs from,
                    TimestampNs to, std::int64_t step, std::vector<AggregateBucket>& out);

// One chunk-file chunk that no other source overlaps, folded into buckets: its timestamps and
// values are decoded into `scratch` (not its quality: aggregation reads none; not its timestamps
// when they are a regular grid, the common case) and checked as decode_chunk checks them, then
// folded by aggregate_columns or aggregate_grid. Same buckets as decode_chunk plus
// aggregate_columns, bit for bit.
Status aggregate_chunk(const ChunkView& chunk, TimestampNs from, TimestampNs to, std::int64_t step,
                       ChunkColumns& scratch, std::vector<AggregateBucket>& out);

// The bucket starting at `bucket_start` of a chunk that lies inside it, from the chunk header's
// statistics, without decoding.
AggregateBucket chunk_summary(const ChunkHeader& header, TimestampNs bucket_start);

}  // namespace resonance::historian
