#pragma once
// The bridge between the MQTT-SN gateway and an upstream MQTT broker (MQTT 3.1.1 over TCP, through
// libmosquitto): one aggregated broker connection for all devices (unlike Paho's gateway, which
// opens one per client and pays ~500 ms per CONNECT for it).
//   down: messages the broker delivers on the configured topic filters go to subscribed devices
//         (a DeviceSink, normally Gateway::publish_to_devices);
//   up:   the Wills of lost MQTT-SN clients are published to the broker (will_sink() is the
//         gateway's GatewayOptions::on_will), each only after `allow_will` says yes: a Will is
//         device data leaving the node, so it passes the egress gate (docs/governance.md).
// Topics map by prefix: broker "<broker_prefix>rest" <-> device "<device_prefix>rest"; a topic
// outside the prefix passes unchanged. Credentials go to the broker only and are never logged.
// A broker that is down (at start or later) is retried with exponential backoff between
// reconnect_min_s and reconnect_max_s; subscriptions are renewed on every connect (clean session). Wills that arrive
// while the broker is unreachable wait in a bounded queue (oldest dropped, counted) and are sent
// on the next connect.
// Loops: MQTT 3.1.1 has no "no local" option, so a Will topic that also matches a subscribe
// filter comes back down; keep the two namespaces apart (docs/mqttsn.md).
//
// Threading: the bridge's own thread runs the connection (mosquitto_loop) and the callbacks;
// will_sink() may be called from any thread (the gateway's loop) and never blocks on the network.
// stop() may wait for a TCP connect in progress (bounded by the OS connect timeout for a remote
// host that does not answer; immediate on loopback).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/mqttsn/gateway.h"
#include "resonance/core/metrics.h"
#include "resonance/core/status.h"

namespace resonance::mqttsn {

struct BridgeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string client_id = "resonance-mqttsn";  // 1..65535 bytes (brokers may limit to 23)
  std::string username;                        // empty = anonymous
  std::string password;                        // secret: never logged, never in errors
  int keep_alive_s = 30;                       // MQTT keep-alive with the broker, 5..65535
  int reconnect_min_s = 1;                     // first reconnect delay; doubles up to max
  int reconnect_max_s = 30;
  std::vector<std::string> subscribe;          // broker topic filters whose messages go down
  int subscribe_qos = 1;                       // 0..2, for the broker subscription
  int max_down_qos = 1;                        // QoS cap towards devices (min with the message's)
  std::string broker_prefix;                   // see the mapping above; e.g. "factory/"
  std::string device_prefix;                   // e.g. "" or "cmd/"
  bool publish_wills = true;                   // Wills of lost devices go up to the broker
  std::size_t max_pending_wills = 1024;        // Wills held while the broker is unreachable
  // Asked once per Will with its device topic, before it is queued or published; false drops it
  // (counted in resonance_mqttsn_bridge_wills_denied_total). Unset: every Will is denied (deny by
  // default). Called on the gateway's thread; must not block. The node wires the egress gate here.
  std::function<bool(std::string_view device_topic)> allow_will;
};

// What is wrong with the options, naming the field ("mqttsn.bridge.subscribe entry 2 'a/#/b':
// not a valid topic filter"); never mentions the password's value.
Status validate(const BridgeOptions& options);

// Topic mapping (pure; exposed for tests and the docs' examples).
std::string to_device_topic(const BridgeOptions& options, std::string_view broker_topic);
std::string to_broker_topic(const BridgeOptions& options, std::string_view device_topic);

// Where broker messages go; returns false when they could not be handed over (gateway stopped).
using DeviceSink = std::function<bool(std::string topic, std::vector<std::uint8_t> payload,
                                      int qos, bool retain)>;
// Gateway::publish_to_devices as a DeviceSink; the gateway must outlive the bridge's start()..stop().
DeviceSink device_sink(Gateway& gateway);

class Bridge {
 public:
  Bridge(BridgeOptions options, MetricsRegistry& metrics);
  ~Bridge();  // stop()
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Validates the options, then connects in the background (a broker that is down is retried
  // with backoff, so start() succeeds without it). kInvalidArgument for bad options;
  // kFailedPrecondition if already started.
  Status start(DeviceSink sink);
  // Disconnects and joins the connection thread; idempotent. Wills after stop() are counted as
  // dropped.
  void stop();

  // For GatewayOptions::on_will. Valid for the lifetime of the callable, even after the Bridge
  // is destroyed (it then drops and counts nothing: the state it points to is shared).
  WillSink will_sink() const;

  // Connected and every subscription acknowledged by the broker.
  bool ready() const;
  bool connected() const;

  struct Core;  // libmosquitto handle and shared state (bridge.cc)

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace resonance::mqttsn
