#pragma once
// The MQTT-SN v1.2 gateway over UDP: devices CONNECT, REGISTER series paths as topic names and
// PUBLISH samples (payload.h); the gateway turns each PUBLISH into a SampleBatch for the pipeline.
// Devices may also SUBSCRIBE; publish_to_devices() sends commands and model outputs down to them.
// What is supported and what is not yet: connectors/mqttsn/README.md.
//
// Durability promise: a QoS 1 PUBLISH is acknowledged with PUBACK rc 0x00 only after the
// pipeline's DurableCallback reported the batch durable. Backpressure (RetryLater) becomes PUBACK
// rc 0x01 "congestion"; the gateway never blocks its event loop on the pipeline.
//
// Threading: one Boost.Asio io_context on one thread owns the socket and every session; all
// protocol state is touched only there. start()/stop()/bound_port() may be called from any one
// controlling thread. The Boost types stay behind `GatewayLoop` so includers do not pull in Asio.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <vector>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "resonance/connectors/connector.h"
#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/pipeline/pipeline.h"

namespace resonance {
class Quarantine;
}

namespace resonance::mqttsn {

// Called on the event-loop thread when a client's Will is published (keep-alive or sleep
// expiry, or retransmissions exhausted); must not block. The Will also goes to matching device
// subscriptions. Upstream bridging (MQTT broker) will hook in here.
using WillSink = std::function<void(const std::string& client_id, const std::string& topic,
                                    std::span<const std::uint8_t> message, int qos, bool retain)>;

struct GatewayOptions {
  std::string bind_address = "127.0.0.1";    // IPv4 or IPv6 literal
  std::uint16_t port = 1884;                  // 0 = ephemeral (see bound_port())
  std::size_t max_clients = 1024;             // CONNECT beyond it gets CONNACK rc 0x01
  std::uint8_t gateway_id = 1;                // GwId in GWINFO and ADVERTISE
  std::size_t max_topics_per_client = 1024;   // REGISTER beyond it gets REGACK rc 0x03
  std::size_t max_inflight_per_client = 16;   // QoS 1/2 PUBLISHes awaiting durability; beyond: rc 0x01
  std::size_t max_subscriptions_per_client = 64;  // SUBSCRIBE beyond it gets SUBACK rc 0x01
  std::size_t max_queued_per_client = 64;     // downstream buffer (sleeping clients); oldest dropped
  // Signal series one equipment prefix may have in the catalog (multi-signal payloads create
  // `prefix/suffix` series on first use). A payload that would create more is refused as a whole
  // (PUBACK 0x03, quarantined): a device that invents suffixes cannot fill the catalog. Counted
  // from the catalog, so the cap holds across restarts. 0 = no cap.
  std::size_t max_signals_per_equipment = 1024;
  int supervision_interval_ms = 500;          // keep-alive, sleep and retransmission check period
  int retry_timeout_ms = 10'000;              // T_retry for gateway->client REGISTER/PUBLISH/PUBREL
  int max_retries = 3;                        // N_retry; then the client is considered lost
  // Predefined topic ids (spec 6.7), the same for every client. Names that are series paths are
  // stored when published; any name may be subscribed to.
  std::map<std::uint16_t, std::string> predefined_topics;
  // Allow-lists; empty = everyone. Datagrams from other source addresses are dropped and counted;
  // a CONNECT with another ClientId gets CONNACK rc 0x03.
  std::set<std::string> allowed_client_ids;
  std::set<std::string> allowed_sources;      // IP address literals, e.g. "127.0.0.1", "::1"
  // ADVERTISE (spec 6.1) every advertise_interval_ms to advertise_address ("host:port" or
  // "[v6]:port", typically a multicast or broadcast address); 0 = off (the default on plant
  // networks). The Duration field carries the interval rounded up to seconds.
  int advertise_interval_ms = 0;
  std::string advertise_address;
  // Sessions, subscriptions, Wills and topic tables survive a restart in this file
  // (docs/formats/mqttsn-sessions.md); empty = not persisted. Written at most every
  // persist_interval_ms when something changed, and on stop().
  std::string state_file;
  int persist_interval_ms = 1000;
  WillSink on_will;
  // Where refused PUBLISH payloads go (undecodable, invalid for the topic, or a batch the pipeline
  // Rejected as a whole), with the reason, client, peer, topic and raw bytes; must outlive the
  // Gateway. Null: refusals are only counted and logged (unit tests that do not look).
  Quarantine* quarantine = nullptr;
};

// "1=site/a/l/e/s, 2=cmd/all" -> {1: ..., 2: ...}. Errors name the entry ("predefined_topics
// entry 2 'x': ..."). Empty text is an empty map.
Result<std::map<std::uint16_t, std::string>> parse_predefined_topics(std::string_view text);
// "a, b,,c" -> {"a", "b", "c"} (trimmed, empty entries skipped).
std::vector<std::string> split_list(std::string_view text);

class GatewayLoop;

class Gateway : public Connector {
 public:
  // The references must outlive the Gateway. The pipeline may call DurableCallbacks after the
  // Gateway is gone: they are then dropped safely.
  Gateway(GatewayOptions options, BatchConsumer& pipeline, SeriesCatalog& catalog,
          MetricsRegistry& metrics);
  ~Gateway() override;
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  std::string_view name() const override { return "mqttsn"; }
  // Binds the UDP socket and starts the event-loop thread. kIoError if the bind fails;
  // kFailedPrecondition if already started.
  Status start() override;
  // Idempotent; returns after the event-loop thread has ended. Sessions are dropped.
  void stop() override;

  // The port actually bound (useful with port 0); 0 before start().
  std::uint16_t bound_port() const;

  // Sends `payload` on `topic_name` to every device with a matching subscription (commands, model
  // outputs), at min(qos, granted QoS). Thread-safe: posts to the event loop and returns at once;
  // false when the gateway is not running. Delivery follows spec 6.5/6.6: a REGISTER first when
  // the client has no id for the name (wildcard subscriptions), one outstanding QoS 1/2 message
  // per client, retransmission with DUP after retry_timeout_ms, buffering while a client sleeps.
  bool publish_to_devices(std::string topic_name, std::vector<std::uint8_t> payload, int qos = 1,
                          bool retain = false);

 private:
  GatewayOptions options_;
  BatchConsumer& pipeline_;
  SeriesCatalog& catalog_;
  MetricsRegistry& metrics_;
  mutable std::mutex mu_;  // guards loop_ against publish_to_devices() racing stop()
  std::unique_ptr<GatewayLoop> loop_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace resonance::mqttsn
