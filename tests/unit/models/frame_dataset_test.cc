#include "resonance/models/frame_dataset.h"

#include <gtest/gtest.h>

#include <cmath>

namespace resonance::models {
namespace {

// Three series on four grid points; the third point has a gap in the input series.
Frame sample_frame() {
  Frame f;
  f.grid = {0, 10, 20, 30};
  f.columns = 3;
  const double nan = std::nan("");
  f.values = {1, 10, 0, 2, 20, 0, nan, 30, 1, 4, 40, 1};
  f.valid = {1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1};
  return f;
}

FrameSpec sample_spec() {
  FrameSpec spec;
  spec.series_paths = {"s/a/l/cnc-01/spindle_load", "s/a/l/cnc-01/spindle_temperature", "s/a/l/cnc-01/alarm"};
  spec.label = "s/a/l/cnc-01/alarm";
  spec.request.from_ns = 0;
  spec.request.to_ns = 40;
  spec.request.step_ns = 10;
  spec.request.max_staleness_ns = 10;
  return spec;
}

TEST(FrameDataset, RowsWithEveryValueAndSeriesLineage) {
  std::size_t skipped = 0;
  const auto ds = dataset_from_frame(sample_frame(), sample_spec(), &skipped);
  ASSERT_TRUE(ds) << ds.error().message();
  EXPECT_EQ(skipped, 1u);
  ASSERT_EQ(ds->rows, 3u);
  EXPECT_EQ(ds->feature_names, (std::vector<std::string>{"s/a/l/cnc-01/spindle_load", "s/a/l/cnc-01/spindle_temperature"}));
  EXPECT_EQ(ds->features, (std::vector<float>{1, 10, 2, 20, 4, 40}));
  EXPECT_EQ(ds->labels, (std::vector<float>{0, 0, 1}));
  ASSERT_EQ(ds->lineage.sources.size(), 3u);
  EXPECT_EQ(ds->lineage.sources[2].kind, "series");
  EXPECT_EQ(ds->lineage.sources[2].to_ns, 40);
  EXPECT_EQ(ds->lineage.transform, "historian_frame step_ns=10 fill=locf max_staleness_ns=10");
}

TEST(FrameDataset, ErrorsSayWhy) {
  auto spec = sample_spec();
  spec.label = "nope";
  EXPECT_EQ(dataset_from_frame(sample_frame(), spec).error().message(),
            "label series 'nope' is not one of the frame's series");
  Frame gaps = sample_frame();
  std::fill(gaps.valid.begin(), gaps.valid.end(), 0);
  EXPECT_EQ(dataset_from_frame(gaps, sample_spec()).error().message(),
            "empty dataset: none of the 4 grid points in [0, 40) ns has a value in every series");
}

}  // namespace
}  // namespace resonance::models
