// Historian → dataset through a real historian store: samples go in through submit, come back
// through Historian::frame, and become a content-addressed dataset with series lineage.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "resonance/historian/historian.h"
#include "resonance/models/frame_dataset.h"

namespace resonance::models {
namespace {

namespace fs = std::filesystem;

Status submit_and_wait(Historian& h, SampleBatch batch) {
  auto done = std::make_shared<std::promise<Status>>();
  auto future = done->get_future();
  if (h.submit(std::move(batch), [done](const Status& s) { done->set_value(s); }) != Admission::kAccepted) {
    return {StatusCode::kUnavailable, "batch not accepted"};
  }
  return future.get();
}

TEST(FrameDatasetHistorian, FrameBecomesAStoredDatasetWithSeriesLineage) {
  const fs::path dir = fs::temp_directory_path() / ("models_frame_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  HistorianOptions options;
  options.dir = dir / "historian";
  options.durability = Durability::kNone;
  auto h = open_historian(options);
  ASSERT_TRUE(h) << h.error().message();

  // Series 1: a load rising 1 per second; series 2: the label, 1 once the load passes 5.
  SampleBatch batch;
  constexpr std::int64_t kSecond = 1'000'000'000;
  for (int i = 0; i < 10; ++i) {
    batch.samples.push_back(Sample{.series = 1, .ts_ns = i * kSecond, .value = double(i)});
    batch.samples.push_back(Sample{.series = 2, .ts_ns = i * kSecond, .value = i > 5 ? 1.0 : 0.0});
  }
  ASSERT_TRUE(submit_and_wait(**h, std::move(batch)).is_ok());

  FrameSpec spec;
  spec.series_paths = {"plant/a/l1/press-01/load", "plant/a/l1/press-01/overload"};
  spec.label = "plant/a/l1/press-01/overload";
  spec.request.series = {1, 2};
  spec.request.from_ns = 0;
  spec.request.to_ns = 10 * kSecond;
  spec.request.step_ns = kSecond;
  spec.request.max_staleness_ns = kSecond;
  const Frame frame = (*h)->frame(spec.request);
  const auto ds = dataset_from_frame(frame, spec);
  ASSERT_TRUE(ds) << ds.error().message();
  ASSERT_EQ(ds->rows, 10u);
  EXPECT_FLOAT_EQ(ds->row(7)[0], 7.0f);
  EXPECT_FLOAT_EQ(ds->labels[7], 1.0f);
  EXPECT_FLOAT_EQ(ds->labels[5], 0.0f);

  DatasetStore store(dir / "datasets");
  const auto id = store.put(*ds);
  ASSERT_TRUE(id) << id.error().message();
  const auto back = store.get(*id);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->lineage.sources.size(), 2u);
  EXPECT_EQ(back->lineage.sources[0].kind, "series");
  EXPECT_EQ(back->lineage.sources[0].name, "plant/a/l1/press-01/load");
  EXPECT_EQ(back->lineage.sources[0].to_ns, 10 * kSecond);
  (*h)->close();
  h->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resonance::models
