#include "resonance/models/statistical.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace resonance::models {

Result<EwmaDetector> EwmaDetector::create(double alpha, double threshold, std::size_t warmup) {
  if (!(alpha > 0 && alpha <= 1)) return error(StatusCode::kInvalidArgument, fmt::format("ewma alpha {} is not in (0, 1]", alpha));
  if (!(threshold > 0)) return error(StatusCode::kInvalidArgument, fmt::format("ewma threshold {} must be positive", threshold));
  return EwmaDetector(alpha, threshold, warmup);
}

EwmaDetector::Output EwmaDetector::update(double x) {
  Output out;
  if (!std::isfinite(x)) return out;  // a gap is neither learned nor scored
  if (seen_ == 0) {
    mean_ = x;
  } else {
    const double sd = std::sqrt(var_);
    if (seen_ >= warmup_ && sd > 0) {
      out.score = std::abs(x - mean_) / sd;
      out.anomalous = out.score > threshold_;
    }
    // West's incremental form of the exponentially weighted variance.
    const double diff = x - mean_;
    const double incr = alpha_ * diff;
    mean_ += incr;
    var_ = (1 - alpha_) * (var_ + diff * incr);
  }
  ++seen_;
  return out;
}

Result<CusumDetector> CusumDetector::create(double target, double slack_k, double threshold_h) {
  if (!std::isfinite(target) || !(slack_k >= 0) || !(threshold_h > 0)) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("cusum needs a finite target, k >= 0 and h > 0 (got {}, {}, {})", target, slack_k, threshold_h));
  }
  return CusumDetector(target, slack_k, threshold_h);
}

CusumDetector::Output CusumDetector::update(double x) {
  Output out;
  if (!std::isfinite(x)) return {high_, low_, false};
  high_ = std::max(0.0, high_ + x - target_ - k_);
  low_ = std::max(0.0, low_ + target_ - x - k_);
  out.high = high_;
  out.low = low_;
  out.alarm = high_ > h_ || low_ > h_;
  if (out.alarm) high_ = low_ = 0;
  return out;
}

std::optional<double> LinearTrend::time_to(double level, double now) const {
  if (slope == 0) return std::nullopt;
  const double t = (level - intercept) / slope;
  if (t < now) return std::nullopt;
  return t;
}

Result<LinearTrend> fit_linear_trend(std::span<const double> t, std::span<const double> values) {
  if (t.size() != values.size()) {
    return error(StatusCode::kInvalidArgument, fmt::format("{} times for {} values", t.size(), values.size()));
  }
  if (t.size() < 2) return error(StatusCode::kInvalidArgument, "a trend needs at least two points");
  double tm = 0, vm = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    tm += t[i];
    vm += values[i];
  }
  tm /= static_cast<double>(t.size());
  vm /= static_cast<double>(t.size());
  double cov = 0, var = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    cov += (t[i] - tm) * (values[i] - vm);
    var += (t[i] - tm) * (t[i] - tm);
  }
  if (var == 0) return error(StatusCode::kInvalidArgument, "a trend needs points at two or more distinct times");
  LinearTrend trend;
  trend.slope = cov / var;
  trend.intercept = vm - trend.slope * tm;
  return trend;
}

}  // namespace resonance::models
