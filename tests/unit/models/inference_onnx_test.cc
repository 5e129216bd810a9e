// ONNX networks run live: the scheduler builds the row of window features, OpenCV DNN runs the
// network (ONNX's own test model from Debian's libonnx-testdata), the outputs are written as series
// and recorded like any backend's.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <mutex>

#include "resonance/infomodel/loader.h"
#include "resonance/models/inference.h"
#include "resonance/models/onnx_model.h"
#include "tests/unit/models/fake_consumer.h"

namespace resonance::models {
namespace {

using test_support::FakeConsumer;

namespace fs = std::filesystem;

const fs::path kTestData = "/usr/share/libonnx-testdata/data/pytorch-converted";


class InferenceOnnx : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kTestData))
        << kTestData << " is missing: install libonnx-testdata (scripts/setup --test)";
    dir_ = fs::temp_directory_path() /
           ("inference_onnx_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    catalog_ = std::move(*SeriesCatalog::open(":memory:"));
    load_ = *catalog_->resolve("site/area/line1/cnc-01/spindle_load");
    temp_ = *catalog_->resolve("site/area/line1/cnc-01/spindle_temperature");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // An element-wise network (torch.nn.Sigmoid / Softmax) taking rows of two features: the mean
  // spindle load over 10 s and the newest spindle temperature, scaled down.
  ModelManifest install(const std::string& test, const std::string& task,
                        std::vector<ManifestOutput> outputs) {
    fs::copy_file(kTestData / test / "model.onnx", dir_ / "model.onnx",
                  fs::copy_options::overwrite_existing);
    ModelManifest m;
    m.name = "net";
    m.version = "7";
    m.interface_id = "predictive_maintenance";
    m.backend = "onnx";
    m.task = task;
    m.inputs = {{"load_mean", "cnc", "spindle_load", 10, 0, "mean"},
                {"temp", "cnc", "spindle_temperature", 0, 0, "last"}};
    m.outputs = std::move(outputs);
    m.files = {{"model.onnx", sha256_hex(*read_file_bytes(dir_ / "model.onnx"))}};
    m.onnx = ManifestOnnx{"model.onnx", {-1, 2}, std::nullopt};
    m.dataset_id = std::string(64, 'a');
    return m;
  }

  fs::path dir_;
  std::unique_ptr<SeriesCatalog> catalog_;
  SeriesId load_ = 0, temp_ = 0;
  FakeConsumer consumer_;
  std::mutex mu_;
  std::vector<InferenceRecord> records_;
  InferenceRecordSink sink() {
    return [this](std::vector<InferenceRecord>&& r) {
      std::lock_guard lock(mu_);
      records_.insert(records_.end(), r.begin(), r.end());
    };
  }
};

TEST_F(InferenceOnnx, NetworkRunsOnLiveWindowFeatures) {
  const ModelManifest m = install("test_Sigmoid", "regression",
                                  {{"remaining_useful_life", infomodel::DataType::kDouble},
                                   {"failure_probability_7d", infomodel::DataType::kDouble}});
  InferenceScheduler s(infomodel::builtin_model(), *catalog_, consumer_, sink());
  Status st = s.deploy({m, dir_});
  ASSERT_TRUE(st.is_ok()) << st.message();
  s.start();
  std::vector<Sample> samples;
  for (int i = 0; i < 20; ++i) {
    samples.push_back({temp_, i * 1'000'000'000LL + 1, 0.1 * i - 1, {}});
    samples.push_back({load_, i * 1'000'000'000LL + 2, 0.2 * (i % 7) - 0.5, {}});
  }
  s.on_durable(SampleBatch{samples, {"test", "dev", 0, {}}});
  s.stop();
  // Every sample triggers a run (step 0); the first temperature has no load yet: skipped.
  ASSERT_EQ(records_.size(), 39u);
  EXPECT_EQ(s.stats().skipped_windows, 1u);
  // Each output is the sigmoid of its feature, as the network computes it in float32.
  auto model = OnnxModel::load(m, dir_);
  ASSERT_TRUE(model);
  WindowRing load_ring(64), temp_ring(64);
  std::size_t r = 0;
  for (const auto& sample : samples) {
    (sample.series == load_ ? load_ring : temp_ring).push(sample.ts_ns, sample.value);
    if (load_ring.size() == 0) continue;
    WindowInput lw, tw;
    load_ring.window(sample.ts_ns, 10'000'000'000LL, lw);
    temp_ring.window(sample.ts_ns, 0, tw);
    const float row[] = {static_cast<float>(*window_feature("mean", lw)),
                         static_cast<float>(*window_feature("last", tw))};
    auto want = (*model)->predict(row, 1);
    ASSERT_TRUE(want);
    ASSERT_LT(r, records_.size());
    ASSERT_EQ(records_[r].outputs.size(), 2u);
    EXPECT_EQ(records_[r].outputs[0], want->values[0]) << r;
    EXPECT_EQ(records_[r].outputs[1], want->values[1]) << r;
    EXPECT_NEAR(records_[r].outputs[0], 1 / (1 + std::exp(-row[0])), 1e-6) << r;
    EXPECT_EQ(records_[r].version, "7");
    ++r;
  }
  // Outputs went to the pipeline as the contract's series.
  std::size_t written = 0;
  for (const auto& b : consumer_.batches) written += b.samples.size();
  EXPECT_EQ(written, 2 * records_.size());
  EXPECT_TRUE(
      catalog_->find("site/area/line1/cnc-01/ai.predictive_maintenance.failure_probability_7d"));
}

TEST_F(InferenceOnnx, RunWaitsUntilEveryInputHasReachedItsInstant) {
  // A device publishes each signal on its own topic: the samples of one instant arrive series by
  // series, here in separate batches. The run triggered by the load at t must hold the temperature
  // of t too, as the same window read back from the historian does.
  ModelManifest m = install("test_Sigmoid", "regression",
                            {{"remaining_useful_life", infomodel::DataType::kDouble},
                             {"failure_probability_7d", infomodel::DataType::kDouble}});
  m.inputs[0].window_s = 0;  // the newest load
  InferenceScheduler s(infomodel::builtin_model(), *catalog_, consumer_, sink());
  ASSERT_TRUE(s.deploy({m, dir_}).is_ok());
  s.start();
  for (int i = 1; i <= 3; ++i) {
    s.on_durable(SampleBatch{{{load_, i * 1000LL, 0.0, {}}}, {"test", "dev", 0, {}}});
    s.on_durable(SampleBatch{{{temp_, i * 1000LL, 1.0 * i, {}}}, {"test", "dev", 0, {}}});
  }
  // The temperature of instant 4 never comes: its run goes ahead at stop with what it has.
  s.on_durable(SampleBatch{{{load_, 4000, 0.0, {}}}, {"test", "dev", 0, {}}});
  s.stop();
  ASSERT_EQ(records_.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(records_[i].window_to_ns, (i + 1) * 1000);
    EXPECT_NEAR(records_[i].outputs[1], 1 / (1 + std::exp(-(i + 1.0))), 1e-6)
        << "the temperature of its own instant";
  }
  EXPECT_NEAR(records_[3].outputs[1], 1 / (1 + std::exp(-3.0)),
              1e-6);  // the newest temperature it had
}

TEST_F(InferenceOnnx, BinaryTwoClassScoresGiveTheProbabilityOfClassOne) {
  const ModelManifest m =
      install("test_Softmax", "binary", {{"failure_probability_7d", infomodel::DataType::kDouble}});
  InferenceScheduler s(infomodel::builtin_model(), *catalog_, consumer_, sink());
  ASSERT_TRUE(s.deploy({m, dir_}).is_ok());
  s.start();
  s.on_durable(
      SampleBatch{{{load_, 1000, 2.0, {}}, {temp_, 2000, 0.0, {}}}, {"test", "dev", 0, {}}});
  s.stop();
  ASSERT_EQ(records_.size(), 1u);  // the load alone (no temperature yet) is skipped
  ASSERT_EQ(records_[0].outputs.size(), 1u);
  EXPECT_NEAR(records_[0].outputs[0], 1 / (1 + std::exp(2.0)), 1e-6);  // softmax([2, 0])[1]
}

TEST_F(InferenceOnnx, DeployRefusesANetworkWhoseOutputsDoNotFitTheManifest) {
  // Sigmoid gives two values per row; the manifest lists one output of a regression.
  const ModelManifest m = install("test_Sigmoid", "regression",
                                  {{"remaining_useful_life", infomodel::DataType::kDouble}});
  InferenceScheduler s(infomodel::builtin_model(), *catalog_, consumer_, sink());
  const Status st = s.deploy({m, dir_});
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(
      st.message().find("the network gives 2 value(s) per row, the manifest lists 1 output(s)"),
      std::string::npos)
      << st.message();
  auto tampered = m;
  tampered.files[0].sha256 = std::string(64, '0');
  EXPECT_FALSE(s.deploy({tampered, dir_}).is_ok());
  auto image = m;
  image.onnx->image = ManifestImage{2, 2, "gray"};
  image.onnx->input_shape = {-1, 1, 2, 2};
  EXPECT_NE(s.deploy({image, dir_}).message().find("image model"), std::string::npos);
}

}  // namespace
}  // namespace resonance::models
