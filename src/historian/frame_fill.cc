#include "historian/frame_fill.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>

namespace resonance::historian {

// Exact arithmetic on timestamps and counts (GCC's 128-bit integer; __extension__: no pedantic warning).
__extension__ using Wide = __int128;

void FrameColumn::fill_rows_before_next(const Observation* next) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const auto u = [](TimestampNs t) { return static_cast<std::uint64_t>(t); };
  for (; row_ < grid_.size(); ++row_) {
    const TimestampNs t = grid_[row_];
    if (next != nullptr && t >= next->ts) return;
    if (!has_prev_) {
      set(row_, kNaN, false);
      continue;
    }
    // t >= prev_.ts (the rows before prev_ were written when it arrived), so the unsigned
    // difference is exact where the signed one could overflow.
    const std::uint64_t since = u(t) - u(prev_.ts);
    if (since == 0 || (since <= staleness_ && !linear_)) {
      set(row_, prev_.value, true);
    } else if (since > staleness_ || next == nullptr || u(next->ts) - u(t) > staleness_) {
      set(row_, kNaN, false);
    } else {
      // The same expression as the rule's (docs/api.md), so the cell is the same double.
      const double w = static_cast<double>(since) / static_cast<double>(u(next->ts) - u(prev_.ts));
      set(row_, prev_.value + (next->value - prev_.value) * w, true);
    }
  }
}

void FrameColumn::add(std::span<const Sample> samples) {
  for (const Sample& s : samples) add(s.ts_ns, s.value, s.quality.code);
}

void FrameColumn::add(std::span<const TimestampNs> ts, std::span<const double> values,
                      std::span<const std::uint32_t> quality) {
  for (std::size_t i = 0; i < ts.size(); ++i) add(ts[i], values[i], quality[i]);
}

void FrameColumn::add_grid(TimestampNs t0, std::int64_t ts_step, std::span<const double> values,
                           std::span<const std::uint32_t> quality) {
  const std::size_t n = values.size();
  // Timestamps as the grid timestamp decoder computes them (wrapping); the chunk's checks against
  // t_min / t_max rule the wrap out.
  const auto ts_at = [&](std::size_t i) {
    return static_cast<TimestampNs>(static_cast<std::uint64_t>(t0) + static_cast<std::uint64_t>(ts_step) * i);
  };
  bool all_observations = true;
  for (std::size_t i = 0; i < n; ++i) all_observations &= observation(values[i], quality[i]);
  const Wide offset = static_cast<Wide>(t0) - (grid_.empty() ? 0 : grid_[0]);
  if (n < 2 || !all_observations || ts_step != step_ || grid_.empty() || offset % step_ != 0) {
    for (std::size_t i = 0; i < n; ++i) add(ts_at(i), values[i], quality[i]);
    return;
  }
  // Sample i sits on row first + i. The rows from t0 up to (not including) the last sample are each
  // on an observation, so each is that sample's value; rows before t0 are the first observe()'s,
  // and the last sample's row waits for the next observation like any other.
  const Wide first = offset / step_;
  observe(t0, values[0]);
  const Wide last = first + static_cast<Wide>(n - 1);
  const std::size_t end =
      last <= static_cast<Wide>(row_) ? row_ : static_cast<std::size_t>(std::min<Wide>(last, grid_.size()));
  if (end > row_) copy_rows(values.subspan(static_cast<std::size_t>(static_cast<Wide>(row_) - first), end - row_));
  row_ = end;
  prev_ = {ts_at(n - 1), values[n - 1]};
}

void FrameColumn::copy_rows(std::span<const double> in) {
  // Cells a row apart are `stride_` doubles apart (a page every few rows), which the hardware
  // prefetcher does not follow across pages: each is fetched kAhead rows early, for writing.
  constexpr std::size_t kAhead = 16;
  double* const out = values_;  // locals: a store through valid_ (bytes) could alias the members
  std::uint8_t* const ok = valid_;
  const std::size_t stride = stride_, rows = grid_.size();
  for (std::size_t i = 0, r = row_; i < in.size(); ++i, ++r) {
    if (r + kAhead < rows) {  // prefetches stay inside the column's rows
      __builtin_prefetch(out + (r + kAhead) * stride, 1);
      __builtin_prefetch(ok + (r + kAhead) * stride, 1);
    }
    out[r * stride] = in[i];
    ok[r * stride] = 1;
  }
}

namespace {
TimestampNs sat_sub(TimestampNs a, std::int64_t b) {
  return a < std::numeric_limits<TimestampNs>::min() + b ? std::numeric_limits<TimestampNs>::min() : a - b;
}
TimestampNs sat_add(TimestampNs a, std::int64_t b) {
  return a > std::numeric_limits<TimestampNs>::max() - b ? std::numeric_limits<TimestampNs>::max() : a + b;
}
}  // namespace

Frame build_frame(const FrameRequest& req, const FrameFeed& feed) {
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
  // Rows [r0, r1) of columns [c0, c1), each series read over those rows' staleness window only.
  // Cells are written in place (stride = columns): consecutive columns share cache lines, and one
  // column's lines of half the rows (5,000: 320 kB) stay in L2 for the next. The earlier groups of
  // 8 columns in a scratch, copied out a row at a time, spent a memmove call per row and group.
  auto fill = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, ChunkColumns& scratch) {
    const std::span<const TimestampNs> grid = std::span(f.grid).subspan(r0, r1 - r0);
    const TimestampNs lo = sat_sub(grid.front(), req.max_staleness_ns);
    const TimestampNs hi = sat_add(sat_add(grid.back(), req.max_staleness_ns), 1);
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t at = r0 * f.columns + c;
      FrameColumn column(grid, req, f.values.data() + at, f.valid.data() + at, f.columns);
      feed(req.series[c], lo, hi, column, scratch);
      column.finish();
    }
  };
  // A large frame is split by rows in two halves (each decodes only the chunks of its half; one
  // chunk a series at the seam is decoded by both) and by columns in groups of 16, and the calling
  // thread and one more take these pieces in turn until none is left: the machines this runs on
  // have two cores, and a model's window is the one read a person waits for. Taking turns, rather
  // than a fixed half each, means a second thread that gets no core (the other one busy) leaves
  // its pieces to the caller instead of holding the frame back by a whole half.
  const std::size_t rows = f.grid.size();
  const std::size_t halves = rows >= 2 && rows * f.columns >= kParallelFrameCells ? 2 : 1;
  constexpr std::size_t kGroup = 16;
  const std::size_t pieces = halves * ((f.columns + kGroup - 1) / kGroup);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    ChunkColumns scratch;
    for (std::size_t p = next.fetch_add(1, std::memory_order_relaxed); p < pieces;
         p = next.fetch_add(1, std::memory_order_relaxed)) {
      const std::size_t half = p % halves, c0 = p / halves * kGroup;
      const std::size_t r0 = half == 0 ? 0 : rows / 2, r1 = half + 1 == halves ? rows : rows / 2;
      fill(r0, r1, c0, std::min(f.columns, c0 + kGroup), scratch);
    }
  };
  if (halves == 2) {
    std::jthread second(work);  // joined even if the caller's pieces throw
    work();
  } else {
    work();
  }
  return f;
}

}  // namespace resonance::historian
