#pragma once
// The MQTT-SN v1.2 gateway over UDP: devices CONNECT, REGISTER series paths as topic names and
// PUBLISH samples (payload.h); the gateway turns each PUBLISH into a SampleBatch for the pipeline.
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
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "resonance/connectors/connector.h"
#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/pipeline/pipeline.h"

namespace resonance::mqttsn {

struct GatewayOptions {
  std::string bind_address = "127.0.0.1";    // IPv4 or IPv6 literal
  std::uint16_t port = 1884;                  // 0 = ephemeral (see bound_port())
  std::size_t max_clients = 1024;             // CONNECT beyond it gets CONNACK rc 0x01
  std::uint8_t gateway_id = 1;                // GwId in GWINFO
  std::size_t max_topics_per_client = 1024;   // REGISTER beyond it gets REGACK rc 0x03
  std::size_t max_inflight_per_client = 16;   // QoS 1 PUBLISHes awaiting durability; beyond: rc 0x01
  int supervision_interval_ms = 500;          // how often keep-alive deadlines are checked
};

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

 private:
  GatewayOptions options_;
  BatchConsumer& pipeline_;
  SeriesCatalog& catalog_;
  MetricsRegistry& metrics_;
  std::unique_ptr<GatewayLoop> loop_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace resonance::mqttsn
