// The bridge between the MQTT-SN gateway and a real mosquitto broker over loopback: broker
// messages reach subscribed MQTT-SN devices, Wills of lost devices reach broker subscribers after
// keep-alive expiry, the bridge reconnects with backoff and holds Wills meanwhile, and the
// broker's credentials work and are never logged. Wills pass a real egress gate: with the broker's
// destination denied, a subscriber receives no Will at all.

#include "connectors/mqttsn/bridge.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "resonance/governance/gate.h"
#include "resonance/governance/policy.h"
#include "tests/integration/mqttsn_bridge/broker.h"
#include "tests/unit/mqttsn/gateway_fixture.h"

namespace resonance::mqttsn {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

// The broker counts as destination "plant-broker" (same jurisdiction, monitoring only).
constexpr std::string_view kPolicy = R"(schema_version = 1
kind = "policy"
version = "bridge-test-1"
[node]
jurisdiction = "CN"

[[destination]]
id = "plant-broker"
jurisdiction = "CN"
max_sharing = "green"
purposes = ["monitoring"]
)";

std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         fmt::format("mqttsn-bridge-{}-{}-{}", ::getpid(), name,
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

class BridgeTest : public GatewayTest {
 protected:
  void SetUp() override {
    dir_ = scratch("broker");
    broker_ = std::make_unique<MosquittoBroker>(dir_);
    bridge_options_.port = broker_->port();
    bridge_options_.client_id = fmt::format("resonance-test-{}", ::getpid());
    bridge_options_.subscribe = {"factory/cmd/#"};
    bridge_options_.broker_prefix = "factory/";
    auto policy = governance::parse_policy(kPolicy, "bridge-test.toml");
    ASSERT_TRUE(policy.has_value()) << policy.error().to_string();
    policy_ = std::make_shared<const governance::Policy>(std::move(*policy));
    gate_ = std::make_unique<governance::EgressGate>(policy_, decisions_);
    // As the node wires it: the device topic is the subject (default labels for a non-series).
    bridge_options_.allow_will = [this](std::string_view topic) {
      return gate_->decide(governance::make_subject(*policy_, nullptr, topic), destination_, "monitoring",
                           unix_now_ns())
          .allowed();
    };
    GatewayTest::SetUp();
  }
  void TearDown() override {
    if (bridge_) bridge_->stop();
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Builds the bridge, restarts the gateway with the bridge's Will sink, starts the bridge.
  void start_bridge() {
    bridge_ = std::make_unique<Bridge>(bridge_options_, metrics_);
    options_.on_will = bridge_->will_sink();
    restart_gateway();
    ASSERT_TRUE(bridge_->start(device_sink(*gateway_)).is_ok());
  }
  std::uint64_t bridge_counter(const char* name) const {
    return metrics_.counter_value(fmt::format("resonance_mqttsn_bridge_{}", name));
  }

  std::filesystem::path dir_;
  std::unique_ptr<MosquittoBroker> broker_;
  std::shared_ptr<const governance::Policy> policy_;
  governance::MemoryDecisionSink decisions_;
  std::unique_ptr<governance::EgressGate> gate_;
  std::string destination_ = "plant-broker";
  BridgeOptions bridge_options_;
  std::unique_ptr<Bridge> bridge_;
};

std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

TEST_F(BridgeTest, BrokerMessageReachesSubscribedDevice) {
  ASSERT_TRUE(broker_->start());
  start_bridge();
  ASSERT_TRUE(eventually([&] { return bridge_->ready(); }, 5000ms));
  auto dev = connect(client_options("p7"));
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->subscribe("cmd/p7/#", 1)->return_code, 0);

  BrokerClient mes(broker_->port(), "mes");
  ASSERT_TRUE(mes.wait_connected());
  ASSERT_TRUE(mes.publish("factory/other/p7", "not bridged"));     // outside the filter
  ASSERT_TRUE(mes.publish("factory/cmd/p9/speed", "for p9"));      // bridged, nobody subscribed
  ASSERT_TRUE(mes.publish("factory/cmd/p7/speed", "1200", 1));
  auto got = dev->receive(3000);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->topic, "cmd/p7/speed");  // "factory/" mapped away
  EXPECT_EQ(text((*got)->payload), "1200");
  EXPECT_EQ((*got)->qos, 1);
  auto more = dev->receive(500);
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);  // neither the unbridged nor the unsubscribed topic came down
  EXPECT_EQ(bridge_counter("down_total"), 2u);
  EXPECT_EQ(bridge_counter("connects_total"), 1u);
}

TEST_F(BridgeTest, WillOfSilentClientArrivesAtBrokerAfterKeepAliveExpiry) {
  ASSERT_TRUE(broker_->start());
  start_bridge();
  ASSERT_TRUE(eventually([&] { return bridge_->ready(); }, 5000ms));
  BrokerClient watcher(broker_->port(), "watcher");
  ASSERT_TRUE(watcher.wait_connected());
  ASSERT_TRUE(watcher.subscribe("factory/status/#"));

  constexpr int kKeepAliveS = 2;
  auto o = client_options("p7");
  o.keep_alive_s = kKeepAliveS;
  o.will_topic = "status/p7/online";
  o.will_message = "lost";
  o.will_qos = 1;
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  const auto last_heard = std::chrono::steady_clock::now();  // the device never pings again
  auto will = watcher.next(kKeepAliveS * 1500 + 3000);
  ASSERT_TRUE(will) << "no Will at the broker; mosquitto log:\n" << broker_->log();
  EXPECT_EQ(will->topic, "factory/status/p7/online");
  EXPECT_EQ(will->payload, "lost");
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(will->at - last_heard);
  // Not before the keep-alive expired; not later than the spec's ×1.5 tolerance plus one
  // supervision period and a little scheduling slack.
  EXPECT_GE(after.count(), kKeepAliveS * 1000);
  EXPECT_LE(after.count(), kKeepAliveS * 1500 + options_.supervision_interval_ms + 400);
  EXPECT_EQ(bridge_counter("wills_total"), 1u);
  ASSERT_EQ(decisions_.size(), 1u);
  EXPECT_TRUE(decisions_.records().front().decision.allowed());
}

// An undeclared destination and no destination at all: the gate denies, the Will is dropped and
// counted, and a subscriber on the broker sees nothing even well after keep-alive expiry.
TEST_F(BridgeTest, DeniedWillNeverReachesTheBroker) {
  for (const std::string destination : {"partner-x", ""}) {
    SCOPED_TRACE("destination '" + destination + "'");
    destination_ = destination;
    const std::uint64_t denied_before = bridge_counter("wills_denied_total");
    if (!bridge_) {
      ASSERT_TRUE(broker_->start());
      start_bridge();
    }
    ASSERT_TRUE(eventually([&] { return bridge_->ready(); }, 5000ms));
    BrokerClient watcher(broker_->port(), "watcher-" + std::to_string(denied_before));
    ASSERT_TRUE(watcher.wait_connected());
    ASSERT_TRUE(watcher.subscribe("factory/status/#"));

    constexpr int kKeepAliveS = 2;
    auto o = client_options("p7d" + std::to_string(denied_before));
    o.keep_alive_s = kKeepAliveS;
    o.will_topic = "status/p7/online";
    o.will_message = "lost";
    o.will_qos = 1;
    o.will_retain = true;  // even a retained Will must not be stored at the broker
    auto dev = connect(o);
    ASSERT_TRUE(dev);
    // 1.5 x keep-alive plus a supervision period and margin: by then the gateway has fired it.
    ASSERT_TRUE(eventually([&] { return bridge_counter("wills_denied_total") == denied_before + 1; },
                           std::chrono::milliseconds(kKeepAliveS * 1500 + options_.supervision_interval_ms + 2000)));
    auto will = watcher.next(1500);
    EXPECT_FALSE(will) << "a denied Will reached the broker on '" << will->topic << "'";
    EXPECT_EQ(bridge_counter("wills_total"), 0u);
    EXPECT_EQ(bridge_counter("wills_dropped_total"), 0u);
  }
  ASSERT_EQ(decisions_.size(), 2u);
  const auto records = decisions_.records();
  EXPECT_EQ(records[0].destination, "partner-x");
  EXPECT_EQ(records[0].decision.rule, governance::rule::kUnknownDestination);
  EXPECT_FALSE(records[1].decision.allowed());
  // A subscriber that arrives later sees no retained Will either.
  BrokerClient late(broker_->port(), "late");
  ASSERT_TRUE(late.wait_connected());
  ASSERT_TRUE(late.subscribe("factory/status/#"));
  EXPECT_FALSE(late.next(1000));
}

TEST_F(BridgeTest, ReconnectsWithBackoffAndHoldsWillsMeanwhile) {
  // The broker is not there yet: start() succeeds and the bridge keeps trying.
  start_bridge();
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(bridge_->connected());
  ASSERT_TRUE(broker_->start());
  ASSERT_TRUE(eventually([&] { return bridge_->ready(); }, 10'000ms));
  EXPECT_EQ(bridge_counter("connects_total"), 1u);

  // The broker goes away; a device is lost meanwhile: its Will waits in the bridge.
  broker_->stop();
  ASSERT_TRUE(eventually([&] { return !bridge_->connected(); }, 5000ms));
  EXPECT_EQ(bridge_counter("disconnects_total"), 1u);
  auto o = client_options("p8");
  o.keep_alive_s = 1;
  o.will_topic = "status/p8/online";
  o.will_message = "lost";
  o.will_qos = 1;
  o.will_retain = true;  // so a subscriber that comes after the broker's restart still sees it
  auto dev = connect(o);
  ASSERT_TRUE(dev);
  ASSERT_TRUE(eventually([&] { return counter("resonance_mqttsn_wills_published_total") == 1; }, 4000ms));
  EXPECT_EQ(bridge_counter("wills_total"), 0u);  // held, not yet sent

  // Same port again: the bridge reconnects, renews its subscription and sends the held Will.
  ASSERT_TRUE(broker_->start());
  ASSERT_TRUE(eventually([&] { return bridge_->ready(); }, 20'000ms));
  EXPECT_EQ(bridge_counter("connects_total"), 2u);
  ASSERT_TRUE(eventually([&] { return bridge_counter("wills_total") == 1; }, 3000ms));
  BrokerClient watcher(broker_->port(), "watcher");
  ASSERT_TRUE(watcher.wait_connected());
  ASSERT_TRUE(watcher.subscribe("factory/status/#"));
  auto will = watcher.next(3000);
  ASSERT_TRUE(will);
  EXPECT_EQ(will->topic, "factory/status/p8/online");
  EXPECT_EQ(will->payload, "lost");
  EXPECT_TRUE(will->retain);

  // And the renewed subscription carries messages down again.
  auto sub = connect(client_options("p9"));
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->subscribe("cmd/#", 0)->return_code, 0);
  ASSERT_TRUE(watcher.publish("factory/cmd/p9/stop", "now"));
  auto got = sub->receive(3000);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->topic, "cmd/p9/stop");
}

TEST_F(BridgeTest, CredentialsAreUsedAndNeverLogged) {
  const std::string kSecret = "s3cret-Pa55word-42";
  broker_ = std::make_unique<MosquittoBroker>(dir_, 0, "gateway", kSecret);
  bridge_options_.port = broker_->port();
  ASSERT_TRUE(broker_->start());
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>("capture",
                                                  std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  capture->set_level(spdlog::level::trace);
  spdlog::set_default_logger(capture);

  bridge_options_.username = "gateway";
  bridge_options_.password = "wrong-" + kSecret;
  start_bridge();
  ASSERT_TRUE(eventually([&] { return bridge_counter("connect_failures_total") >= 1; }, 5000ms));
  EXPECT_FALSE(bridge_->connected());
  bridge_->stop();

  bridge_options_.password = kSecret;
  start_bridge();
  ASSERT_TRUE(eventually([&] { return bridge_->ready(); }, 5000ms));
  bridge_->stop();
  spdlog::set_default_logger(previous);

  EXPECT_NE(log.str().find("refused"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("connected to"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find(kSecret), std::string::npos) << log.str();
}

}  // namespace
}  // namespace resonance::mqttsn
