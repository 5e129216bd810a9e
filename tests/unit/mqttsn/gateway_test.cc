// The gateway's issue-2 behaviour over real UDP loopback (fixture: gateway_fixture.h).

#include "tests/unit/mqttsn/gateway_fixture.h"

namespace resonance::mqttsn {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

TEST_F(GatewayTest, Qos0PublishBecomesABatchWithProvenance) {
  auto client = connect(client_options("press-7"));
  ASSERT_TRUE(client);
  auto topic = client->register_topic(kPath);
  ASSERT_TRUE(topic) << topic.error().message();
  EXPECT_EQ(*topic, 1);
  EXPECT_EQ(*client->register_topic(kPath), 1);  // same name, same id
  ASSERT_TRUE(client->publish_qos0(*topic, sample_payload(42.0)).is_ok());
  ASSERT_TRUE(eventually([&] { return consumer_.batch_count() == 1; }));
  const SampleBatch b = consumer_.batch(0);
  ASSERT_EQ(b.samples.size(), 1u);
  EXPECT_EQ(b.samples[0].series, catalog_->find(kPath)->id);
  EXPECT_EQ(b.samples[0].value, 42.0);
  EXPECT_EQ(b.samples[0].ts_ns, 1'767'225'600'000'000'000);
  EXPECT_EQ(b.provenance.connector, "mqttsn");
  EXPECT_EQ(b.provenance.client_id, "press-7");
  EXPECT_GT(b.provenance.receive_ts_ns, 0);
  EXPECT_EQ(counter("resonance_mqttsn_publishes_total", "qos=\"0\""), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_packets_in_total", "type=\"CONNECT\""), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_packets_out_total", "type=\"REGACK\""), 2u);
}

TEST_F(GatewayTest, PubackOnlyAfterTheDurableCallback) {
  consumer_.set_hold(true);
  auto options = client_options();
  options.retry_timeout_ms = 400;
  options.max_retries = 20;  // keeps retransmitting (with DUP) while the batch is not durable
  auto client = connect(options);
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  auto outcome = std::async(std::launch::async, [&] {
    return client->publish_qos1(topic, sample_payload());
  });
  ASSERT_TRUE(eventually([&] { return consumer_.held_count() == 1; }));
  // Not durable yet: no PUBACK, whatever the client retransmits meanwhile.
  EXPECT_EQ(outcome.wait_for(1000ms), std::future_status::timeout);
  EXPECT_EQ(pubacks("accepted"), 0u);
  EXPECT_GE(counter("resonance_mqttsn_duplicates_total"), 1u);  // the DUP retransmissions
  consumer_.release();
  ASSERT_EQ(outcome.wait_for(3000ms), std::future_status::ready);
  auto result = outcome.get();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, PublishOutcome::kAccepted);
  EXPECT_EQ(pubacks("accepted"), 1u);
  EXPECT_EQ(consumer_.batch_count(), 1u);  // stored once despite the retransmissions
}

TEST_F(GatewayTest, NotDurableBecomesCongestion) {
  consumer_.set_hold(true);
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  auto outcome = std::async(std::launch::async, [&] { return client->publish_qos1(topic, sample_payload()); });
  ASSERT_TRUE(eventually([&] { return consumer_.held_count() == 1; }));
  consumer_.release(Status(StatusCode::kIoError, "fdatasync: EIO"));
  auto result = outcome.get();
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, PublishOutcome::kCongestion);
  EXPECT_EQ(counter("resonance_mqttsn_durable_errors_total"), 1u);
}

TEST_F(GatewayTest, RetryLaterIsCongestion) {
  consumer_.set_answer(Admission::kRetryLater);
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  auto result = client->publish_qos1(topic, sample_payload());
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, PublishOutcome::kCongestion);
  EXPECT_EQ(counter("resonance_mqttsn_congestion_total"), 1u);
  EXPECT_EQ(pubacks("congestion"), 1u);
  EXPECT_EQ(consumer_.batch_count(), 0u);
}

TEST_F(GatewayTest, RejectedBatchIsNotSupported) {
  consumer_.set_answer(Admission::kRejected);
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  EXPECT_EQ(*client->publish_qos1(topic, sample_payload()), PublishOutcome::kNotSupported);
  EXPECT_EQ(counter("resonance_mqttsn_rejected_total", "reason=\"pipeline\""), 1u);
}

TEST_F(GatewayTest, UnknownTopicIdIsRc02) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  auto result = client->publish_qos1(99, sample_payload());
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*result, PublishOutcome::kInvalidTopicId);
  EXPECT_EQ(pubacks("invalid_topic_id"), 1u);
  EXPECT_EQ(consumer_.batch_count(), 0u);
}

TEST_F(GatewayTest, TopicIdsArePerClient) {
  auto a = connect(client_options("dev-a"));
  auto b = connect(client_options("dev-b"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a->register_topic(kPath), 1);
  // dev-b never registered id 1.
  EXPECT_EQ(*b->publish_qos1(1, sample_payload()), PublishOutcome::kInvalidTopicId);
  EXPECT_EQ(*a->publish_qos1(1, sample_payload()), PublishOutcome::kAccepted);
}

TEST_F(GatewayTest, UndecodablePayloadIsNotSupportedAndCounted) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  const std::vector<std::uint8_t> text = {'4', '2'};
  EXPECT_EQ(*client->publish_qos1(topic, text), PublishOutcome::kNotSupported);
  EXPECT_EQ(counter("resonance_mqttsn_rejected_total", "reason=\"payload\""), 1u);
  EXPECT_EQ(consumer_.batch_count(), 0u);
}

TEST_F(GatewayTest, RegisterOfANonSeriesPathIsRc03) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  auto topic = client->register_topic("factory/cnc1/state");  // three segments, not five
  ASSERT_FALSE(topic);
  EXPECT_EQ(topic.error().message(), "mqttsn client: REGISTER 'factory/cnc1/state' refused with rc 0x03");
  EXPECT_EQ(counter("resonance_mqttsn_register_rejected_total"), 1u);
}

TEST_F(GatewayTest, DuplicateOfAnAckedPublishIsAckedAgainNotStored) {
  RawPeer peer(gateway_->bound_port());
  peer.send(Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 30, .client_id = "raw"});
  ASSERT_EQ(peer.receive(), Message(Connack{}));
  peer.send(Register{.topic_id = 0, .msg_id = 1, .topic_name = std::string(kPath)});
  auto regack = peer.receive();
  ASSERT_TRUE(regack);
  const auto topic = std::get<Regack>(*regack).topic_id;
  Publish p{.flags = {.qos = 1}, .topic_id = topic, .msg_id = 5, .data = sample_payload()};
  peer.send(p);
  const Message ack = Puback{.topic_id = topic, .msg_id = 5, .return_code = ReturnCode::kAccepted};
  ASSERT_EQ(peer.receive(), ack);
  p.flags.dup = true;  // our PUBACK "was lost": the client retransmits
  peer.send(p);
  ASSERT_EQ(peer.receive(), ack);
  EXPECT_EQ(consumer_.batch_count(), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_duplicates_total"), 1u);
  p.msg_id = 6;  // a new message is stored
  peer.send(p);
  ASSERT_TRUE(peer.receive());
  EXPECT_EQ(consumer_.batch_count(), 2u);
}

TEST_F(GatewayTest, MalformedFloodThenANormalClientStillWorks) {
  {
    RawPeer flood(gateway_->bound_port());
    std::mt19937 rng(20260101);
    std::uniform_int_distribution<int> size(0, 300), byte(0, 255);
    for (int i = 0; i < 3000; ++i) {
      std::vector<std::uint8_t> junk(static_cast<std::size_t>(size(rng)));
      for (auto& b : junk) b = static_cast<std::uint8_t>(byte(rng));
      if (i % 3 == 0 && junk.size() > 1) junk[0] = static_cast<std::uint8_t>(junk.size());  // plausible length
      flood.send_bytes(junk);
      if (i % 100 == 0) std::this_thread::sleep_for(1ms);  // stay below the socket buffer
    }
    const std::vector<std::uint8_t> nasty[] = {
        {}, {0x01}, {0x01, 0x00}, {0x01, 0x00, 0x00, 0x0c}, {0x01, 0xff, 0xff, 0x0c}, {0x02, 0x0c},
        {0x03, 0x0c, 0x03}, {0x05, 0x04, 0x04, 0x01, 0x00}};
    for (const auto& n : nasty) flood.send_bytes(n);
  }
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_malformed_total") > 1500; }));
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = client->register_topic(kPath);
  ASSERT_TRUE(topic);
  EXPECT_EQ(*client->publish_qos1(*topic, sample_payload()), PublishOutcome::kAccepted);
}

TEST_F(GatewayTest, PingAndDisconnect) {
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->ping().is_ok());
  // The gateway counts a reply after sending it, so the count may trail the client slightly.
  EXPECT_TRUE(eventually([&] { return counter("resonance_mqttsn_packets_out_total", "type=\"PINGRESP\"") == 1; }));
  EXPECT_EQ(metrics_.gauge("resonance_mqttsn_sessions", "").value(), 1.0);
  ASSERT_TRUE(client->disconnect().is_ok());
  EXPECT_EQ(metrics_.gauge("resonance_mqttsn_sessions", "").value(), 0.0);
  // The session is gone: a PUBLISH now gets DISCONNECT, which the client reports.
  auto result = client->publish_qos1(1, sample_payload());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(counter("resonance_mqttsn_unconnected_total"), 1u);
}

TEST_F(GatewayTest, UnconnectedEndpointGetsDisconnect) {
  RawPeer peer(gateway_->bound_port());
  peer.send(Register{.topic_id = 0, .msg_id = 1, .topic_name = std::string(kPath)});
  EXPECT_EQ(peer.receive(), Message(Disconnect{}));
  peer.send(Publish{.flags = {}, .topic_id = 1, .msg_id = 0, .data = sample_payload()});
  EXPECT_EQ(peer.receive(), Message(Disconnect{}));
  EXPECT_EQ(consumer_.batch_count(), 0u);
}

TEST_F(GatewayTest, UnknownPredefinedTopicIdIsRc02) {
  RawPeer peer(gateway_->bound_port());
  peer.send(Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 30, .client_id = "p"});
  ASSERT_EQ(peer.receive(), Message(Connack{}));
  peer.send(Publish{.flags = {.qos = 1, .topic_id_type = TopicIdType::kPredefined}, .topic_id = 7,
                    .msg_id = 1, .data = sample_payload()});
  EXPECT_EQ(peer.receive(),
            Message(Puback{.topic_id = 7, .msg_id = 1, .return_code = ReturnCode::kInvalidTopicId}));
}

TEST_F(GatewayTest, KeepAliveDropsASilentSession) {
  auto options = client_options();
  options.keep_alive_s = 1;
  auto client = connect(options);
  ASSERT_TRUE(client);
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_keepalive_expired_total") == 1; }, 4000ms));
  auto result = client->register_topic(kPath);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), StatusCode::kFailedPrecondition);
}

TEST_F(GatewayTest, StopIsIdempotentAndLateCallbacksAreHarmless) {
  consumer_.set_hold(true);
  auto client = connect(client_options());
  ASSERT_TRUE(client);
  const auto topic = *client->register_topic(kPath);
  ASSERT_TRUE(client->publish_qos0(topic, sample_payload()).is_ok());
  ASSERT_TRUE(eventually([&] { return consumer_.held_count() == 1; }));
  gateway_->stop();
  gateway_->stop();
  gateway_.reset();
  consumer_.release();  // the pipeline's flusher fires after the gateway is gone
}

}  // namespace
}  // namespace resonance::mqttsn
