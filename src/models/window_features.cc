// Window features (window_features.h): shared by dataset creation and live inference.

#include "resonance/models/window_features.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace resonance::models {

namespace {

constexpr std::string_view kFeatures[] = {"last", "value", "mean", "std", "slope", "min", "max"};

}  // namespace

bool is_window_feature(std::string_view feature) {
  return std::ranges::find(kFeatures, feature) != std::end(kFeatures);
}

Result<double> window_feature(std::string_view feature, const WindowInput& w) {
  const auto& v = w.values;
  if (v.empty()) return error(StatusCode::kInvalidArgument, "window is empty");
  if (feature == "last" || feature == "value") return v.back();
  if (feature == "min") return *std::min_element(v.begin(), v.end());
  if (feature == "max") return *std::max_element(v.begin(), v.end());
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  if (feature == "mean") return mean;
  if (feature == "std") {
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return std::sqrt(ss / static_cast<double>(v.size()));
  }
  if (feature == "slope") {
    if (v.size() < 2) return 0.0;  // one point has no trend; training used 0 too (short windows)
    // Times relative to the first sample, in seconds, keep the sums well conditioned.
    const double t0 = static_cast<double>(w.ts_ns.front());
    double mt = 0;
    for (auto t : w.ts_ns) mt += (static_cast<double>(t) - t0) / 1e9;
    mt /= static_cast<double>(v.size());
    double num = 0, den = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double dt = (static_cast<double>(w.ts_ns[i]) - t0) / 1e9 - mt;
      num += dt * (v[i] - mean);
      den += dt * dt;
    }
    return den > 0 ? num / den : 0.0;
  }
  return error(
      StatusCode::kInvalidArgument,
      fmt::format("feature '{}' cannot be computed on a live window (live features: last, value, "
                  "mean, std, slope, min, max)",
                  feature));
}

void select_window(const WindowInput& series, TimestampNs to_ns, std::int64_t window_ns,
                   WindowInput& out) {
  out.ts_ns.clear();
  out.values.clear();
  const auto& ts = series.ts_ns;
  // First sample after `to`: everything before it is at or before `to`.
  const auto end = std::upper_bound(ts.begin(), ts.end(), to_ns);
  if (window_ns <= 0) {
    if (end == ts.begin()) return;
    const auto i = static_cast<std::size_t>(end - ts.begin()) - 1;
    out.ts_ns.push_back(ts[i]);
    out.values.push_back(series.values[i]);
    return;
  }
  const auto begin = std::upper_bound(ts.begin(), end, to_ns - window_ns);
  const auto from = static_cast<std::size_t>(begin - ts.begin()),
             to = static_cast<std::size_t>(end - ts.begin());
  out.ts_ns.assign(ts.begin() + static_cast<std::ptrdiff_t>(from),
                   ts.begin() + static_cast<std::ptrdiff_t>(to));
  out.values.assign(series.values.begin() + static_cast<std::ptrdiff_t>(from),
                    series.values.begin() + static_cast<std::ptrdiff_t>(to));
}

std::string window_column_name(const WindowColumn& c) {
  return fmt::format("{}:{}:{}ns", c.series, c.feature, c.window_ns);
}

std::optional<WindowColumn> parse_window_column(std::string_view name) {
  // From the right: a series path has no ':' (series path rules), but read it safely anyway.
  const auto last = name.rfind(':');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  const auto middle = name.rfind(':', last - 1);
  if (middle == std::string_view::npos || middle == 0) return std::nullopt;
  std::string_view window = name.substr(last + 1);
  if (!window.ends_with("ns")) return std::nullopt;
  window.remove_suffix(2);
  WindowColumn c;
  const auto [end, ec] = std::from_chars(window.data(), window.data() + window.size(), c.window_ns);
  if (ec != std::errc() || end != window.data() + window.size() || window.empty() ||
      c.window_ns < 0)
    return std::nullopt;
  c.series = std::string(name.substr(0, middle));
  c.feature = std::string(name.substr(middle + 1, last - middle - 1));
  if (!is_window_feature(c.feature)) return std::nullopt;
  return c;
}

}  // namespace resonance::models
