#pragma once
// The HTTP API without sockets: a request line in, a complete response out. ApiServer feeds it
// from Boost.Beast; unit tests call it directly. Routes and error format: docs/api.md.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/core/status.h"
#include "resonance/core/time.h"
#include "resonance/governance/gate.h"
#include "resonance/historian/historian.h"
#include "resonance/pipeline/quarantine.h"

namespace resonance::infomodel {
struct Model;
}  // namespace resonance::infomodel

namespace resonance::governance {
struct Policy;
class ProvenanceStore;
}  // namespace resonance::governance

namespace resonance::api {

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  // Extra headers beyond Content-Type/Content-Length (Cache-Control, Allow, ...).
  std::vector<std::pair<std::string, std::string>> headers;

  std::string_view header(std::string_view name) const;  // "" when absent
};

// A file served under "/" or "/assets/<name>". Bytes are static (embedded at build time).
struct StaticAsset {
  std::string_view name;          // "index.html", "app.js", ...
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view bytes;
};

// The dashboard files compiled into the binary (generated from web/ by CMake).
std::span<const StaticAsset> embedded_assets();

// Asks the node's egress gate whether one series (by path) may leave for (destination, purpose).
// Every call is a decision the node records; the API only reads the verdict, rule and reason.
// Must be thread-safe. Unset: every export is denied.
using ExportGate = std::function<governance::Decision(
    std::string_view series_path, std::string_view destination, std::string_view purpose)>;

// A client address as 16 bytes; IPv4 is held in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so
// one comparison serves both families.
struct ClientAddress {
  std::array<std::uint8_t, 16> bytes{};
  static ClientAddress loopback_v4();  // 127.0.0.1, the caller of handle() without an address
};

// A network of clients (address/prefix). Parsed from "127.0.0.0/8", "::1/128", "10.1.2.3"
// (a bare address is a /32 or /128).
struct ClientNetwork {
  ClientAddress base;
  int prefix_bits = 128;  // over the 16-byte form: an IPv4 /8 is stored as /104
  bool contains(const ClientAddress& a) const;
};

// "127.0.0.0/8, ::1/128" → networks. An error names the item and what is wrong.
Result<std::vector<ClientNetwork>> parse_client_networks(std::string_view comma_list);

// Remote access (docs/governance.md "Enforcement points"): reading data from outside the node is
// export. A client outside `local_clients` is remote; its data reads ask `gate` for
// `destination` and `purpose` per series, and reads that name no series (the quarantine's raw
// payloads) are refused. Local clients (the operator on the node's own host, by default loopback
// only) read without asking.
struct RemoteAccessOptions {
  std::vector<ClientNetwork> local_clients;  // empty = loopback only (127.0.0.0/8, ::1)
  std::string destination;                   // empty: remote clients read no data at all
  std::string purpose = "remote_access";
  ExportGate gate;                           // unset: every remote read is denied
};

// GET /api/v1/inference (docs/api.md "Inference records"): the node's recent live-inference
// records. The node answers from its inference log writer; the API only filters and serialises.
struct InferenceQuery {
  std::string model;                  // empty = every model
  TimestampNs from_ns = INT64_MIN;    // on the window's end (the run's trigger sample), inclusive
  TimestampNs to_ns = INT64_MAX;      // inclusive
  std::size_t limit = 100;            // the newest `limit` matching records
};
struct InferenceRecordView {
  std::string json;                         // the record as in inference.jsonl (docs/formats/inference-log.md)
  std::vector<std::string> output_series;   // the series it wrote: what a remote client's read is judged on
};
// Matching records, oldest first. Must be thread-safe.
using InferenceSource = std::function<Result<std::vector<InferenceRecordView>>(const InferenceQuery&)>;

struct RouterOptions {
  std::size_t max_points = 100'000;  // hard cap on points in one /query answer
  std::string node_name = "resonance";
  std::span<const StaticAsset> assets = embedded_assets();
  std::function<TimestampNs()> clock = unix_now_ns;  // "now" for query defaults; tests pin it
  const Quarantine* quarantine = nullptr;  // GET /api/v1/quarantine; must outlive the router
  const governance::Policy* policy = nullptr;  // GET /api/v1/policy; must outlive the router
  const governance::ProvenanceStore* provenance = nullptr;  // GET /api/v1/provenance; likewise
  ExportGate export_gate;  // GET /api/v1/export asks it before reading any sample
  RemoteAccessOptions remote;
  // The node's information model (units, GET /api/v1/infomodel); null = the built-in one. Must
  // outlive the router.
  const infomodel::Model* model = nullptr;
  InferenceSource inference;  // GET /api/v1/inference; unset: 404 naming why
};

// Counters the API registers in the node's MetricsRegistry; shared with the socket layer so
// responses it makes itself (malformed HTTP, limits) land in the same series. Thread-safe.
class ApiMetrics {
 public:
  // Reasons a request is refused; each is a label value of resonance_api_bad_requests_total.
  static constexpr std::array<std::string_view, 7> kReasons = {
      "invalid_argument", "not_found",        "method_not_allowed", "malformed_http",
      "header_too_large", "body_too_large",   "other"};

  explicit ApiMetrics(MetricsRegistry& registry);
  // Counts one response by status class; a 4xx also by `reason` (one of kReasons).
  void count_response(int status, std::string_view reason = "");
  void connection_opened();
  void connection_closed();
  void connection_rejected();
  std::int64_t open_connections() const { return open_count_.load(std::memory_order_relaxed); }

 private:
  std::array<Counter*, 6> by_class_{};  // index status / 100; [0] unused
  std::array<Counter*, kReasons.size()> by_reason_{};
  Counter& accepted_;
  Counter& rejected_;
  Gauge& open_;
  std::atomic<std::int64_t> open_count_{0};
};

// Thread-safe: handle() is const and touches only thread-safe collaborators and atomic counters.
// The catalog, historian and registry must outlive the router.
class Router {
 public:
  Router(RouterOptions options, const SeriesCatalog& catalog, const Historian& historian,
         MetricsRegistry& metrics);

  // method: "GET", "HEAD", ...; target: the request-target as sent ("/api/v1/query?series=1").
  // Never throws: an unexpected exception becomes a counted 500.
  // The caller is a local client (the in-process tests and tools).
  Response handle(std::string_view method, std::string_view target) const;
  // The same for a request that came from `client` (the socket's peer address).
  Response handle(std::string_view method, std::string_view target, const ClientAddress& client) const;

  ApiMetrics& metrics() const { return metrics_; }

 private:
  Response route(std::string_view method, std::string_view target, const ClientAddress& client) const;

  RouterOptions options_;
  const SeriesCatalog& catalog_;
  const Historian& historian_;
  MetricsRegistry& registry_;
  mutable ApiMetrics metrics_;
  MonoTime started_;
};

}  // namespace resonance::api
