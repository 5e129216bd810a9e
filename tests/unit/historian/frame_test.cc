// Frames by streaming (frame_fill.h, frame_read.cc): every cell must be what the plain rule
// (frame_rule.h) gives on the series' samples, whichever way the samples reach the column —
// regular chunks copied onto the grid, irregular or off-grid ones searched, the head's sealed
// chunks and open samples, overlapping sources merged by range() — and whichever rows a thread
// fills.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "frame_rule.h"
#include "historian/frame_fill.h"
#include "historian/historian_impl.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::reference_cell;
using testing::ScratchDir;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A run of samples fed to a column the way one source would feed it.
struct FedRun {
  bool regular = false;  // add_grid(t0, step, ...) rather than add(ts, ...)
  TimestampNs t0 = 0;
  std::int64_t step = 0;
  std::vector<TimestampNs> ts;
  std::vector<double> values;
  std::vector<std::uint32_t> quality;
};

void expect_cells(std::span<const TimestampNs> grid, std::span<const double> values, std::span<const std::uint8_t> valid,
                  std::span<const Sample> samples, const FrameRequest& req) {
  for (std::size_t r = 0; r < grid.size(); ++r) {
    const auto [ok, v] = reference_cell(samples, grid[r], req);
    ASSERT_EQ(valid[r] != 0, ok) << "row " << r << " t " << grid[r];
    if (ok) {
      ASSERT_EQ(values[r], v) << "row " << r << " t " << grid[r];
    } else {
      ASSERT_TRUE(std::isnan(values[r])) << "row " << r;
    }
  }
}

// Regular runs on the frame's grid (copied), on it with NaN or Bad samples, off it by a fraction of
// a step, at twice its step, and irregular runs, with gaps longer than the staleness between them:
// a column over any slice of the grid (as the two threads of a large frame fill it) holds the rule.
TEST(FrameColumn, RunsOfEveryShapeGiveWhatThePlainRuleGives) {
  std::mt19937_64 rng(5);
  constexpr std::int64_t kStep = 1000;
  std::vector<FedRun> runs;
  std::vector<Sample> samples;
  TimestampNs t = 10'000;
  for (int k = 0; k < 60; ++k) {
    FedRun run;
    const int shape = static_cast<int>(rng() % 5);
    const std::size_t n = 1 + rng() % 300;
    run.regular = shape != 4;
    run.t0 = shape == 2 ? t + 1 + static_cast<TimestampNs>(rng() % (kStep - 1)) : t;  // 2: off the grid
    run.step = shape == 3 ? 2 * kStep : kStep;
    for (std::size_t i = 0; i < n; ++i) {
      const TimestampNs ts = shape == 4 ? (i == 0 ? t : run.ts.back() + 1 + static_cast<TimestampNs>(rng() % 2500))
                                        : run.t0 + run.step * static_cast<TimestampNs>(i);
      const bool dirty = shape == 1 && rng() % 7 == 0;  // 1: on the grid, with NaN and Bad samples
      const double v = dirty && rng() % 2 == 0 ? kNaN : static_cast<double>(rng() % 1000) / 8;
      const std::uint32_t q = dirty && std::isfinite(v) ? Quality::kBad : rng() % 5 == 0 ? 0x40000000u : 0;
      run.ts.push_back(ts);
      run.values.push_back(v);
      run.quality.push_back(q);
      samples.push_back(Sample{1, ts, v, Quality{q}});
    }
    t = run.ts.back() + 1 + static_cast<TimestampNs>(rng() % 3 == 0 ? 10 * kStep : kStep / 2);
    t += (kStep - t % kStep) % kStep;  // the next run starts on the grid
    runs.push_back(std::move(run));
  }
  std::vector<TimestampNs> grid;
  for (TimestampNs g = 7'000; g < t + 5 * kStep; g += kStep) grid.push_back(g);
  for (const FrameFill fill : {FrameFill::kLocf, FrameFill::kLinear})
    for (const std::int64_t staleness : {kStep / 2, 2 * kStep + 1, 7 * kStep}) {
      const FrameRequest req{.step_ns = kStep, .fill = fill, .max_staleness_ns = staleness};
      for (const auto& [r0, r1] : {std::pair<std::size_t, std::size_t>{0, grid.size()}, {0, grid.size() / 2},
                                   {grid.size() / 2, grid.size()}, {101, 103}, {517, 518}}) {
        SCOPED_TRACE(::testing::Message() << "fill " << int(fill) << " staleness " << staleness << " rows " << r0
                                          << ".." << r1);
        const std::span<const TimestampNs> rows = std::span(grid).subspan(r0, r1 - r0);
        std::vector<double> values(rows.size(), 12345.0);
        std::vector<std::uint8_t> valid(rows.size(), 7);
        FrameColumn column(rows, req, values.data(), valid.data(), 1);
        for (const FedRun& run : runs) {
          if (run.regular)
            column.add_grid(run.t0, run.step, run.values, run.quality);
          else
            column.add(run.ts, run.values, run.quality);
        }
        column.finish();
        expect_cells(rows, values, valid, samples, req);
      }
    }
}

std::unique_ptr<HistorianImpl> open_impl(const HistorianOptions& o) {
  auto h = HistorianImpl::open(o, posix_env());
  EXPECT_TRUE(h) << h.error().to_string();
  return h ? std::move(*h) : nullptr;
}

void submit_all(Historian& h, std::vector<Sample> samples) {
  for (std::size_t i = 0; i < samples.size(); i += 997) {
    SampleBatch b;
    b.samples.assign(samples.begin() + static_cast<std::ptrdiff_t>(i),
                     samples.begin() + static_cast<std::ptrdiff_t>(std::min(samples.size(), i + 997)));
    ASSERT_TRUE(testing::submit_and_wait(h, std::move(b)));
  }
}

constexpr TimestampNs kT0 = 1'704'067'200'000'000'000;
constexpr std::int64_t kDt = 10'000'000;  // 100 Hz

// Samples of series `s` for ticks [from, to): every kind the frame path must read.
std::vector<Sample> series_samples(SeriesId s, int from, int to, std::mt19937_64& rng) {
  std::vector<Sample> out;
  for (int i = from; i < to; ++i) {
    TimestampNs ts = kT0 + i * kDt;
    switch (s) {
      case 1: break;                                      // on the frame's grid
      case 2: ts += static_cast<TimestampNs>(rng() % kDt); break;  // irregular
      case 3: ts += 3'000'000; break;                     // regular, off the grid
      case 4: if (i % 2) continue; break;                  // regular at half the rate
      case 5: if (i > 9'000 && i < 9'400) continue; break;  // a 4 s gap
      default: break;
    }
    const bool dirty = rng() % 61 == 0;
    const double v = dirty && rng() % 2 ? kNaN : std::round(std::sin(i * 0.01 + s) * 1000) / 10;
    out.push_back(Sample{s, ts, v, Quality{dirty && !std::isnan(v) ? Quality::kBad : 0u}});
  }
  return out;
}

// The engine's frame against the plain rule on range()'s samples and against the default
// Historian::frame (range() per series), bit for bit: series on the grid, irregular, off the grid,
// at half rate, with a gap, with overwritten samples (overlapping sources), and one never written;
// the samples spread over chunk files, sealed head chunks and the open buffers; large enough for
// two threads, and a small off-grid frame on one.
TEST(HistorianFrame, EngineFrameIsWhatThePlainRuleGives) {
  ScratchDir dir;
  HistorianOptions o = testing::fast_options(dir.path());
  o.chunk_samples = 256;
  o.chunk_flush_interval_ms = 3'600'000;  // flushed by hand below
  o.compaction_interval_ms = 0;
  auto h = open_impl(o);
  ASSERT_NE(h, nullptr);
  std::mt19937_64 rng(17);
  constexpr int kTicks = 36'000;
  auto write_ticks = [&](int from, int to) {
    std::vector<Sample> all;
    for (SeriesId s = 1; s <= 6; ++s) {
      auto part = series_samples(s, from, to, rng);
      all.insert(all.end(), part.begin(), part.end());
    }
    submit_all(*h, std::move(all));
  };
  write_ticks(0, 20'000);
  ASSERT_TRUE(h->flush_chunks(true));  // chunk files
  write_ticks(20'000, kTicks);          // sealed head chunks and the open buffers
  // Series 6 rewrites samples already in a chunk file and in sealed chunks, out of order: its
  // sources overlap, so its column goes through range()'s merge.
  std::vector<Sample> rewrites;
  for (int i : {30'100, 5'000, 25'000, 5'001, 19'999})
    rewrites.push_back(Sample{6, kT0 + i * kDt, -1.5 * i, Quality{}});
  submit_all(*h, rewrites);

  for (const FrameFill fill : {FrameFill::kLocf, FrameFill::kLinear}) {
    FrameRequest req{.series = {1, 2, 3, 4, 5, 6, 7},
                     .from_ns = kT0 + 250 * kDt,
                     .to_ns = kT0 + (kTicks + 20) * kDt,
                     .step_ns = kDt,
                     .fill = fill,
                     .max_staleness_ns = 2 * kDt};
    for (const bool small : {false, true}) {
      if (small) {  // one thread, a grid the data are not on
        req.from_ns = kT0 + 19'000 * kDt + 1'234'567;
        req.to_ns = kT0 + 21'000 * kDt;
        req.step_ns = 7'000'000;
        req.max_staleness_ns = 15'000'000;
      }
      SCOPED_TRACE(::testing::Message() << "fill " << int(fill) << (small ? " small" : " large"));
      const Frame f = h->frame(req);
      const Frame plain = h->Historian::frame(req);
      ASSERT_EQ(f.grid, plain.grid);
      ASSERT_EQ(f.columns, req.series.size());
      if (!small) {
        ASSERT_GE(f.grid.size() * f.columns, kParallelFrameCells) << "too small for two threads";
      }
      ASSERT_EQ(f.valid, plain.valid);
      for (std::size_t k = 0; k < f.values.size(); ++k)
        ASSERT_EQ(std::bit_cast<std::uint64_t>(f.values[k]), std::bit_cast<std::uint64_t>(plain.values[k])) << k;
      std::size_t valid = 0;
      for (std::size_t c = 0; c < f.columns; ++c) {
        SCOPED_TRACE(::testing::Message() << "series " << req.series[c]);
        const auto samples = h->range(req.series[c], std::numeric_limits<TimestampNs>::min(),
                                      std::numeric_limits<TimestampNs>::max(), std::numeric_limits<std::size_t>::max());
        std::vector<double> values;
        std::vector<std::uint8_t> valid_column;
        for (std::size_t r = 0; r < f.grid.size(); ++r) {
          values.push_back(f.values[r * f.columns + c]);
          valid_column.push_back(f.valid[r * f.columns + c]);
          valid += f.valid[r * f.columns + c];
        }
        expect_cells(f.grid, values, valid_column, samples, req);
      }
      EXPECT_GT(valid, f.values.size() / 2);
      EXPECT_LT(valid, f.values.size());
    }
  }
}

}  // namespace
}  // namespace resonance::historian
