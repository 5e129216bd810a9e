#pragma once
// The node's HTTP/1.1 server (REST API, /metrics and the embedded dashboard). It owns its own
// io_context and threads, so a slow client never stalls a connector's event loop.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/core/status.h"
#include "resonance/api/router.h"
#include "resonance/historian/historian.h"
#include "resonance/pipeline/quarantine.h"

namespace resonance::governance {
struct Policy;
class ProvenanceStore;
}  // namespace resonance::governance

namespace resonance::api {

struct ApiOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 8080;            // 0 = pick an ephemeral port; see bound_port()
  int threads = 1;                      // io_context threads
  std::size_t max_points = 100'000;     // cap on points in one /api/v1/query answer
  std::string node_name = "resonance";  // shown by /api/v1/health and the dashboard header
  std::size_t max_connections = 256;    // beyond it new connections are closed at once (counted)
  std::uint32_t max_header_bytes = 8 * 1024;  // request line + headers; beyond it 431
  std::uint64_t max_body_bytes = 4 * 1024;    // the API takes no bodies; beyond it 413
  const Quarantine* quarantine = nullptr;  // served at /api/v1/quarantine; must outlive the server
  const governance::Policy* policy = nullptr;  // served at /api/v1/policy; must outlive the server
  const governance::ProvenanceStore* provenance = nullptr;  // /api/v1/provenance; likewise
  ExportGate export_gate;  // GET /api/v1/export; unset = every export denied (403)
  RemoteAccessOptions remote;  // clients outside remote.local_clients pass the egress gate
  const infomodel::Model* model = nullptr;  // the node's information model; null = built-in
  InferenceSource inference;            // GET /api/v1/inference; unset = 404
  int idle_timeout_s = 30;              // a connection silent this long mid-request or idle is closed
};

// Lifecycle: construct, start() once, stop() (also run by the destructor). The catalog, historian
// and registry must outlive the server.
class ApiServer {
 public:
  ApiServer(ApiOptions options, const SeriesCatalog& catalog, const Historian& historian,
            MetricsRegistry& metrics);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving. Errors: kInvalidArgument (bad address or options), kUnavailable
  // (the port is taken or cannot be bound; the message names address and port),
  // kFailedPrecondition (already started).
  Status start();
  // Closes the listener and every connection and joins the threads. Idempotent.
  void stop();
  // The port actually bound (useful with port 0); 0 before start().
  std::uint16_t bound_port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace resonance::api
