#include "historian/reads.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "historian/codec.h"
#include "historian/frame_fill.h"

namespace resonance {
namespace historian {

void fold_sample(AggregateBucket& b, TimestampNs /*ts*/, double v) {
  if (b.count == 0) b.first = v;
  b.last = v;
  ++b.count;
  if (std::isnan(v)) return;
  if (b.value_count == 0) {
    b.min = b.max = v;
  } else {
    b.min = std::min(b.min, v);
    b.max = std::max(b.max, v);
  }
  b.sum += v;
  ++b.value_count;
}

void fold_summary(AggregateBucket& b, const AggregateBucket& later) {
  if (later.count == 0) return;
  if (b.count == 0) b.first = later.first;
  b.last = later.last;
  b.count += later.count;
  if (later.value_count == 0) return;
  if (b.value_count == 0) {
    b.min = later.min;
    b.max = later.max;
  } else {
    b.min = std::min(b.min, later.min);
    b.max = std::max(b.max, later.max);
  }
  b.sum += later.sum;
  b.value_count += later.value_count;
}

void aggregate_samples(std::span<const Sample> samples, TimestampNs from, TimestampNs to,
                       std::int64_t step, std::vector<AggregateBucket>& out) {
  for (const Sample& s : samples) {
    const std::int64_t k = bucket_of(s.ts_ns, from, to, step);
    if (k < 0) continue;
    const TimestampNs start = from + k * step;
    if (out.empty() || out.back().start != start) out.push_back(AggregateBucket{.start = start});
    fold_sample(out.back(), s.ts_ns, s.value);
  }
}

namespace {

// Folds values[i, j) (one bucket's slice, in time order) into the bucket starting at `start`.
void fold_slice(std::span<const double> values, std::size_t i, std::size_t j, TimestampNs start,
                std::vector<AggregateBucket>& out) {
  AggregateBucket b{.start = start, .count = j - i, .first = values[i], .last = values[j - 1]};
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  std::uint64_t n = 0;
  for (std::size_t k = i; k < j; ++k) {
    const double v = values[k];
    if (std::isnan(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
    ++n;
  }
  b.value_count = n;
  if (n > 0) {
    // min/max as fold_sample keeps them: the first of equal values, so -0.0 vs 0.0 agree too.
    b.min = lo;
    b.max = hi;
    b.sum = sum;
  }
  if (out.empty() || out.back().start != start) out.push_back(AggregateBucket{.start = start});
  fold_summary(out.back(), b);
}

// The end of the bucket starting at `start` (< to): start + step, or `to` for the last one.
TimestampNs bucket_end(TimestampNs start, TimestampNs to, std::int64_t step) {
  // start < to, so the unsigned difference is exact where the signed one could overflow.
  const bool last = static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(start) <=
                    static_cast<std::uint64_t>(step);
  return last ? to : start + step;
}

}  // namespace

void aggregate_columns(std::span<const TimestampNs> ts, std::span<const double> values,
                       TimestampNs from, TimestampNs to, std::int64_t step,
                       std::vector<AggregateBucket>& out) {
  auto i = static_cast<std::size_t>(std::lower_bound(ts.begin(), ts.end(), from) - ts.begin());
  const auto end =
      static_cast<std::size_t>(std::lower_bound(ts.begin(), ts.end(), to) - ts.begin());
  while (i < end) {
    const TimestampNs start = from + bucket_of(ts[i], from, to, step) * step;
    // A binary search, not a scan: the scan was a second pass over every timestamp.
    const auto j = static_cast<std::size_t>(
        std::lower_bound(ts.begin() + static_cast<std::ptrdiff_t>(i),
                         ts.begin() + static_cast<std::ptrdiff_t>(end), bucket_end(start, to, step)) -
        ts.begin());
    fold_slice(values, i, j, start, out);
    i = j;
  }
}

void aggregate_grid(TimestampNs t0, std::int64_t ts_step, std::span<const double> values, TimestampNs from,
                    TimestampNs to, std::int64_t step, std::vector<AggregateBucket>& out) {
  const std::size_t n = values.size();
  // The first sample at or after x: ceil((x - t0) / ts_step), clamped to [0, n].
  auto first_at_or_after = [&](TimestampNs x) -> std::size_t {
    if (x <= t0) return 0;
    __extension__ using Wide = __int128;  // exact: x - t0 may overflow int64
    __extension__ using UWide = unsigned __int128;
    const auto d = static_cast<UWide>(static_cast<Wide>(x) - t0);
    const auto idx = (d + static_cast<std::uint64_t>(ts_step) - 1) / static_cast<std::uint64_t>(ts_step);
    return idx >= n ? n : static_cast<std::size_t>(idx);
  };
  std::size_t i = first_at_or_after(from);
  const std::size_t end = first_at_or_after(to);
  while (i < end) {
    const TimestampNs ts = t0 + ts_step * static_cast<std::int64_t>(i);
    const TimestampNs start = from + bucket_of(ts, from, to, step) * step;
    const std::size_t j = std::min(end, first_at_or_after(bucket_end(start, to, step)));
    fold_slice(values, i, j, start, out);
    i = j;
  }
}

Status aggregate_chunk(const ChunkView& c, TimestampNs from, TimestampNs to, std::int64_t step,
                       ChunkColumns& scratch, std::vector<AggregateBucket>& out) {
  const std::size_t n = c.header.count;
  scratch.values.resize(n);
  // A regular block (the common case) is not decoded: t0 + i * ts_step.
  std::int64_t t0 = 0, ts_step = 0;
  if (chunk_grid(c, t0, ts_step)) {
    if (Status s = codec::decode_values(c.value_block, scratch.values); !s) return s;
    aggregate_grid(t0, n == 1 ? 1 : ts_step, scratch.values, from, to, step, out);
    return Status::ok();
  }
  scratch.ts.resize(n);
  if (Status s = codec::decode_timestamps(c.ts_block, scratch.ts, c.ts_base); !s) return s;
  if (Status s = codec::decode_values(c.value_block, scratch.values); !s) return s;
  // The fold's binary searches rely on ascending timestamps.
  if (Status s = check_chunk_timestamps(c, scratch.ts); !s) return s;
  aggregate_columns(scratch.ts, scratch.values, from, to, step, out);
  return Status::ok();
}

AggregateBucket chunk_summary(const ChunkHeader& h, TimestampNs bucket_start) {
  return AggregateBucket{.start = bucket_start,
                         .count = h.count,
                         .value_count = h.value_count,
                         .min = h.min,
                         .max = h.max,
                         .sum = h.sum,
                         .first = h.first,
                         .last = h.last};
}

}  // namespace historian

std::vector<AggregateBucket> Historian::aggregate(SeriesId series, TimestampNs from_ns,
                                                  TimestampNs to_ns, std::int64_t step_ns) const {
  std::vector<AggregateBucket> out;
  if (step_ns <= 0 || from_ns >= to_ns) return out;
  const auto samples = range(series, from_ns, to_ns, std::numeric_limits<std::size_t>::max());
  historian::aggregate_samples(samples, from_ns, to_ns, step_ns, out);
  return out;
}

Status Historian::delete_series(SeriesId series) {
  return Status(StatusCode::kFailedPrecondition,
                fmt::format("historian: this store cannot delete series ({} not deleted)", series));
}

Frame Historian::frame(const FrameRequest& req) const {
  return historian::build_frame(req, [this](SeriesId series, TimestampNs lo, TimestampNs hi,
                                            historian::FrameColumn& column, historian::ChunkColumns&) {
    column.add(range(series, lo, hi, std::numeric_limits<std::size_t>::max()));
  });
}

}  // namespace resonance
