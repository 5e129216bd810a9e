#pragma once
// Built-in statistical backends (manifest backends "ewma", "cusum", "linear_trend", "threshold").
// Each is a small value type fed one sample at a time, so a scheduler can keep one per series;
// none allocates per sample. Not thread-safe: one instance per series and thread.

#include <cstddef>
#include <optional>
#include <span>

#include "resonance/core/status.h"

namespace resonance::models {

// Exponentially weighted mean and variance; the anomaly score of a sample is its distance from
// the mean before the update, in standard deviations. The first `warmup` samples only learn.
class EwmaDetector {
 public:
  struct Output {
    double score = 0;      // |x − mean| / std (0 while warming up or when std is 0)
    bool anomalous = false;
  };
  // alpha in (0, 1]: weight of the newest sample; threshold in standard deviations.
  static Result<EwmaDetector> create(double alpha, double threshold, std::size_t warmup = 10);
  Output update(double x);
  double mean() const { return mean_; }

 private:
  EwmaDetector(double alpha, double threshold, std::size_t warmup) : alpha_(alpha), threshold_(threshold), warmup_(warmup) {}
  double alpha_, threshold_;
  std::size_t warmup_, seen_ = 0;
  double mean_ = 0, var_ = 0;
};

// Two-sided tabular CUSUM (Page 1954) around a target: S⁺ = max(0, S⁺ + x − target − k),
// S⁻ = max(0, S⁻ + target − x − k); alarm when either exceeds h, after which both restart.
class CusumDetector {
 public:
  struct Output {
    double high = 0, low = 0;  // S⁺ and S⁻ after the update
    bool alarm = false;
  };
  static Result<CusumDetector> create(double target, double slack_k, double threshold_h);
  Output update(double x);

 private:
  CusumDetector(double target, double k, double h) : target_(target), k_(k), h_(h) {}
  double target_, k_, h_;
  double high_ = 0, low_ = 0;
};

// Least-squares line through (t, value) points; `time_to` gives when it reaches a level.
struct LinearTrend {
  double slope = 0;      // value units per time unit
  double intercept = 0;  // value at t = 0
  // The time at which the line reaches `level` after `now`, or nullopt if it never does.
  std::optional<double> time_to(double level, double now) const;
};
// Needs two or more points with distinct times.
Result<LinearTrend> fit_linear_trend(std::span<const double> t, std::span<const double> values);

// Fixed limits; either may be absent.
struct ThresholdRule {
  std::optional<double> min, max;
  bool violated(double x) const { return (min && x < *min) || (max && x > *max); }
};

}  // namespace resonance::models
