// The thresholds issue 8 sets, asserted on the real published files.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "resonance/models/proofs.h"

namespace resonance::models {
namespace {

namespace fs = std::filesystem;

// The published files are read in place, never copied into the repository: RESONANCE_DATA_DIR,
// else the project's sibling folder shared/data, else the workplace's /work/shared/data (a clone
// elsewhere, e.g. a CI checkout in /tmp).
fs::path data_dir() {
  if (const char* env = std::getenv("RESONANCE_DATA_DIR")) return env;
  const fs::path sibling = fs::path(RESONANCE_SOURCE_DIR) / ".." / "shared" / "data";
  if (fs::exists(sibling) || !fs::exists("/work/shared/data")) return sibling;
  return "/work/shared/data";
}

class Proof : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = fs::temp_directory_path() / ("models_proof_" + std::to_string(::getpid()));
    fs::remove_all(store_);
  }
  void TearDown() override { fs::remove_all(store_); }
  fs::path store_;
};

TEST_F(Proof, CmapssFd001RmseAtMost12AgainstCappedTruth) {
  if (!fs::exists(data_dir())) GTEST_SKIP() << "no dataset folder on this machine: " << data_dir();
  ASSERT_TRUE(fs::exists(data_dir() / "cmapss" / "train_FD001.txt")) << "C-MAPSS data missing in " << data_dir();
  const auto r = run_cmapss_proof(data_dir() / "cmapss", store_, 2);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->train_rows, 20631u);
  EXPECT_EQ(r->test_units, 100u);
  EXPECT_LE(r->capped.rmse, 12.0);
  EXPECT_GT(r->capped.rmse, 5.0);  // far better than any published result would mean a leak
  EXPECT_LT(r->capped.phm08_score, 400.0);
  EXPECT_LT(r->raw.rmse, 16.0);
  RecordProperty("rmse_capped", std::to_string(r->capped.rmse));
  RecordProperty("score_capped", std::to_string(r->capped.phm08_score));
  std::cout << "C-MAPSS FD001: capped " << r->capped.to_text() << "; raw " << r->raw.to_text() << "; " << r->seconds
            << " s\n";
  // The datasets are in the store, verifiable by id.
  DatasetStore store(store_ / "datasets");
  EXPECT_TRUE(store.get(r->train_dataset));
  EXPECT_TRUE(store.get(r->test_dataset));
}

TEST_F(Proof, Ai4iFailureF1AtLeast090WithoutLeakage) {
  if (!fs::exists(data_dir())) GTEST_SKIP() << "no dataset folder on this machine: " << data_dir();
  ASSERT_TRUE(fs::exists(data_dir() / "ai4i2020" / "ai4i2020.csv")) << "AI4I data missing in " << data_dir();
  const auto r = run_ai4i_proof(data_dir() / "ai4i2020" / "ai4i2020.csv", store_, 2);
  ASSERT_TRUE(r) << r.error().message();
  for (const auto& name : r->features) {
    for (const char* flag : kAi4iLeakingColumns) EXPECT_NE(name, flag);
    EXPECT_NE(name, "Machine failure");
  }
  EXPECT_EQ(r->cv.pooled.rows, 10000u);
  EXPECT_EQ(r->cv.pooled.confusion.tp + r->cv.pooled.confusion.fn, 339u);
  EXPECT_GE(r->cv.mean_f1, 0.90);
  EXPECT_LT(r->cv.mean_f1, 0.99);  // the figure of a leak
  std::cout << "AI4I: mean F1 " << r->cv.mean_f1 << ", pooled " << r->cv.pooled.to_text() << "; " << r->seconds
            << " s\n";
}

}  // namespace
}  // namespace resonance::models
