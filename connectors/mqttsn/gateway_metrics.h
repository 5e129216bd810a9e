#pragma once
// The gateway's counters, registered once at construction; the data path only bumps them
// (lock-free atomics, safe from any thread). Names and labels are listed in README.md.

#include <array>
#include <cstdint>

#include "connectors/mqttsn/messages.h"
#include "resonance/core/metrics.h"

namespace resonance::mqttsn {

struct GatewayMetrics {
  explicit GatewayMetrics(MetricsRegistry& registry);

  void packet_in(MsgType type) { packets_in[static_cast<std::uint8_t>(type)]->inc(); }
  void packet_out(MsgType type) { packets_out[static_cast<std::uint8_t>(type)]->inc(); }
  void puback(ReturnCode rc) { pubacks[static_cast<std::uint8_t>(rc)]->inc(); }

  // Indexed by type byte; every v1.2 type has a counter (decode() rejects the others).
  std::array<Counter*, 256> packets_in{};
  std::array<Counter*, 256> packets_out{};
  std::array<Counter*, 4> pubacks{};  // by return code
  Counter& malformed;
  Counter& publishes_qos0;
  Counter& publishes_qos1;
  Counter& publishes_qos2;
  Counter& publishes_qosm1;
  Counter& samples;
  Counter& congestion;
  Counter& duplicates;
  Counter& invalid_topic_id;
  Counter& rejected_payload;
  Counter& rejected_pipeline;
  Counter& rejected_unsupported;
  Counter& register_rejected;
  Counter& connect_rejected;
  Counter& unconnected;
  Counter& unexpected;
  Counter& keepalive_expired;
  Counter& durable_errors;
  Counter& send_errors;
  Counter& receive_errors;
  Counter& kernel_drops;
  Counter& denied;
  Counter& subscribe_rejected;
  Counter& routed_only;
  Counter& wills_published;
  Counter& downstream_sent;
  Counter& downstream_acked;
  Counter& retransmissions;
  Counter& downstream_dropped_queue;
  Counter& downstream_dropped_retries;
  Counter& downstream_dropped_rejected;
  Counter& sessions_restored;
  Counter& persist_errors;
  Gauge& sessions;
};

}  // namespace resonance::mqttsn
