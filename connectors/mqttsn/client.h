#pragma once
// A synchronous MQTT-SN v1.2 client over UDP: what the CNC simulator, the tests and (later) the
// conformance suite use to talk to a gateway as a real device would. Not thread-safe: one client
// per thread. It follows the spec's client rules: one outstanding REGISTER and one outstanding
// QoS 1/2 PUBLISH at a time, retransmission with the DUP flag after `retry_timeout_ms`.
// Messages the gateway sends on its own (REGISTER, PUBLISH at QoS 0/1/2, PUBREL) are answered
// while the client waits for anything, and PUBLISHes are kept in an inbox for receive().

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  // A Will (spec 6.3 handshake) when will_topic is set.
  std::string will_topic;
  std::string will_message;
  int will_qos = 0;
  bool will_retain = false;
};

// A PUBLISH the gateway sent down.
struct Received {
  std::string topic;            // resolved through the gateway's REGISTER, or the short name
  std::uint16_t topic_id = 0;
  std::uint8_t topic_id_type = 0;  // TopicIdType: 0 normal, 1 predefined, 2 short
  int qos = 0;
  bool dup = false;
  bool retain = false;
  std::vector<std::uint8_t> payload;
};

struct SubscribeResult {
  std::uint16_t topic_id = 0;  // 0 for wildcards and short names
  int granted_qos = 0;
  std::uint8_t return_code = 0;
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
  // Any QoS (-1, 0, 1, 2) and TopicIdType (0 normal, 1 predefined, 2 short name); QoS 0/-1 return
  // kAccepted once sent. QoS 2 runs PUBLISH/PUBREC/PUBREL/PUBCOMP.
  virtual Result<PublishOutcome> publish(std::uint16_t topic_id, std::uint8_t topic_id_type, int qos,
                                         std::span<const std::uint8_t> payload) = 0;
  // SUBSCRIBE by name (wildcards allowed) or by predefined id / short name.
  virtual Result<SubscribeResult> subscribe(std::string_view topic_filter, int qos) = 0;
  virtual Result<SubscribeResult> subscribe_id(std::uint8_t topic_id_type, std::uint16_t topic_id,
                                               int qos) = 0;
  virtual Status unsubscribe(std::string_view topic_filter) = 0;
  // The next PUBLISH from the gateway (from the inbox, or waiting up to timeout_ms); nullopt if
  // none arrived.
  virtual Result<std::optional<Received>> receive(int timeout_ms) = 0;
  virtual Status update_will_topic(std::string_view topic, int qos) = 0;  // empty topic deletes
  virtual Status update_will_message(std::string_view message) = 0;
  virtual Status ping() = 0;        // PINGREQ, waits for PINGRESP
  virtual Status disconnect() = 0;  // DISCONNECT, waits for the gateway's DISCONNECT
  // DISCONNECT(duration): asleep (spec 6.14).
  virtual Status sleep(std::uint16_t duration_s) = 0;
  // PINGREQ(ClientId): awake; answers what the gateway buffered until its PINGRESP and returns
  // those messages (they are also taken out of the inbox).
  virtual Result<std::vector<Received>> wake() = 0;
};

}  // namespace resonance::mqttsn
