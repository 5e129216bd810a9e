// The window rule and the column names shared by training and live inference.

#include "resonance/models/window_features.h"

#include <gtest/gtest.h>

#include "resonance/models/inference.h"

namespace resonance::models {
namespace {

TEST(SelectWindow, PicksWhatTheLiveRingPicks) {
  // Irregular timestamps, a ring large enough to hold them all: the history rule and the ring rule
  // must select the same samples for every window end and length, boundaries included.
  WindowInput history;
  WindowRing ring(64);
  TimestampNs t = 1'000;
  for (int i = 0; i < 40; ++i) {
    t += 100 + (i * 37) % 250;
    history.ts_ns.push_back(t);
    history.values.push_back(i * 0.5);
    ring.push(t, i * 0.5);
  }
  WindowInput a, b;
  for (TimestampNs to :
       {TimestampNs{0}, history.ts_ns[0], history.ts_ns[7] + 1, history.ts_ns[20], t, t + 500}) {
    for (std::int64_t window : {0LL, 1LL, 100LL, 250LL, 1'000LL, 100'000LL}) {
      select_window(history, to, window, a);
      ring.window(to, window, b);
      EXPECT_EQ(a.ts_ns, b.ts_ns) << "to " << to << " window " << window;
      EXPECT_EQ(a.values, b.values) << "to " << to << " window " << window;
    }
  }
  // The boundary: a sample exactly `window` before `to` is out, one at `to` is in.
  select_window(history, history.ts_ns[5], history.ts_ns[5] - history.ts_ns[4], a);
  EXPECT_EQ(a.ts_ns, (std::vector<TimestampNs>{history.ts_ns[5]}));
}

TEST(WindowColumn, NameSaysSeriesFeatureAndWindowAndReadsBack) {
  const WindowColumn c{"plant1/hall/line1/cnc-01/spindle_load", "slope", 30'000'000'000};
  EXPECT_EQ(window_column_name(c), "plant1/hall/line1/cnc-01/spindle_load:slope:30000000000ns");
  const auto back = parse_window_column(window_column_name(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->series, c.series);
  EXPECT_EQ(back->feature, "slope");
  EXPECT_EQ(back->window_ns, c.window_ns);
  for (const char* not_a_column : {"s2_mean", "a/b:mean", "a/b:mean:30s", "a/b:median:5ns",
                                   ":mean:5ns", "a/b:mean:-5ns", "a/b:mean:ns", "a/b:derived:5ns"})
    EXPECT_FALSE(parse_window_column(not_a_column)) << not_a_column;
}

TEST(WindowFeature, KnowsItsFeatures) {
  for (const char* f : {"last", "value", "mean", "std", "slope", "min", "max"})
    EXPECT_TRUE(is_window_feature(f)) << f;
  EXPECT_FALSE(is_window_feature("derived"));
  EXPECT_FALSE(is_window_feature("median"));
}

}  // namespace
}  // namespace resonance::models
