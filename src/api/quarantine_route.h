#pragma once
// GET /api/v1/quarantine?from=&to=&reason=&limit= (docs/api.md, "Quarantine").

#include "api/http_target.h"
#include "resonance/api/router.h"

namespace resonance::api {

// `quarantine` may be null (a router without one answers 404 naming why).
Response handle_quarantine(const Quarantine* quarantine, const ParsedTarget& target);

}  // namespace resonance::api
