// The MQTT-SN codec: every message type in both length forms, the Paho wire traces from
// docs research protocols.md 8.2, and malformed datagrams with their exact error messages.

#include "connectors/mqttsn/codec.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace resonance::mqttsn {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hex(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}
Bytes operator+(Bytes a, std::string_view text) {
  a.insert(a.end(), text.begin(), text.end());
  return a;
}

// One message of every v1.2 type, plus the optional-field variants.
std::vector<Message> every_message() {
  Flags qos1;
  qos1.qos = 1;
  Flags predefined;
  predefined.topic_id_type = TopicIdType::kPredefined;
  Flags all_bits{.dup = true, .qos = -1, .retain = true, .will = true, .clean_session = true,
                 .topic_id_type = TopicIdType::kShortName};
  return {
      Advertise{.gw_id = 7, .duration_s = 900},
      SearchGw{.radius = 1},
      GwInfo{.gw_id = 1, .gw_address = {}},
      GwInfo{.gw_id = 2, .gw_address = {10, 0, 0, 1}},
      Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 60, .client_id = "cnc-1"},
      Connack{.return_code = ReturnCode::kCongestion},
      WillTopicReq{},
      WillTopic{.flags = qos1, .topic = "factory/agv7/status"},
      WillTopic{},
      WillMsgReq{},
      WillMsg{.message = {'O', 'F', 'F'}},
      Register{.topic_id = 0, .msg_id = 1, .topic_name = "a/b/c/d/e"},
      Regack{.topic_id = 1, .msg_id = 1, .return_code = ReturnCode::kAccepted},
      Publish{.flags = all_bits, .topic_id = 0x4142, .msg_id = 0, .data = {1, 2, 3}},
      Publish{.flags = qos1, .topic_id = 1, .msg_id = 0xffff, .data = {}},
      Puback{.topic_id = 0x42, .msg_id = 3, .return_code = ReturnCode::kInvalidTopicId},
      Pubcomp{.msg_id = 9},
      Pubrec{.msg_id = 9},
      Pubrel{.msg_id = 9},
      Subscribe{.flags = qos1, .msg_id = 1, .topic_name = "factory/#", .topic_id = 0},
      Subscribe{.flags = predefined, .msg_id = 2, .topic_name = "", .topic_id = 17},
      Suback{.flags = qos1, .topic_id = 1, .msg_id = 1, .return_code = ReturnCode::kNotSupported},
      Unsubscribe{.flags = {}, .msg_id = 4, .topic_name = "x", .topic_id = 0},
      Unsuback{.msg_id = 4},
      Pingreq{},
      Pingreq{.client_id = "probe-sleep"},
      Pingresp{},
      Disconnect{},
      Disconnect{.duration_s = 20},
      WillTopicUpd{.flags = qos1, .topic = "t"},
      WillTopicResp{.return_code = ReturnCode::kAccepted},
      WillMsgUpd{.message = {}},
      WillMsgResp{.return_code = ReturnCode::kNotSupported},
  };
}

TEST(MqttsnCodec, EveryTypeRoundTripsInBothLengthForms) {
  std::set<MsgType> types;
  for (const Message& m : every_message()) {
    types.insert(type_of(m));
    SCOPED_TRACE(msg_type_name(type_of(m)));
    auto short_form = encode(m, LengthForm::kShort);
    ASSERT_TRUE(short_form) << short_form.error().message();
    EXPECT_EQ((*short_form)[0], short_form->size());
    auto long_form = encode(m, LengthForm::kLong);
    ASSERT_TRUE(long_form);
    ASSERT_EQ(long_form->size(), short_form->size() + 2);
    EXPECT_EQ((*long_form)[0], 0x01);
    EXPECT_EQ(((*long_form)[1] << 8) | (*long_form)[2], static_cast<int>(long_form->size()));
    for (const Bytes& bytes : {*short_form, *long_form}) {
      auto decoded = decode(bytes);
      ASSERT_TRUE(decoded) << decoded.error().message();
      EXPECT_EQ(*decoded, m);
    }
    EXPECT_EQ(*encode(m), *short_form);  // auto picks the short form below 256 bytes
  }
  EXPECT_EQ(types.size(), std::variant_size_v<Message>);
}

struct Trace {
  const char* name;
  Bytes bytes;
  Message message;
};

TEST(MqttsnCodec, PahoWireTraces) {
  Flags qos1;
  qos1.qos = 1;
  const std::vector<Trace> traces = {
      {"CONNECT", hex({0x19, 0x04, 0x04, 0x01, 0x00, 0x0A}) + "mqtt-sn-tools-11582",
       Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 10,
               .client_id = "mqtt-sn-tools-11582"}},
      {"CONNACK", hex({0x03, 0x05, 0x00}), Connack{}},
      {"SUBSCRIBE", hex({0x17, 0x12, 0x20, 0x00, 0x01}) + "factory/cnc1/state",
       Subscribe{.flags = qos1, .msg_id = 1, .topic_name = "factory/cnc1/state", .topic_id = 0}},
      {"SUBACK", hex({0x08, 0x13, 0x20, 0x00, 0x01, 0x00, 0x01, 0x00}),
       Suback{.flags = qos1, .topic_id = 1, .msg_id = 1, .return_code = ReturnCode::kAccepted}},
      {"REGISTER", hex({0x18, 0x0A, 0x00, 0x00, 0x00, 0x01}) + "factory/cnc1/state",
       Register{.topic_id = 0, .msg_id = 1, .topic_name = "factory/cnc1/state"}},
      {"REGACK", hex({0x07, 0x0B, 0x00, 0x01, 0x00, 0x01, 0x00}),
       Regack{.topic_id = 1, .msg_id = 1, .return_code = ReturnCode::kAccepted}},
      {"PUBLISH qos0", hex({0x0E, 0x0C, 0x00, 0x00, 0x01, 0x00, 0x00}) + "RUNNING",
       Publish{.flags = {}, .topic_id = 1, .msg_id = 0, .data = {'R', 'U', 'N', 'N', 'I', 'N', 'G'}}},
      {"PUBLISH qos1", hex({0x0C, 0x0C, 0x20, 0x00, 0x01, 0x00, 0x01}) + "START",
       Publish{.flags = qos1, .topic_id = 1, .msg_id = 1, .data = {'S', 'T', 'A', 'R', 'T'}}},
      {"PUBACK", hex({0x07, 0x0D, 0x00, 0x42, 0x00, 0x03, 0x02}),
       Puback{.topic_id = 0x42, .msg_id = 3, .return_code = ReturnCode::kInvalidTopicId}},
      {"PUBREC", hex({0x04, 0x0F, 0x00, 0x09}), Pubrec{.msg_id = 9}},
      {"PUBREL", hex({0x04, 0x10, 0x00, 0x09}), Pubrel{.msg_id = 9}},
      {"PUBCOMP", hex({0x04, 0x0E, 0x00, 0x09}), Pubcomp{.msg_id = 9}},
      {"DISCONNECT sleep", hex({0x04, 0x18, 0x00, 0x14}), Disconnect{.duration_s = 20}},
      {"DISCONNECT", hex({0x02, 0x18}), Disconnect{}},
      {"PINGREQ wake", hex({0x0D, 0x16}) + "probe-sleep", Pingreq{.client_id = "probe-sleep"}},
      {"WILLTOPICREQ", hex({0x02, 0x06}), WillTopicReq{}},
      {"WILLTOPIC", hex({0x16, 0x07, 0x20}) + "factory/agv7/status",
       WillTopic{.flags = qos1, .topic = "factory/agv7/status"}},
      {"WILLMSGREQ", hex({0x02, 0x08}), WillMsgReq{}},
      {"WILLMSG", hex({0x09, 0x09}) + "OFFLINE", WillMsg{.message = {'O', 'F', 'F', 'L', 'I', 'N', 'E'}}},
      {"SEARCHGW", hex({0x03, 0x01, 0x00}), SearchGw{.radius = 0}},
      {"GWINFO", hex({0x03, 0x02, 0x01}), GwInfo{.gw_id = 1, .gw_address = {}}},
  };
  for (const auto& t : traces) {
    SCOPED_TRACE(t.name);
    auto decoded = decode(t.bytes);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(*decoded, t.message);
    auto encoded = encode(t.message);
    ASSERT_TRUE(encoded);
    EXPECT_EQ(*encoded, t.bytes);
  }
}

TEST(MqttsnCodec, ThreeOctetPublishOf609Bytes) {
  Bytes bytes = hex({0x01, 0x02, 0x61, 0x0C, 0x20, 0x00, 0x01, 0x00, 0x07});
  bytes.resize(609, 'G');
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message();
  const auto& p = std::get<Publish>(*decoded);
  EXPECT_EQ(p.flags.qos, 1);
  EXPECT_EQ(p.topic_id, 1);
  EXPECT_EQ(p.msg_id, 7);
  EXPECT_EQ(p.data, Bytes(600, 'G'));
  EXPECT_EQ(*encode(p), bytes);  // over 255 bytes: auto uses the three-octet form
  auto too_short = encode(p, LengthForm::kShort);
  ASSERT_FALSE(too_short);
  EXPECT_EQ(too_short.error().message(), "PUBLISH: 607 bytes do not fit the one-octet Length form");
}

TEST(MqttsnCodec, ShortMessageInThreeOctetFormIsAccepted) {
  auto decoded = decode(hex({0x01, 0x00, 0x05, 0x05, 0x00}));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(*decoded, Message(Connack{}));
}

struct Malformed {
  Bytes bytes;
  std::string message;
};

TEST(MqttsnCodec, MalformedDatagramsNameWhatAndWhere) {
  const std::vector<Malformed> cases = {
      {{}, "empty datagram at offset 0"},
      {hex({0x00, 0x16}), "Length 0 at offset 0 is below the minimum of 2"},
      {hex({0x01}), "three-octet Length truncated: datagram has 1 byte(s) at offset 0"},
      {hex({0x01, 0x00}), "three-octet Length truncated: datagram has 2 byte(s) at offset 0"},
      {hex({0x01, 0x00, 0x03}), "three-octet Length 3 at offset 1 is below the minimum of 4"},
      {hex({0x05, 0x16}), "Length 5 at offset 0 does not match the datagram size 2"},
      {hex({0x02, 0x16, 0x00}), "Length 2 at offset 0 does not match the datagram size 3"},
      {hex({0x01, 0x00, 0x06, 0x16}), "Length 6 at offset 1 does not match the datagram size 4"},
      {hex({0x02, 0x03}), "MsgType 0x03 at offset 1 is reserved or not supported"},
      {hex({0x01, 0x00, 0x04, 0xFE}), "MsgType 0xfe at offset 3 is reserved or not supported"},
      {hex({0x06, 0x04, 0x04, 0x01, 0x00, 0x0A}), "CONNECT: ClientId at offset 6 is 0 bytes, must be 1..23"},
      {hex({0x1E, 0x04, 0x04, 0x01, 0x00, 0x0A}) + "abcdefghijklmnopqrstuvwx",
       "CONNECT: ClientId at offset 6 is 24 bytes, must be 1..23"},
      {hex({0x07, 0x04, 0x04, 0x02, 0x00, 0x0A, 'x'}),
       "CONNECT: ProtocolId 0x02 at offset 3, must be 0x01 (MQTT-SN v1.2)"},
      {hex({0x08, 0x0C, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00}),
       "PUBLISH: Flags 0x03 use the reserved TopicIdType 0b11 at offset 2"},
      {hex({0x04, 0x0C, 0x00, 0x00}), "PUBLISH: TopicId needs 2 byte(s) at offset 3, only 1 left"},
      {hex({0x06, 0x0D, 0x00, 0x01, 0x00, 0x01}), "PUBACK: ReturnCode needs 1 byte(s) at offset 6, only 0 left"},
      {hex({0x07, 0x0D, 0x00, 0x01, 0x00, 0x01, 0x04}), "PUBACK: reserved ReturnCode 0x04 at offset 6"},
      {hex({0x03, 0x17, 0x00}), "PINGRESP: 1 unexpected trailing byte(s) at offset 2"},
      {hex({0x06, 0x0A, 0x00, 0x00, 0x00, 0x01}), "REGISTER: TopicName at offset 6 is empty"},
      {hex({0x03, 0x07, 0x20}), "WILLTOPIC: WillTopic (after a Flags octet) at offset 3 is empty"},
      {hex({0x03, 0x18, 0x00}), "DISCONNECT: Duration needs 2 byte(s) at offset 2, only 1 left"},
      {hex({0x05, 0x04, 0x04, 0x01, 0x00}), "CONNECT: Duration needs 2 byte(s) at offset 4, only 1 left"},
      {hex({0x06, 0x12, 0x21, 0x00, 0x01, 0x00}), "SUBSCRIBE: TopicId needs 2 byte(s) at offset 5, only 1 left"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(hex_dump(c.bytes));
    auto decoded = decode(c.bytes);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(decoded.error().message(), c.message);
  }
}

TEST(MqttsnCodec, EncodeRefusesUnrepresentableMessages) {
  auto no_id = encode(Connect{.flags = {}, .protocol_id = 1, .duration_s = 0, .client_id = ""});
  ASSERT_FALSE(no_id);
  EXPECT_EQ(no_id.error().message(), "CONNECT: ClientId is 0 bytes, must be 1..23");
  Publish huge;
  huge.data.resize(65535);
  auto too_big = encode(huge);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().message(), "PUBLISH: 65544 bytes exceed the maximum message size of 65535");
  huge.data.resize(65535 - 9);
  EXPECT_TRUE(encode(huge));
}

// encode_append puts the same bytes after what the buffer holds (both length forms), and leaves
// the buffer as it was when it refuses: the gateway queues a whole group's datagrams in one buffer.
TEST(MqttsnCodec, EncodeAppendMatchesEncodeAndLeavesNothingOnError) {
  std::vector<std::uint8_t> buffer = {0xAA, 0xBB};
  const Message puback = Puback{.topic_id = 7, .msg_id = 0x1234, .return_code = ReturnCode::kAccepted};
  Publish big;
  big.data.resize(300);  // the three-octet form
  big.data[0] = 0x42;
  for (const Message& m : {puback, Message(big)}) {
    const std::size_t before = buffer.size();
    ASSERT_TRUE(encode_append(m, buffer));
    const auto alone = encode(m);
    ASSERT_TRUE(alone);
    EXPECT_EQ(std::vector<std::uint8_t>(buffer.begin() + static_cast<std::ptrdiff_t>(before), buffer.end()), *alone);
  }
  const std::size_t size = buffer.size();
  Publish huge;
  huge.data.resize(65535);
  EXPECT_FALSE(encode_append(huge, buffer));
  EXPECT_FALSE(encode_append(Connect{.flags = {}, .protocol_id = 1, .duration_s = 0, .client_id = ""}, buffer));
  EXPECT_EQ(buffer.size(), size);
  EXPECT_EQ(buffer[0], 0xAA);
}

TEST(MqttsnCodec, FlagsBits) {
  EXPECT_EQ(encode_flags({.dup = true}), 0x80);
  EXPECT_EQ(encode_flags({.qos = 1}), 0x20);
  EXPECT_EQ(encode_flags({.qos = 2}), 0x40);
  EXPECT_EQ(encode_flags({.qos = -1}), 0x60);
  EXPECT_EQ(encode_flags({.retain = true}), 0x10);
  EXPECT_EQ(encode_flags({.will = true}), 0x08);
  EXPECT_EQ(encode_flags({.clean_session = true}), 0x04);
  EXPECT_EQ(encode_flags({.topic_id_type = TopicIdType::kShortName}), 0x02);
}

TEST(MqttsnCodec, TypeNames) {
  EXPECT_EQ(msg_type_name(MsgType::kPubcomp), "PUBCOMP");
  EXPECT_EQ(msg_type_name(0x0F), "PUBREC");
  EXPECT_EQ(msg_type_name(0x19), "0x19");
  EXPECT_EQ(hex_dump(hex({0x03, 0x05, 0x00})), "03 05 00");
  EXPECT_EQ(hex_dump(hex({1, 2, 3}), 2), "01 02 ...");
}

}  // namespace
}  // namespace resonance::mqttsn
