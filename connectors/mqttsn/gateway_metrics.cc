#include "connectors/mqttsn/gateway_metrics.h"

#include <fmt/format.h>

#include <variant>

namespace resonance::mqttsn {
namespace {

template <std::size_t... I>
void register_types(MetricsRegistry& registry, std::array<Counter*, 256>& in,
                    std::array<Counter*, 256>& out, std::index_sequence<I...>) {
  auto one = [&](MsgType type) {
    const auto label = fmt::format("type=\"{}\"", msg_type_name(type));
    in[static_cast<std::uint8_t>(type)] = &registry.counter(
        "resonance_mqttsn_packets_in_total", "MQTT-SN messages received, by type", label);
    out[static_cast<std::uint8_t>(type)] = &registry.counter(
        "resonance_mqttsn_packets_out_total", "MQTT-SN messages sent, by type", label);
  };
  (one(std::variant_alternative_t<I, Message>::kType), ...);
}

Counter& reject(MetricsRegistry& registry, const char* reason) {
  return registry.counter("resonance_mqttsn_rejected_total",
                          "PUBLISHes not stored, by reason", fmt::format("reason=\"{}\"", reason));
}

}  // namespace

GatewayMetrics::GatewayMetrics(MetricsRegistry& r)
    : malformed(r.counter("resonance_mqttsn_malformed_total",
                          "Datagrams dropped because they are no valid MQTT-SN v1.2 message")),
      publishes_qos0(r.counter("resonance_mqttsn_publishes_total", "PUBLISHes received from connected clients",
                               "qos=\"0\"")),
      publishes_qos1(r.counter("resonance_mqttsn_publishes_total", "PUBLISHes received from connected clients",
                               "qos=\"1\"")),
      publishes_qos2(r.counter("resonance_mqttsn_publishes_total", "PUBLISHes received from connected clients",
                               "qos=\"2\"")),
      publishes_qosm1(r.counter("resonance_mqttsn_publishes_total", "PUBLISHes received from connected clients",
                                "qos=\"-1\"")),
      samples(r.counter("resonance_mqttsn_samples_total", "Samples submitted to the pipeline and accepted")),
      congestion(r.counter("resonance_mqttsn_congestion_total",
                           "PUBLISHes refused because the pipeline answered RetryLater or in-flight was full")),
      duplicates(r.counter("resonance_mqttsn_duplicates_total",
                           "QoS 1 PUBLISH retransmissions recognised and not stored again")),
      invalid_topic_id(r.counter("resonance_mqttsn_invalid_topic_id_total",
                                 "PUBLISHes with a topic id the client never registered")),
      rejected_payload(reject(r, "payload")),
      rejected_pipeline(reject(r, "pipeline")),
      rejected_unsupported(reject(r, "unsupported")),
      register_rejected(r.counter("resonance_mqttsn_register_rejected_total",
                                  "REGISTERs refused (not a valid series path, table full, catalog error)")),
      connect_rejected(r.counter("resonance_mqttsn_connect_rejected_total",
                                 "CONNECTs refused (too many clients, ClientId not allowed)")),
      unconnected(r.counter("resonance_mqttsn_unconnected_total",
                            "Messages from endpoints without a session, answered with DISCONNECT")),
      unexpected(r.counter("resonance_mqttsn_unexpected_total",
                           "Valid messages a gateway does not expect from a client, ignored")),
      keepalive_expired(r.counter("resonance_mqttsn_keepalive_expired_total",
                                  "Sessions lost after their keep-alive (+50%, or +10% beyond a minute) without a message")),
      durable_errors(r.counter("resonance_mqttsn_durable_errors_total",
                               "Accepted batches the pipeline later reported as not durable")),
      send_errors(r.counter("resonance_mqttsn_send_errors_total", "Datagrams the socket refused to send")),
      receive_errors(r.counter("resonance_mqttsn_receive_errors_total", "Socket receive errors")),
      kernel_drops(r.counter("resonance_mqttsn_kernel_drops_total",
                             "Datagrams the kernel dropped because the gateway's receive buffer was full "
                             "(read every supervision tick; a GRO buffer of several datagrams counts once)")),
      denied(r.counter("resonance_mqttsn_denied_total",
                       "Datagrams from sources, and CONNECTs with ClientIds, outside the allow-lists")),
      subscribe_rejected(r.counter("resonance_mqttsn_subscribe_rejected_total",
                                   "SUBSCRIBEs refused (bad filter, unknown predefined id, limits)")),
      routed_only(r.counter("resonance_mqttsn_routed_only_total",
                            "PUBLISHes on topics that are no series path: sent to subscribed devices, not stored")),
      wills_published(r.counter("resonance_mqttsn_wills_published_total",
                                "Wills published for lost clients (keep-alive, sleep, retransmissions)")),
      downstream_sent(r.counter("resonance_mqttsn_downstream_total", "PUBLISHes sent to devices")),
      downstream_acked(r.counter("resonance_mqttsn_downstream_acked_total",
                                 "QoS 1/2 PUBLISHes to devices completed (PUBACK / PUBCOMP)")),
      retransmissions(r.counter("resonance_mqttsn_retransmissions_total",
                                "Gateway-to-client REGISTER/PUBLISH/PUBREL retransmissions")),
      downstream_dropped_queue(r.counter("resonance_mqttsn_downstream_dropped_total",
                                         "Messages to devices dropped, by reason", "reason=\"queue_full\"")),
      downstream_dropped_retries(r.counter("resonance_mqttsn_downstream_dropped_total",
                                           "Messages to devices dropped, by reason", "reason=\"retries\"")),
      downstream_dropped_rejected(r.counter("resonance_mqttsn_downstream_dropped_total",
                                            "Messages to devices dropped, by reason", "reason=\"rejected\"")),
      sessions_restored(r.counter("resonance_mqttsn_sessions_restored_total",
                                  "Sessions restored from the state file at start")),
      persist_errors(r.counter("resonance_mqttsn_persist_errors_total", "Failed writes of the session state file")),
      sessions(r.gauge("resonance_mqttsn_sessions", "Connected MQTT-SN client sessions")) {
  register_types(r, packets_in, packets_out, std::make_index_sequence<std::variant_size_v<Message>>{});
  static constexpr const char* kRc[] = {"accepted", "congestion", "invalid_topic_id", "not_supported"};
  for (std::size_t i = 0; i < pubacks.size(); ++i)
    pubacks[i] = &r.counter("resonance_mqttsn_pubacks_total", "PUBACKs sent, by return code",
                            fmt::format("rc=\"{}\"", kRc[i]));
}

}  // namespace resonance::mqttsn
