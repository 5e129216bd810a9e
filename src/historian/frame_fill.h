#pragma once
// The frame rule (Frame, FrameRequest in historian.h; docs/api.md, /frame) as a stream: a series'
// samples go in, in time order, from whatever holds them (a Sample vector, decoded chunk columns,
// a regular chunk's values), and each grid cell is written once, as soon as the observations
// either side of it are known. No per-series Sample vector is built. Pure; one FrameColumn per
// thread.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "historian/chunk_format.h"
#include "resonance/historian/historian.h"

namespace resonance::historian {

// One series' column of a frame over the grid points `grid` (consecutive points of the frame's
// grid, so grid[r] = grid[0] + r * req.step_ns):
// cell of row r at values[r * stride], valid[r * stride]. Samples must arrive with strictly
// ascending timestamps across all calls; NaN values and Bad quality are not observations. Samples
// outside the rows' staleness window may be given: they change no cell.
class FrameColumn {
 public:
  FrameColumn(std::span<const TimestampNs> grid, const FrameRequest& req, double* values, std::uint8_t* valid,
              std::size_t stride)
      : grid_(grid), step_(req.step_ns), staleness_(static_cast<std::uint64_t>(req.max_staleness_ns)),
        linear_(req.fill == FrameFill::kLinear), values_(values), valid_(valid), stride_(stride) {}

  void add(TimestampNs ts, double value, std::uint32_t quality) {
    if (observation(value, quality)) observe(ts, value);
  }
  void add(std::span<const Sample> samples);
  void add(std::span<const TimestampNs> ts, std::span<const double> values, std::span<const std::uint32_t> quality);
  // A regular chunk: timestamp i is t0 + i * ts_step (ts_step > 0, or any with one value). When its
  // grid is the frame's (same step, a common point) and every sample is an observation, the rows
  // it covers are copied, not searched.
  void add_grid(TimestampNs t0, std::int64_t ts_step, std::span<const double> values,
                std::span<const std::uint32_t> quality);
  // Writes the rows after the last observation. Call once, after the last add.
  void finish() { fill_rows_before_next(nullptr); }

  static bool observation(double value, std::uint32_t quality) {
    // Severity is the top two bits (core/sample.h): 10 and 11 are Bad.
    return !std::isnan(value) && (quality & 0x80000000u) == 0;
  }

 private:
  struct Observation {
    TimestampNs ts;
    double value;
  };
  void observe(TimestampNs ts, double value) {
    const Observation next{ts, value};
    if (row_ < grid_.size() && grid_[row_] < ts) fill_rows_before_next(&next);
    prev_ = next;
    has_prev_ = true;
  }
  // Rows whose grid point is before `next` (every remaining row when null): their last
  // observation is prev_, their next one `next`.
  void fill_rows_before_next(const Observation* next);
  // Rows row_, row_ + 1, ... are on the observations `in`, one each (a regular chunk on the grid).
  void copy_rows(std::span<const double> in);
  void set(std::size_t row, double v, bool ok) {
    values_[row * stride_] = v;
    valid_[row * stride_] = ok ? 1 : 0;
  }

  std::span<const TimestampNs> grid_;
  std::int64_t step_;
  std::uint64_t staleness_;
  bool linear_;
  double* values_;
  std::uint8_t* valid_;
  std::size_t stride_;
  std::size_t row_ = 0;  // first row not written yet
  Observation prev_{0, 0};
  bool has_prev_ = false;
};

// Feeds one series' samples with lo <= ts < hi (more may be given: see FrameColumn) into `column`,
// in time order; `scratch` is the calling thread's, reused between calls.
using FrameFeed =
    std::function<void(SeriesId series, TimestampNs lo, TimestampNs hi, FrameColumn& column, ChunkColumns& scratch)>;

// The frame of `req`: builds the grid, then every column from `feed`, written straight into the
// row-major cells. A frame of at least kParallelFrameCells cells is split by rows over the calling
// thread and one more (`feed` must then be safe to call from two threads at once).
Frame build_frame(const FrameRequest& req, const FrameFeed& feed);
inline constexpr std::size_t kParallelFrameCells = 200'000;

}  // namespace resonance::historian
