#pragma once
// GET /api/v1/policy (the policy in force) and GET /api/v1/provenance?series=&from=&to=&limit=
// (where each batch of a series came from), docs/api.md "Governance".

#include "api/http_target.h"
#include "resonance/api/router.h"

namespace resonance::api {

// `policy` may be null (404 naming why).
Response handle_policy(const governance::Policy* policy, const ParsedTarget& target);
// `store` may be null (404 naming why); the series path is resolved through the catalog.
Response handle_provenance(const governance::ProvenanceStore* store, const SeriesCatalog& catalog,
                           const ParsedTarget& target);

}  // namespace resonance::api
