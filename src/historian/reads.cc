#include "historian/reads.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "historian/codec.h"

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
    const auto d = static_cast<unsigned __int128>(static_cast<__int128>(x) - t0);
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
  // A regular block (the common case) is not decoded: t0 + i * ts_step, checked as decode_chunk
  // checks the decoded timestamps (ascending, first and last equal to t_min and t_max).
  std::int64_t t0 = 0, ts_step = 0;
  if (codec::grid_timestamps(c.ts_block, n, c.ts_base, t0, ts_step) && (ts_step > 0 || n == 1) &&
      t0 == c.header.t_min &&
      static_cast<__int128>(t0) + static_cast<__int128>(ts_step) * static_cast<__int128>(n - 1) ==
          c.header.t_max) {
    if (Status s = codec::decode_values(c.value_block, scratch.values); !s) return s;
    aggregate_grid(t0, n == 1 ? 1 : ts_step, scratch.values, from, to, step, out);
    return Status::ok();
  }
  scratch.ts.resize(n);
  if (Status s = codec::decode_timestamps(c.ts_block, scratch.ts, c.ts_base); !s) return s;
  if (Status s = codec::decode_values(c.value_block, scratch.values); !s) return s;
  // decode_chunk's checks (the fold's binary searches rely on ascending timestamps), with no
  // early exit in the loop; the first offender is looked for only on failure.
  const std::span<const TimestampNs> ts = scratch.ts;
  bool ascending = true;
  for (std::size_t i = 1; i < n; ++i) ascending &= ts[i] > ts[i - 1];
  if (!ascending) {
    std::size_t i = 1;
    while (ts[i] > ts[i - 1]) ++i;
    return Status(StatusCode::kCorruption,
                  fmt::format("chunk of series {}: timestamp {} not above its predecessor",
                              c.header.series, i));
  }
  if (n == 0 || ts.front() != c.header.t_min || ts.back() != c.header.t_max)
    return Status(
        StatusCode::kCorruption,
        fmt::format("chunk of series {}: timestamps disagree with t_min/t_max", c.header.series));
  aggregate_columns(ts, scratch.values, from, to, step, out);
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

namespace {
bool observation(const Sample& s) {
  return !std::isnan(s.value) && s.quality.severity() != Severity::kBad;
}
}  // namespace

void fill_frame_rows(std::span<const TimestampNs> grid, std::span<const Sample> samples, const FrameRequest& req,
                     double* values, std::uint8_t* valid, std::size_t stride) {
  const std::size_t n = samples.size();
  std::size_t next = 0;             // first sample with ts > the grid point
  const Sample* prev = nullptr;     // last observation at or before it
  std::size_t after = 0;            // first observation at or after `next` (linear fill)
  for (std::size_t row = 0; row < grid.size(); ++row) {
    const TimestampNs t = grid[row];
    for (; next < n && samples[next].ts_ns <= t; ++next)
      if (observation(samples[next])) prev = &samples[next];
    double v = std::numeric_limits<double>::quiet_NaN();
    bool ok = false;
    if (prev != nullptr && prev->ts_ns == t) {
      v = prev->value;
      ok = true;
    } else if (req.fill == FrameFill::kLocf) {
      if (prev != nullptr && t - prev->ts_ns <= req.max_staleness_ns) {
        v = prev->value;
        ok = true;
      }
    } else if (prev != nullptr && t - prev->ts_ns <= req.max_staleness_ns) {
      if (after < next) after = next;
      while (after < n && !observation(samples[after])) ++after;
      if (after < n && samples[after].ts_ns - t <= req.max_staleness_ns) {
        const Sample& a = samples[after];
        const double w = static_cast<double>(t - prev->ts_ns) / static_cast<double>(a.ts_ns - prev->ts_ns);
        v = prev->value + (a.value - prev->value) * w;
        ok = true;
      }
    }
    values[row * stride] = v;
    valid[row * stride] = ok ? 1 : 0;
  }
}

}  // namespace historian

namespace {
TimestampNs sat_sub(TimestampNs a, std::int64_t b) {
  return a < std::numeric_limits<TimestampNs>::min() + b ? std::numeric_limits<TimestampNs>::min()
                                                         : a - b;
}
TimestampNs sat_add(TimestampNs a, std::int64_t b) {
  return a > std::numeric_limits<TimestampNs>::max() - b ? std::numeric_limits<TimestampNs>::max()
                                                         : a + b;
}
}  // namespace

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
  Frame f;
  if (req.step_ns <= 0 || req.from_ns >= req.to_ns || req.max_staleness_ns <= 0) return f;
  for (TimestampNs t = req.from_ns; t < req.to_ns; t = sat_add(t, req.step_ns)) {
    f.grid.push_back(t);
    if (t == std::numeric_limits<TimestampNs>::max()) break;
  }
  f.columns = req.series.size();
  f.values.resize(f.grid.size() * f.columns);
  f.valid.resize(f.grid.size() * f.columns);
  if (f.grid.empty() || f.columns == 0) return f;
  // Rows [r0, r1) of every column: each series read over those rows' window only, in groups of
  // 8 columns whose rows are written together (one 64-byte line of values a row, not 8).
  auto fill_rows = [&](std::size_t r0, std::size_t r1) {
    constexpr std::size_t kGroup = 8;
    const std::span<const TimestampNs> grid = std::span(f.grid).subspan(r0, r1 - r0);
    const TimestampNs lo = sat_sub(grid.front(), req.max_staleness_ns);
    const TimestampNs hi = sat_add(sat_add(grid.back(), req.max_staleness_ns), 1);
    std::vector<double> values(kGroup * grid.size());
    std::vector<std::uint8_t> valid(kGroup * grid.size());
    for (std::size_t c0 = 0; c0 < f.columns; c0 += kGroup) {
      const std::size_t g = std::min(kGroup, f.columns - c0);
      for (std::size_t c = 0; c < g; ++c) {
        const auto samples = range(req.series[c0 + c], lo, hi, std::numeric_limits<std::size_t>::max());
        historian::fill_frame_rows(grid, samples, req, values.data() + c, valid.data() + c, g);
      }
      for (std::size_t r = 0; r < grid.size(); ++r) {
        const std::size_t at = (r0 + r) * f.columns + c0;
        std::copy_n(values.data() + r * g, g, f.values.data() + at);
        std::copy_n(valid.data() + r * g, g, f.valid.data() + at);
      }
    }
  };
  // A large frame is split by rows over two threads (each decodes only the chunks of its half;
  // one chunk a series at the seam is decoded by both): the machines this runs on have two cores
  // and a model's window is the one read a person waits for.
  constexpr std::size_t kParallelCells = 200'000;
  const std::size_t rows = f.grid.size();
  if (rows >= 2 && rows * f.columns >= kParallelCells) {
    std::jthread second([&] { fill_rows(rows / 2, rows); });  // joined even if this half throws
    fill_rows(0, rows / 2);
  } else {
    fill_rows(0, rows);
  }
  return f;
}

}  // namespace resonance
