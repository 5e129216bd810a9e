#pragma once
// A pipeline stage that checks every sample against the information model: the series path must
// resolve to a signal of a category, the value must fit the signal's type and range, and the
// timestamp must lie in the accepted window [now - max_past, now + max_future] and must not go
// backwards per series. This is the only stage that judges timestamps. A refused sample goes to the
// Quarantine with the reason and is counted per reason in
// resonance_infomodel_refused_total{reason="..."}; accepted samples are untouched.

#include <functional>
#include <memory>

#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/infomodel/model.h"
#include "resonance/pipeline/pipeline.h"
#include "resonance/pipeline/quarantine.h"

namespace resonance::infomodel {

// Reasons, also the `reason` metric label.
inline constexpr std::string_view kReasonUnknownSignal = "unknown_signal";
inline constexpr std::string_view kReasonWrongType = "wrong_type";
inline constexpr std::string_view kReasonOutOfRange = "out_of_range";
inline constexpr std::string_view kReasonNonMonotonic = "non_monotonic";
inline constexpr std::string_view kReasonFutureTimestamp = "future_timestamp";
inline constexpr std::string_view kReasonPastTimestamp = "past_timestamp";

struct ModelValidationOptions {
  TimestampNs max_future_ns = 5LL * 60 * kNanosPerSecond;  // clock skew tolerated
  // Older than this is a device with an unset clock (1970) or a wrong year, which must not
  // scatter data across the store.
  TimestampNs max_past_ns = 10LL * 365 * 24 * 3600 * kNanosPerSecond;
  // Equal timestamps are accepted (a retransmitted sample); only going backwards is refused.
  std::function<TimestampNs()> now = unix_now_ns;  // injectable for tests
};

// `model`, `catalog`, `quarantine` and `metrics` must outlive the stage. process() may be called
// from several threads (per-series state is guarded by a mutex).
std::unique_ptr<Stage> make_model_validation_stage(const Model& model,
                                                   const SeriesCatalog& catalog,
                                                   Quarantine& quarantine,
                                                   MetricsRegistry& metrics,
                                                   ModelValidationOptions options = {});

}  // namespace resonance::infomodel
