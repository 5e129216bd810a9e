#pragma once
// GET /api/v1/inference?model=&from=&to=&limit= (docs/api.md "Inference records").

#include "api/http_target.h"
#include "api/routes.h"

namespace resonance::api {

// Records from options.inference (unset: 404 naming why). A remote client (outside [api]
// local_clients) sees only the records whose every output series the egress gate lets it read:
// an output is data derived from the machine's signals, labelled like them.
Response handle_inference(const RouteContext& ctx, const ParsedTarget& target, bool remote);

}  // namespace resonance::api
