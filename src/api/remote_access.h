#pragma once
// The remote-access check in front of the data routes (docs/governance.md "Enforcement points",
// docs/api.md "Remote clients"). Internal to resonance_api.

#include <optional>
#include <string_view>

#include "api/http_target.h"
#include "api/routes.h"

namespace resonance::api {

// Whether `client` counts as the local operator under `options` (loopback when none configured).
bool is_local_client(const RemoteAccessOptions& options, const ClientAddress& client);

// For a remote client: nullopt when the request may proceed, else the 403 to answer. Asks the
// gate once per series the request names (`series` parameter, comma-separated ids or paths, or
// `latest_id` for /api/v1/series/{id}/latest); no byte of data is read before every series is
// allowed. Routes without series data pass; the quarantine (raw payloads with no series labels)
// is refused; an export must name the remote destination.
std::optional<Response> check_remote_read(const RouteContext& ctx, std::string_view path,
                                          const ParsedTarget& target, std::string_view latest_id);

// Whether a remote client may see this series in GET /api/v1/series (its latest value is data):
// one gate decision, like any read.
bool remote_may_read(const RouteContext& ctx, std::string_view series_path);

}  // namespace resonance::api
