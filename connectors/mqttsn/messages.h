#pragma once
// MQTT-SN v1.2 messages as plain value types, one struct per message type (spec 5.4), gathered in
// the `Message` variant. Every struct names its type byte in `kType`; messages that share a layout
// (PUBREC/PUBREL/PUBCOMP/UNSUBACK, CONNACK/WILLTOPICRESP/WILLMSGRESP, ...) are one template
// instantiated per type so the variant alternatives stay distinct.
//
// The structs hold exactly what is on the wire, so decode(encode(m)) == m for every message the
// decoder accepts. Structure is checked by the codec (codec.h); meaning (is this topic id known,
// is QoS 2 allowed here) is the gateway's job.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace resonance::mqttsn {

enum class MsgType : std::uint8_t {
  kAdvertise = 0x00,
  kSearchGw = 0x01,
  kGwInfo = 0x02,
  kConnect = 0x04,
  kConnack = 0x05,
  kWillTopicReq = 0x06,
  kWillTopic = 0x07,
  kWillMsgReq = 0x08,
  kWillMsg = 0x09,
  kRegister = 0x0A,
  kRegack = 0x0B,
  kPublish = 0x0C,
  kPuback = 0x0D,
  kPubcomp = 0x0E,  // the spec's trap: PUBCOMP is 0x0E and PUBREC 0x0F (not MQTT's order)
  kPubrec = 0x0F,
  kPubrel = 0x10,
  kSubscribe = 0x12,
  kSuback = 0x13,
  kUnsubscribe = 0x14,
  kUnsuback = 0x15,
  kPingreq = 0x16,
  kPingresp = 0x17,
  kDisconnect = 0x18,
  kWillTopicUpd = 0x1A,
  kWillTopicResp = 0x1B,
  kWillMsgUpd = 0x1C,
  kWillMsgResp = 0x1D,
};

// "PUBLISH", or "0x03" for a byte that is no v1.2 message type.
std::string msg_type_name(std::uint8_t type);
inline std::string msg_type_name(MsgType type) { return msg_type_name(static_cast<std::uint8_t>(type)); }

// Table 5. Values 0x04..0xFF are reserved and rejected by the decoder.
enum class ReturnCode : std::uint8_t {
  kAccepted = 0x00,
  kCongestion = 0x01,
  kInvalidTopicId = 0x02,
  kNotSupported = 0x03,
};

enum class TopicIdType : std::uint8_t {
  kNormal = 0b00,      // a registered topic id (or a topic name in SUBSCRIBE/UNSUBSCRIBE)
  kPredefined = 0b01,
  kShortName = 0b10,   // two characters carried in the topic id field
};                     // 0b11 is reserved: the decoder rejects it

// Table 4. `qos` is 0, 1, 2 or -1 (wire 0b11).
struct Flags {
  bool dup = false;
  std::int8_t qos = 0;
  bool retain = false;
  bool will = false;
  bool clean_session = false;
  TopicIdType topic_id_type = TopicIdType::kNormal;
  bool operator==(const Flags&) const = default;
};

std::uint8_t encode_flags(const Flags& flags);

struct Advertise {
  static constexpr MsgType kType = MsgType::kAdvertise;
  std::uint8_t gw_id = 0;
  std::uint16_t duration_s = 0;
  bool operator==(const Advertise&) const = default;
};

struct SearchGw {
  static constexpr MsgType kType = MsgType::kSearchGw;
  std::uint8_t radius = 0;
  bool operator==(const SearchGw&) const = default;
};

struct GwInfo {
  static constexpr MsgType kType = MsgType::kGwInfo;
  std::uint8_t gw_id = 0;
  std::vector<std::uint8_t> gw_address;  // only present when a client answers a SEARCHGW
  bool operator==(const GwInfo&) const = default;
};

struct Connect {
  static constexpr MsgType kType = MsgType::kConnect;
  Flags flags;                     // only will and clean_session carry meaning
  std::uint8_t protocol_id = 0x01;  // always 0x01 in v1.2; the decoder rejects anything else
  std::uint16_t duration_s = 0;    // keep-alive period, 0 = no supervision
  std::string client_id;           // 1..23 bytes
  bool operator==(const Connect&) const = default;
};

// Messages whose body is one ReturnCode.
template <MsgType T>
struct ReturnCodeOnly {
  static constexpr MsgType kType = T;
  ReturnCode return_code = ReturnCode::kAccepted;
  bool operator==(const ReturnCodeOnly&) const = default;
};
using Connack = ReturnCodeOnly<MsgType::kConnack>;
using WillTopicResp = ReturnCodeOnly<MsgType::kWillTopicResp>;
using WillMsgResp = ReturnCodeOnly<MsgType::kWillMsgResp>;

// Messages without a body.
template <MsgType T>
struct Empty {
  static constexpr MsgType kType = T;
  bool operator==(const Empty&) const = default;
};
using WillTopicReq = Empty<MsgType::kWillTopicReq>;
using WillMsgReq = Empty<MsgType::kWillMsgReq>;
using Pingresp = Empty<MsgType::kPingresp>;

// WILLTOPIC / WILLTOPICUPD. An empty topic is the two-octet message that deletes the Will; it has
// no flags octet, so `flags` is then default.
template <MsgType T>
struct WillTopicT {
  static constexpr MsgType kType = T;
  Flags flags;  // only qos and retain carry meaning
  std::string topic;
  bool operator==(const WillTopicT&) const = default;
};
using WillTopic = WillTopicT<MsgType::kWillTopic>;
using WillTopicUpd = WillTopicT<MsgType::kWillTopicUpd>;

template <MsgType T>
struct WillMsgT {
  static constexpr MsgType kType = T;
  std::vector<std::uint8_t> message;
  bool operator==(const WillMsgT&) const = default;
};
using WillMsg = WillMsgT<MsgType::kWillMsg>;
using WillMsgUpd = WillMsgT<MsgType::kWillMsgUpd>;

struct Register {
  static constexpr MsgType kType = MsgType::kRegister;
  std::uint16_t topic_id = 0;  // 0 when sent by a client
  std::uint16_t msg_id = 0;
  std::string topic_name;      // at least one byte
  bool operator==(const Register&) const = default;
};

// REGACK and PUBACK share a layout.
template <MsgType T>
struct TopicAck {
  static constexpr MsgType kType = T;
  std::uint16_t topic_id = 0;
  std::uint16_t msg_id = 0;
  ReturnCode return_code = ReturnCode::kAccepted;
  bool operator==(const TopicAck&) const = default;
};
using Regack = TopicAck<MsgType::kRegack>;
using Puback = TopicAck<MsgType::kPuback>;

struct Publish {
  static constexpr MsgType kType = MsgType::kPublish;
  Flags flags;                 // dup, qos, retain, topic_id_type
  std::uint16_t topic_id = 0;  // or the two characters of a short topic name
  std::uint16_t msg_id = 0;    // 0 for QoS 0 and -1
  std::vector<std::uint8_t> data;
  bool operator==(const Publish&) const = default;
};

// Messages whose body is one MsgId.
template <MsgType T>
struct MsgIdOnly {
  static constexpr MsgType kType = T;
  std::uint16_t msg_id = 0;
  bool operator==(const MsgIdOnly&) const = default;
};
using Pubrec = MsgIdOnly<MsgType::kPubrec>;
using Pubrel = MsgIdOnly<MsgType::kPubrel>;
using Pubcomp = MsgIdOnly<MsgType::kPubcomp>;
using Unsuback = MsgIdOnly<MsgType::kUnsuback>;

// SUBSCRIBE / UNSUBSCRIBE: a topic name when flags.topic_id_type is kNormal, otherwise a two-octet
// predefined id or short name in `topic_id` (and `topic_name` is empty).
template <MsgType T>
struct SubscribeT {
  static constexpr MsgType kType = T;
  Flags flags;
  std::uint16_t msg_id = 0;
  std::string topic_name;
  std::uint16_t topic_id = 0;
  bool operator==(const SubscribeT&) const = default;
};
using Subscribe = SubscribeT<MsgType::kSubscribe>;
using Unsubscribe = SubscribeT<MsgType::kUnsubscribe>;

struct Suback {
  static constexpr MsgType kType = MsgType::kSuback;
  Flags flags;  // granted qos
  std::uint16_t topic_id = 0;
  std::uint16_t msg_id = 0;
  ReturnCode return_code = ReturnCode::kAccepted;
  bool operator==(const Suback&) const = default;
};

struct Pingreq {
  static constexpr MsgType kType = MsgType::kPingreq;
  std::optional<std::string> client_id;  // only when a sleeping client wakes (1..23 bytes)
  bool operator==(const Pingreq&) const = default;
};

struct Disconnect {
  static constexpr MsgType kType = MsgType::kDisconnect;
  std::optional<std::uint16_t> duration_s;  // only when a client goes to sleep
  bool operator==(const Disconnect&) const = default;
};

using Message =
    std::variant<Advertise, SearchGw, GwInfo, Connect, Connack, WillTopicReq, WillTopic, WillMsgReq,
                 WillMsg, Register, Regack, Publish, Puback, Pubcomp, Pubrec, Pubrel, Subscribe,
                 Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect, WillTopicUpd,
                 WillTopicResp, WillMsgUpd, WillMsgResp>;

inline MsgType type_of(const Message& message) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, message);
}

inline constexpr std::size_t kMaxClientIdBytes = 23;

}  // namespace resonance::mqttsn
