// XGBoost inference on the C-MAPSS FD001 model (57 windowed features, 400 trees of depth 4):
// latency of one window per call and throughput of batched calls. Issue 8 targets: p99 <= 1 ms
// per window, >= 100,000 windows/s batched. The last line is one JSON object with every figure.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <vector>

#include "resonance/models/proofs.h"

using namespace resonance::models;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  CLI::App app("XGBoost inference benchmark on the C-MAPSS FD001 model");
  std::string data = "../shared/data/cmapss", store = "/tmp/models-bench";
  int calls = 20000, batch = 10000, batches = 20, nthread = 2;
  app.add_option("--data", data, "C-MAPSS directory")->capture_default_str();
  app.add_option("--store", store, "Dataset store for the training run")->capture_default_str();
  app.add_option("--calls", calls, "Single-window calls timed")->capture_default_str();
  app.add_option("--batch", batch, "Windows per batched call")->capture_default_str();
  app.add_option("--batches", batches, "Batched calls timed")->capture_default_str();
  app.add_option("--nthread", nthread, "XGBoost threads")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto proof = run_cmapss_proof(data, store, nthread);
  if (!proof) {
    fmt::print(stderr, "error: {}\n", proof.error().message());
    return 1;
  }
  auto model = XgbModel::load(proof->model_json, nthread);
  auto train = DatasetStore(std::filesystem::path(store) / "datasets").get(proof->train_dataset);
  if (!model || !train) {
    fmt::print(stderr, "error: cannot reload the model or the training dataset\n");
    return 1;
  }
  const std::size_t cols = train->cols();

  std::vector<double> latency_us;
  latency_us.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const float* row = train->row(static_cast<std::size_t>(i) % train->rows);
    const auto t0 = Clock::now();
    auto out = model->predict({row, 1, cols});
    latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!out) return 1;
  }
  std::sort(latency_us.begin(), latency_us.end());
  auto pct = [&](double p) { return latency_us[static_cast<std::size_t>(p * static_cast<double>(latency_us.size() - 1))]; };

  std::vector<float> block;
  for (int i = 0; i < batch; ++i) {
    const float* row = train->row(static_cast<std::size_t>(i) % train->rows);
    block.insert(block.end(), row, row + cols);
  }
  const auto t0 = Clock::now();
  for (int b = 0; b < batches; ++b) {
    if (!model->predict({block.data(), static_cast<std::size_t>(batch), cols})) return 1;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double per_s = static_cast<double>(batch) * batches / seconds;

  fmt::print("C-MAPSS FD001 model: {} features, RMSE {:.2f} (capped truth)\n", cols, proof->capped.rmse);
  fmt::print("one window per call: p50 {:.1f} us  p99 {:.1f} us  max {:.1f} us ({} calls, target p99 <= 1000 us)\n",
             pct(0.5), pct(0.99), latency_us.back(), calls);
  fmt::print("batched: {:.0f} windows/s ({} x {} windows, target >= 100000)\n", per_s, batches, batch);
  fmt::print(R"({{"bench":"models","features":{},"p50_us":{:.2f},"p99_us":{:.2f},"max_us":{:.2f},"batched_windows_per_s":{:.0f},"nthread":{}}})"
             "\n",
             cols, pct(0.5), pct(0.99), latency_us.back(), per_s, nthread);
  return 0;
}
