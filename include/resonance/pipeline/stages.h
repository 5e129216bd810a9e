#pragma once
// The stages every node runs, in this order: validation, then governance.

#include <memory>

#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/pipeline/pipeline.h"
#include "resonance/pipeline/quarantine.h"

namespace resonance {

struct ValidationOptions {
  // Timestamps outside [now - max_past, now + max_future] are quarantined: a device with an unset
  // clock (1970) or a wrong time zone must not scatter data across the store.
  TimestampNs max_past_ns = 10LL * 365 * 24 * 3600 * kNanosPerSecond;
  TimestampNs max_future_ns = 5LL * 60 * kNanosPerSecond;
};

// Checks each sample against the catalog (known series) and the clock. The information model
// (issue 5) adds type, unit and range checks here.
std::unique_ptr<Stage> make_validation_stage(const ValidationOptions& options,
                                             const SeriesCatalog& catalog, Quarantine& quarantine,
                                             MetricsRegistry& metrics);

// Attaches source provenance (connector, client id, receive time) and records that the batch
// passed governance. Issue 7 fills in labels, consent, residency and the transparency log.
std::unique_ptr<Stage> make_governance_stage(MetricsRegistry& metrics);

}  // namespace resonance
