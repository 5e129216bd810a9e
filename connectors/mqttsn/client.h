#pragma once
// A synchronous MQTT-SN v1.2 client over UDP: what the CNC simulator, the tests and (later) the
// conformance suite use to talk to a gateway as a real device would. Not thread-safe: one client
// per thread. It follows the spec's client rules: one outstanding REGISTER and one outstanding
// QoS 1 PUBLISH at a time, retransmission with the DUP flag after `retry_timeout_ms`.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "resonance/core/status.h"

namespace resonance::mqttsn {

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1884;
  std::string client_id;               // 1..23 bytes
  std::uint16_t keep_alive_s = 60;
  bool clean_session = true;
  int retry_timeout_ms = 2000;         // T_retry
  int max_retries = 3;                 // N_retry
};

// Outcome of a QoS 1 publish as the gateway reported it.
enum class PublishOutcome : std::uint8_t {
  kAccepted,           // PUBACK rc 0x00: durable on the gateway's side
  kCongestion,         // rc 0x01: back off and retry later
  kInvalidTopicId,     // rc 0x02: re-register
  kNotSupported,       // rc 0x03
};

class Client {
 public:
  virtual ~Client() = default;
  // Sends CONNECT and waits for CONNACK (with retries).
  static Result<std::unique_ptr<Client>> connect(const ClientOptions& options);

  // REGISTER a topic name; returns the topic id from REGACK.
  virtual Result<std::uint16_t> register_topic(std::string_view topic_name) = 0;
  // QoS 0: fire and forget (returns once sent).
  virtual Status publish_qos0(std::uint16_t topic_id, std::span<const std::uint8_t> payload) = 0;
  // QoS 1: waits for the PUBACK of this message id, retransmitting with DUP set.
  virtual Result<PublishOutcome> publish_qos1(std::uint16_t topic_id,
                                              std::span<const std::uint8_t> payload) = 0;
  virtual Status ping() = 0;        // PINGREQ, waits for PINGRESP
  virtual Status disconnect() = 0;  // DISCONNECT, waits for the gateway's DISCONNECT
};

}  // namespace resonance::mqttsn
