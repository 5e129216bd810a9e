// Issue 3 procedures, one test per message type and procedure, over real UDP loopback with the
// real Client (and a raw socket for what a well-behaved client never sends). Spec section numbers
// refer to MQTT-SN v1.2.

#include <filesystem>

#include "tests/unit/mqttsn/gateway_fixture.h"

namespace resonance::mqttsn {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

constexpr std::uint8_t kNormal = 0;
constexpr std::uint8_t kPredefined = 1;
constexpr std::uint8_t kShort = 2;

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

struct WillSeen {
  std::mutex mu;
  std::vector<std::tuple<std::string, std::string, std::string, int>> wills;  // client, topic, msg, qos
  std::size_t size() {
    std::lock_guard lock(mu);
    return wills.size();
  }
};

class ProtocolTest : public GatewayTest {
 protected:
  void SetUp() override {
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog) << catalog.error().message();
    catalog_ = std::move(*catalog);
    options_.retry_timeout_ms = 300;
    options_.on_will = [seen = seen_](const std::string& client, const std::string& topic,
                                      std::span<const std::uint8_t> msg, int qos, bool) {
      std::lock_guard lock(seen->mu);
      seen->wills.emplace_back(client, topic, std::string(msg.begin(), msg.end()), qos);
    };
    start_gateway();
  }
  std::shared_ptr<WillSeen> seen_ = std::make_shared<WillSeen>();
};

// ---- 6.3 CONNECT, Will ----

TEST_F(ProtocolTest, WillHandshakeAndWillPublishedWhenKeepAliveExpires) {
  auto watcher = connect(client_options("watcher"));
  ASSERT_TRUE(watcher);
  ASSERT_EQ(watcher->subscribe("agv/+/status", 1)->return_code, 0);
  auto o = client_options("agv7");
  o.keep_alive_s = 1;
  o.will_topic = "agv/agv7/status";
  o.will_message = "OFFLINE";
  o.will_qos = 1;
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  EXPECT_EQ(counter("resonance_mqttsn_packets_out_total", "type=\"WILLTOPICREQ\""), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_packets_out_total", "type=\"WILLMSGREQ\""), 1u);
  // 1 s keep-alive + 50% tolerance (spec 7.2): lost after 1.5 s, not before 1 s.
  std::this_thread::sleep_for(900ms);
  EXPECT_EQ(seen_->size(), 0u);
  ASSERT_TRUE(eventually([&] { return seen_->size() == 1; }, 3000ms));
  EXPECT_EQ(std::get<1>(seen_->wills[0]), "agv/agv7/status");
  EXPECT_EQ(std::get<2>(seen_->wills[0]), "OFFLINE");
  EXPECT_EQ(std::get<3>(seen_->wills[0]), 1);
  auto got = watcher->receive(2000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->topic, "agv/agv7/status");
  EXPECT_EQ((*got)->payload, bytes("OFFLINE"));
  EXPECT_EQ((*got)->qos, 1);
  EXPECT_EQ(counter("resonance_mqttsn_wills_published_total"), 1u);
}

TEST_F(ProtocolTest, EmptyWillTopicMeansNoWill) {
  RawPeer peer(gateway_->bound_port());
  peer.send(Connect{.flags = {.will = true, .clean_session = true}, .protocol_id = 1, .duration_s = 1,
                    .client_id = "nowill"});
  ASSERT_EQ(peer.receive(), Message(WillTopicReq{}));
  peer.send_bytes(std::vector<std::uint8_t>{0x02, 0x07});  // the two-octet WILLTOPIC
  ASSERT_EQ(peer.receive(), Message(Connack{}));
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_keepalive_expired_total") == 1; }, 4000ms));
  EXPECT_EQ(seen_->size(), 0u);
}

TEST_F(ProtocolTest, CleanSessionClearsTheWill) {
  auto o = client_options("c");
  o.will_topic = "x/will";
  o.will_message = "gone";
  ASSERT_TRUE(connect(o));
  o.will_topic.clear();
  o.keep_alive_s = 1;
  o.clean_session = true;
  ASSERT_TRUE(connect(o));  // a new socket, same ClientId, CleanSession=1, no Will flag
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_keepalive_expired_total") >= 1; }, 4000ms));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(seen_->size(), 0u);
}

TEST_F(ProtocolTest, PersistentSessionKeepsTheWill) {
  auto o = client_options("p");
  o.clean_session = false;
  o.will_topic = "x/will";
  o.will_message = "gone";
  ASSERT_TRUE(connect(o));
  o.will_topic.clear();
  o.keep_alive_s = 1;
  ASSERT_TRUE(connect(o));  // CleanSession=0 without the Will flag keeps the stored Will
  ASSERT_TRUE(eventually([&] { return seen_->size() == 1; }, 4000ms));
}

TEST_F(ProtocolTest, WillTopicUpdAndWillMsgUpd) {
  auto o = client_options("u");
  o.keep_alive_s = 1;
  o.will_topic = "old/topic";
  o.will_message = "old";
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  ASSERT_TRUE(dev->update_will_topic("new/topic", 2).is_ok());
  ASSERT_TRUE(dev->update_will_message("new").is_ok());
  EXPECT_EQ(counter("resonance_mqttsn_packets_out_total", "type=\"WILLTOPICRESP\""), 1u);
  // Counted just after the send: the client may see the reply first.
  EXPECT_TRUE(eventually(
      [&] { return counter("resonance_mqttsn_packets_out_total", "type=\"WILLMSGRESP\"") == 1; }));
  ASSERT_TRUE(eventually([&] { return seen_->size() == 1; }, 4000ms));
  EXPECT_EQ(std::get<1>(seen_->wills[0]), "new/topic");
  EXPECT_EQ(std::get<2>(seen_->wills[0]), "new");
  EXPECT_EQ(std::get<3>(seen_->wills[0]), 2);
}

TEST_F(ProtocolTest, EmptyWillTopicUpdDeletesTheWill) {
  auto o = client_options("d");
  o.keep_alive_s = 1;
  o.will_topic = "t";
  o.will_message = "m";
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  ASSERT_TRUE(dev->update_will_topic("", 0).is_ok());
  // Without a Will topic a WILLMSGUPD has nothing to attach to.
  EXPECT_FALSE(dev->update_will_message("m2").is_ok());
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_keepalive_expired_total") == 1; }, 4000ms));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(seen_->size(), 0u);
}

// ---- 6.6, 6.7, 6.8 PUBLISH ----

TEST_F(ProtocolTest, Qos2PublishIsStoredOnceAndCompleted) {
  auto dev = connect(client_options());
  ASSERT_TRUE(dev);
  const auto topic = *dev->register_topic(kPath);
  auto r = dev->publish(topic, kNormal, 2, sample_payload(1.0));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, PublishOutcome::kAccepted);
  EXPECT_EQ(consumer_.batch_count(), 1u);

  // A retransmitted QoS 2 PUBLISH (our PUBREC lost) gets PUBREC again and is not stored twice.
  RawPeer peer(gateway_->bound_port());
  peer.send(Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 30, .client_id = "raw2"});
  ASSERT_EQ(peer.receive(), Message(Connack{}));
  peer.send(Register{.topic_id = 0, .msg_id = 1, .topic_name = std::string(kPath)});
  auto ack = peer.receive();
  ASSERT_TRUE(ack && std::holds_alternative<Regack>(*ack));
  const auto id = std::get<Regack>(*ack).topic_id;
  const Publish p{.flags = {.qos = 2}, .topic_id = id, .msg_id = 9, .data = sample_payload(2.0)};
  peer.send(p);
  EXPECT_EQ(peer.receive(), Message(Pubrec{.msg_id = 9}));
  Publish again = p;
  again.flags.dup = true;
  peer.send(again);
  EXPECT_EQ(peer.receive(), Message(Pubrec{.msg_id = 9}));
  peer.send(Pubrel{.msg_id = 9});
  EXPECT_EQ(peer.receive(), Message(Pubcomp{.msg_id = 9}));
  EXPECT_EQ(consumer_.batch_count(), 2u);
  EXPECT_EQ(counter("resonance_mqttsn_publishes_total", "qos=\"2\""), 3u);
}

TEST_F(ProtocolTest, Qos2PubrecOnlyAfterDurable) {
  consumer_.set_hold(true);
  RawPeer peer(gateway_->bound_port());
  peer.send(Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 30, .client_id = "h"});
  ASSERT_EQ(peer.receive(), Message(Connack{}));
  peer.send(Register{.topic_id = 0, .msg_id = 1, .topic_name = std::string(kPath)});
  const auto id = std::get<Regack>(*peer.receive()).topic_id;
  peer.send(Publish{.flags = {.qos = 2}, .topic_id = id, .msg_id = 3, .data = sample_payload()});
  EXPECT_FALSE(peer.receive(300));
  consumer_.release();
  EXPECT_EQ(peer.receive(), Message(Pubrec{.msg_id = 3}));
}

TEST_F(ProtocolTest, PredefinedTopicsFromOptions) {
  options_.predefined_topics = {{5, std::string(kPath)}, {6, "cmd/all"}};
  restart_gateway();
  auto dev = connect(client_options());
  ASSERT_TRUE(dev);
  auto r = dev->publish(5, kPredefined, 1, sample_payload(3.0));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, PublishOutcome::kAccepted);
  ASSERT_EQ(consumer_.batch_count(), 1u);
  EXPECT_EQ(consumer_.batch(0).samples.at(0).value, 3.0);
  EXPECT_EQ(*dev->publish(99, kPredefined, 1, sample_payload()), PublishOutcome::kInvalidTopicId);
  // Subscribing by predefined id delivers with that id.
  auto sub = dev->subscribe_id(kPredefined, 6, 1);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->return_code, 0);
  EXPECT_EQ(sub->topic_id, 6);
  EXPECT_EQ(dev->subscribe_id(kPredefined, 77, 1)->return_code, 2);  // unknown predefined id
  ASSERT_TRUE(gateway_->publish_to_devices("cmd/all", bytes("stop"), 1));
  auto got = dev->receive(2000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->topic_id_type, kPredefined);
  EXPECT_EQ((*got)->topic_id, 6);
  EXPECT_EQ((*got)->payload, bytes("stop"));
}

TEST_F(ProtocolTest, QosMinusOneIsConnectionless) {
  options_.predefined_topics = {{5, std::string(kPath)}};
  restart_gateway();
  RawPeer peer(gateway_->bound_port());  // never CONNECTs
  peer.send(Publish{.flags = {.qos = -1, .topic_id_type = TopicIdType::kPredefined}, .topic_id = 5,
                    .msg_id = 0, .data = sample_payload(4.0)});
  ASSERT_TRUE(eventually([&] { return consumer_.batch_count() == 1; }));
  EXPECT_EQ(consumer_.batch(0).samples.at(0).value, 4.0);
  // A normal topic id means nothing without a session: dropped, counted, never answered.
  peer.send(Publish{.flags = {.qos = -1}, .topic_id = 1, .msg_id = 0, .data = sample_payload()});
  EXPECT_FALSE(peer.receive(300));
  EXPECT_EQ(counter("resonance_mqttsn_publishes_total", "qos=\"-1\""), 2u);
  EXPECT_EQ(counter("resonance_mqttsn_rejected_total", "reason=\"unsupported\""), 1u);
}

TEST_F(ProtocolTest, ShortTopicNamesRouteToSubscribers) {
  auto listener = connect(client_options("listener"));
  auto talker = connect(client_options("talker"));
  ASSERT_TRUE(listener && talker);
  const std::uint16_t c1 = ('c' << 8) | '1';
  ASSERT_EQ(listener->subscribe_id(kShort, c1, 1)->return_code, 0);
  auto r = talker->publish(c1, kShort, 1, bytes("go"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, PublishOutcome::kAccepted);
  auto got = listener->receive(2000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->topic, "c1");
  EXPECT_EQ((*got)->topic_id_type, kShort);
  EXPECT_EQ(consumer_.batch_count(), 0u);  // "c1" is no series path: routed, not stored
  EXPECT_EQ(counter("resonance_mqttsn_routed_only_total"), 1u);
}

// ---- 6.9, 6.10 SUBSCRIBE / UNSUBSCRIBE, downstream ----

TEST_F(ProtocolTest, WildcardSubscriptionRegistersBeforeTheFirstPublish) {
  auto dev = connect(client_options());
  ASSERT_TRUE(dev);
  auto sub = dev->subscribe("cmd/+/start", 1);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->topic_id, 0);  // wildcards get 0x0000 (spec 6.9)
  EXPECT_EQ(sub->granted_qos, 1);
  ASSERT_TRUE(gateway_->publish_to_devices("cmd/m1/start", bytes("1"), 1));
  ASSERT_TRUE(gateway_->publish_to_devices("cmd/m1/start", bytes("2"), 1));
  ASSERT_TRUE(gateway_->publish_to_devices("cmd/m1/stop", bytes("x"), 1));  // no match
  for (const char* want : {"1", "2"}) {
    auto got = dev->receive(2000);
    ASSERT_TRUE(got && *got) << want;
    EXPECT_EQ((*got)->topic, "cmd/m1/start");
    EXPECT_EQ((*got)->payload, bytes(want));
    EXPECT_EQ((*got)->qos, 1);
  }
  EXPECT_FALSE(*dev->receive(300));
  EXPECT_EQ(counter("resonance_mqttsn_packets_out_total", "type=\"REGISTER\""), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_packets_in_total", "type=\"REGACK\""), 1u);
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_downstream_acked_total") == 2; }));
}

TEST_F(ProtocolTest, HashWildcardAndPlainNameAndUnsubscribe) {
  auto dev = connect(client_options());
  ASSERT_TRUE(dev);
  auto plain = dev->subscribe("line1/cnc/out", 0);
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->topic_id, 0);  // a plain name gets its id in SUBACK
  ASSERT_EQ(dev->subscribe("model/#", 0)->return_code, 0);
  EXPECT_EQ(dev->subscribe("bad/#/x", 0)->return_code, 3);
  gateway_->publish_to_devices("line1/cnc/out", bytes("a"), 0);
  gateway_->publish_to_devices("model", bytes("b"), 0);
  gateway_->publish_to_devices("model/a/b", bytes("c"), 0);
  for (const char* want : {"a", "b", "c"}) {
    auto got = dev->receive(2000);
    ASSERT_TRUE(got && *got) << want;
    EXPECT_EQ((*got)->payload, bytes(want));
    EXPECT_EQ((*got)->qos, 0);
  }
  ASSERT_TRUE(dev->unsubscribe("model/#").is_ok());
  gateway_->publish_to_devices("model/a/b", bytes("d"), 0);
  EXPECT_FALSE(*dev->receive(300));
}

TEST_F(ProtocolTest, DeviceToDeviceOnASeriesTopicIsStoredAndDelivered) {
  auto listener = connect(client_options("l"));
  auto talker = connect(client_options("t"));
  ASSERT_TRUE(listener && talker);
  ASSERT_EQ(listener->subscribe("plant1/#", 0)->return_code, 0);
  const auto id = *talker->register_topic(kPath);
  ASSERT_EQ(*talker->publish_qos1(id, sample_payload()), PublishOutcome::kAccepted);
  EXPECT_EQ(consumer_.batch_count(), 1u);
  auto got = listener->receive(2000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->topic, kPath);
}

TEST_F(ProtocolTest, Qos2Downstream) {
  auto dev = connect(client_options());
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->subscribe("out/x", 2)->granted_qos, 2);
  ASSERT_TRUE(gateway_->publish_to_devices("out/x", bytes("q2"), 2));
  auto got = dev->receive(2000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->qos, 2);
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_downstream_acked_total") == 1; }));
  EXPECT_EQ(counter("resonance_mqttsn_packets_out_total", "type=\"PUBREL\""), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_packets_in_total", "type=\"PUBCOMP\""), 1u);
}

TEST_F(ProtocolTest, RetransmissionSetsDupAndOneOutstandingPerClient) {
  RawPeer peer(gateway_->bound_port());
  peer.send(Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 60, .client_id = "r"});
  ASSERT_EQ(peer.receive(), Message(Connack{}));
  peer.send(Subscribe{.flags = {.qos = 1}, .msg_id = 1, .topic_name = "a/b", .topic_id = 0});
  auto suback = peer.receive();
  ASSERT_TRUE(suback && std::holds_alternative<Suback>(*suback));
  gateway_->publish_to_devices("a/b", bytes("one"), 1);
  gateway_->publish_to_devices("a/b", bytes("two"), 1);
  auto first = peer.receive();
  ASSERT_TRUE(first && std::holds_alternative<Publish>(*first));
  EXPECT_FALSE(std::get<Publish>(*first).flags.dup);
  EXPECT_EQ(std::get<Publish>(*first).data, bytes("one"));
  auto again = peer.receive();  // not "two": one outstanding message per client
  ASSERT_TRUE(again && std::holds_alternative<Publish>(*again));
  EXPECT_TRUE(std::get<Publish>(*again).flags.dup);
  EXPECT_EQ(std::get<Publish>(*again).data, bytes("one"));
  const auto& p = std::get<Publish>(*again);
  peer.send(Puback{.topic_id = p.topic_id, .msg_id = p.msg_id});
  auto second = peer.receive();
  ASSERT_TRUE(second && std::holds_alternative<Publish>(*second));
  EXPECT_EQ(std::get<Publish>(*second).data, bytes("two"));
  EXPECT_GE(counter("resonance_mqttsn_retransmissions_total"), 1u);
}

TEST_F(ProtocolTest, ExhaustedRetriesLoseTheClientAndPublishItsWill) {
  options_.max_retries = 2;
  restart_gateway();
  RawPeer peer(gateway_->bound_port());
  peer.send(Connect{.flags = {.will = true, .clean_session = true}, .protocol_id = 1, .duration_s = 60,
                    .client_id = "deaf"});
  ASSERT_EQ(peer.receive(), Message(WillTopicReq{}));
  peer.send(WillTopic{.flags = {}, .topic = "deaf/status"});
  ASSERT_EQ(peer.receive(), Message(WillMsgReq{}));
  peer.send(WillMsg{.message = bytes("lost")});
  ASSERT_EQ(peer.receive(), Message(Connack{}));
  peer.send(Subscribe{.flags = {.qos = 1}, .msg_id = 1, .topic_name = "a/b", .topic_id = 0});
  ASSERT_TRUE(peer.receive());
  gateway_->publish_to_devices("a/b", bytes("x"), 1);
  ASSERT_TRUE(eventually([&] { return seen_->size() == 1; }, 4000ms));
  EXPECT_EQ(counter("resonance_mqttsn_retransmissions_total"), 2u);
  EXPECT_EQ(counter("resonance_mqttsn_downstream_dropped_total", "reason=\"retries\""), 1u);
}

// ---- 6.14 sleeping clients ----

TEST_F(ProtocolTest, SleepingClientGetsBufferedMessagesThenPingresp) {
  auto dev = connect(client_options("sleepy"));
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->subscribe("cmd/sleepy/#", 1)->return_code, 0);
  ASSERT_TRUE(dev->sleep(30).is_ok());
  for (int i = 0; i < 3; ++i)
    gateway_->publish_to_devices(fmt::format("cmd/sleepy/{}", i), bytes(std::to_string(i)), i % 2);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(counter("resonance_mqttsn_downstream_total"), 0u);  // nothing goes out while asleep
  auto woke = dev->wake();
  ASSERT_TRUE(woke) << woke.error().message();
  ASSERT_EQ(woke->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*woke)[i].payload, bytes(std::to_string(i)));
  // Back asleep: the next message is buffered again, and a wake with nothing buffered is a PINGRESP.
  gateway_->publish_to_devices("cmd/sleepy/x", bytes("later"), 1);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(counter("resonance_mqttsn_downstream_total"), 3u);
  woke = dev->wake();
  ASSERT_TRUE(woke);
  ASSERT_EQ(woke->size(), 1u);
  woke = dev->wake();
  ASSERT_TRUE(woke);
  EXPECT_TRUE(woke->empty());
}

TEST_F(ProtocolTest, SleepBufferIsBoundedDropOldest) {
  options_.max_queued_per_client = 2;
  restart_gateway();
  auto dev = connect(client_options("s"));
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->subscribe("q", 0)->return_code, 0);
  ASSERT_TRUE(dev->sleep(30).is_ok());
  for (const char* m : {"1", "2", "3"}) gateway_->publish_to_devices("q", bytes(m), 0);
  ASSERT_TRUE(eventually([&] {
    return counter("resonance_mqttsn_downstream_dropped_total", "reason=\"queue_full\"") == 1;
  }));
  auto woke = dev->wake();
  ASSERT_TRUE(woke);
  ASSERT_EQ(woke->size(), 2u);
  EXPECT_EQ((*woke)[0].payload, bytes("2"));
  EXPECT_EQ((*woke)[1].payload, bytes("3"));
}

TEST_F(ProtocolTest, ClientLostAfterTheSleepDurationPublishesItsWill) {
  auto o = client_options("nap");
  o.will_topic = "nap/status";
  o.will_message = "lost";
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  ASSERT_TRUE(dev->sleep(1).is_ok());
  std::this_thread::sleep_for(900ms);
  EXPECT_EQ(seen_->size(), 0u);
  ASSERT_TRUE(eventually([&] { return seen_->size() == 1; }, 3000ms));
}

// ---- 6.1 discovery, allow-lists, IPv6 ----

TEST_F(ProtocolTest, SearchGwGetsGwInfoAndAdvertiseIsPeriodic) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  options_.gateway_id = 42;
  options_.advertise_interval_ms = 100;
  options_.advertise_address = fmt::format("127.0.0.1:{}", ntohs(a.sin_port));
  restart_gateway();
  int advertises = 0;
  for (int i = 0; i < 2; ++i) {
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    ASSERT_EQ(::poll(&pfd, 1, 2000), 1);
    std::array<std::uint8_t, 64> buf{};
    const auto n = ::recv(fd, buf.data(), buf.size(), 0);
    auto m = decode(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, Message(Advertise{.gw_id = 42, .duration_s = 1}));
    ++advertises;
  }
  ::close(fd);
  EXPECT_EQ(advertises, 2);
  RawPeer peer(gateway_->bound_port());
  peer.send(SearchGw{.radius = 0});
  EXPECT_EQ(peer.receive(), Message(GwInfo{.gw_id = 42, .gw_address = {}}));
}

TEST_F(ProtocolTest, ClientIdAllowList) {
  options_.allowed_client_ids = {"good"};
  restart_gateway();
  EXPECT_TRUE(Client::connect(client_options("good")));
  auto bad = Client::connect(client_options("bad"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("0x03"), std::string::npos);
  EXPECT_EQ(counter("resonance_mqttsn_denied_total"), 1u);
}

TEST_F(ProtocolTest, SourceAddressAllowList) {
  options_.allowed_sources = {"::1"};
  restart_gateway();
  auto o = client_options();
  o.retry_timeout_ms = 100;
  o.max_retries = 1;
  EXPECT_FALSE(Client::connect(o));  // from 127.0.0.1: dropped without an answer
  EXPECT_GE(counter("resonance_mqttsn_denied_total"), 1u);
}

TEST_F(ProtocolTest, Ipv6Loopback) {
  options_.bind_address = "::1";
  restart_gateway();
  auto o = client_options();
  o.host = "::1";
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  const auto id = *dev->register_topic(kPath);
  EXPECT_EQ(*dev->publish_qos1(id, sample_payload()), PublishOutcome::kAccepted);
  ASSERT_EQ(dev->subscribe("v6/cmd", 1)->return_code, 0);
  gateway_->publish_to_devices("v6/cmd", bytes("hi"), 1);
  auto got = dev->receive(2000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->payload, bytes("hi"));
}

// ---- persistence ----

TEST_F(ProtocolTest, RestartKeepsSessionsSubscriptionsAndTopicIds) {
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("mqttsn-restart-{}", ::getpid());
  std::filesystem::create_directories(dir);
  options_.state_file = (dir / "mqttsn-sessions.state").string();
  restart_gateway();
  auto o = client_options("keeper");
  o.clean_session = false;
  o.will_topic = "keeper/status";
  o.will_message = "gone";
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  const auto id = *dev->register_topic(kPath);
  ASSERT_EQ(dev->subscribe("cmd/keeper/#", 1)->return_code, 0);
  const auto port = gateway_->bound_port();

  options_.port = port;  // the device keeps talking to the same address
  gateway_.reset();      // stop() writes the state file
  ASSERT_TRUE(std::filesystem::exists(options_.state_file));
  start_gateway();
  EXPECT_EQ(counter("resonance_mqttsn_sessions_restored_total"), 1u);
  // No reconnect: the old topic id still works, and the subscription still delivers.
  auto r = dev->publish_qos1(id, sample_payload(9.0));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, PublishOutcome::kAccepted);
  gateway_->publish_to_devices("cmd/keeper/go", bytes("go"), 1);
  auto got = dev->receive(2000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->topic, "cmd/keeper/go");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::mqttsn
