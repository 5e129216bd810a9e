#pragma once
// The stages every node runs, in this order: validation, then governance.

#include <memory>

#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/pipeline/pipeline.h"
#include "resonance/pipeline/quarantine.h"

namespace resonance {

// No options yet; kept so callers need not change when the catalog check grows one.
struct ValidationOptions {};

// Checks that each sample's series is in the catalog. Everything about the value and the
// timestamp (type, range, the accepted time window, order per series) is checked once, by the
// information-model stage that follows (resonance/infomodel/validation_stage.h), so each reason
// is reported once and in the model's wording.
std::unique_ptr<Stage> make_validation_stage(const ValidationOptions& options,
                                             const SeriesCatalog& catalog, Quarantine& quarantine,
                                             MetricsRegistry& metrics);

// Attaches source provenance (connector, client id, receive time) and records that the batch
// passed governance. Issue 7 fills in labels, consent, residency and the transparency log.
std::unique_ptr<Stage> make_governance_stage(MetricsRegistry& metrics);

}  // namespace resonance
