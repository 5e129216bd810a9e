#pragma once
// Window features: the one definition of what a model input computes from a window of one signal.
// Training (datasets built from historian windows, window_dataset.h) and live inference (the
// scheduler's ring buffers, inference.h) both call window_feature on the samples they selected
// with the same rule, so a model sees the same number offline and live for the same samples.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/core/time.h"

namespace resonance::models {

// The samples of one input inside a window, oldest first.
struct WindowInput {
  std::vector<TimestampNs> ts_ns;
  std::vector<double> values;
};

// The feature of a window: last | value (the newest value), mean, std (population), slope
// (least squares, value units per second), min, max. An error names the unknown feature.
Result<double> window_feature(std::string_view feature, const WindowInput& window);

// Whether `feature` is one window_feature computes.
bool is_window_feature(std::string_view feature);

// The window rule, for samples held in time order: those with to − window < ts ≤ to; window_ns
// ≤ 0: the newest sample at or before `to` only. WindowRing::window applies the same rule to a
// ring; this is its form for history read from the historian.
void select_window(const WindowInput& series, TimestampNs to_ns, std::int64_t window_ns,
                   WindowInput& out);

// A dataset column that is one window feature of one series, named
// "<series path>:<feature>:<window_ns>ns" (e.g.
// "plant1/hall/line1/cnc-01/spindle_load:mean:30000000000ns"), so the column says how it was
// computed and `resonance model train` can write the live input.
struct WindowColumn {
  std::string series;   // series path
  std::string feature;  // a window feature
  std::int64_t window_ns = 0;
};
std::string window_column_name(const WindowColumn& column);
// The column a name stands for, or nullopt when the name is not of that form.
std::optional<WindowColumn> parse_window_column(std::string_view name);

}  // namespace resonance::models
