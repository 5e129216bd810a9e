#pragma once
// GET /api/v1/export?series=PATH&destination=ID&purpose=P&from=&to=&limit= — one series as CSV
// for a named destination, only after the egress gate allows it (docs/api.md "Export").

#include "api/http_target.h"
#include "api/routes.h"

namespace resonance::api {

// Parameters are checked first (400), then the gate is asked (403 egress_denied, no data), and
// only then are the catalog and historian read (404 for an unknown series). The gate comes before
// the catalog so a denied caller does not even learn whether the series exists.
Response handle_export(const RouteContext& ctx, const ParsedTarget& target);

}  // namespace resonance::api
