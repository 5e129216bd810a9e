// The bridge's option checks and topic mapping (no broker needed; tests/integration/mqttsn_bridge
// runs it against mosquitto).

#include "connectors/mqttsn/bridge.h"

#include <gtest/gtest.h>

namespace resonance::mqttsn {
namespace {

TEST(BridgeOptions, DefaultsAreValid) { EXPECT_TRUE(validate(BridgeOptions{}).is_ok()); }

TEST(BridgeOptions, ErrorsNameTheFieldAndNeverThePassword) {
  auto message = [](BridgeOptions o) { return validate(o).message(); };
  BridgeOptions o;
  o.subscribe = {"a/+/b", "a/#/b"};
  EXPECT_EQ(message(o), "mqtt_bridge.subscribe entry 2 'a/#/b': not a valid MQTT topic filter");
  o = {};
  o.broker_prefix = "factory/#";
  EXPECT_NE(message(o).find("broker_prefix"), std::string::npos);
  o = {};
  o.password = "hunter2";
  EXPECT_EQ(message(o), "mqtt_bridge.password: set without a username");
  o = {};
  o.keep_alive_s = 2;
  EXPECT_EQ(message(o), "mqtt_bridge.keep_alive_s: 2 (5..65535)");
  o = {};
  o.reconnect_min_s = 10;
  o.reconnect_max_s = 5;
  EXPECT_NE(message(o).find("reconnect_min_s"), std::string::npos);
  o = {};
  o.subscribe_qos = 3;
  EXPECT_FALSE(validate(o).is_ok());
  o = {};
  o.client_id.clear();
  EXPECT_FALSE(validate(o).is_ok());
}

TEST(BridgeOptions, StartRefusesBadOptions) {
  MetricsRegistry metrics;
  BridgeOptions o;
  o.port = 0;
  Bridge bridge(o, metrics);
  const Status s = bridge.start(nullptr);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(bridge.connected());
}

TEST(BridgeMapping, PrefixesMapBothWaysAndOtherTopicsPassUnchanged) {
  BridgeOptions o;
  o.broker_prefix = "factory/";
  o.device_prefix = "";
  EXPECT_EQ(to_device_topic(o, "factory/cmd/p7"), "cmd/p7");
  EXPECT_EQ(to_broker_topic(o, "cmd/p7"), "factory/cmd/p7");
  EXPECT_EQ(to_device_topic(o, "elsewhere/x"), "elsewhere/x");
  o.device_prefix = "up/";
  EXPECT_EQ(to_device_topic(o, "factory/a/b"), "up/a/b");
  EXPECT_EQ(to_broker_topic(o, "up/a/b"), "factory/a/b");
  EXPECT_EQ(to_broker_topic(o, "status/p7"), "status/p7");  // outside the device prefix
  for (std::string t : {"up/x", "up/", "up/a/b/c"}) EXPECT_EQ(to_device_topic(o, to_broker_topic(o, t)), t);
  BridgeOptions none;
  EXPECT_EQ(to_device_topic(none, "a/b"), "a/b");
  EXPECT_EQ(to_broker_topic(none, "a/b"), "a/b");
}

TEST(BridgeWillSink, OutlivesTheBridgeAndCountsDropsWhenStopped) {
  MetricsRegistry metrics;
  WillSink sink;
  {
    BridgeOptions o;
    o.allow_will = [](std::string_view) { return true; };
    Bridge bridge(o, metrics);
    sink = bridge.will_sink();
  }
  const std::uint8_t msg[] = {'x'};
  sink("dev", "status/dev", msg, 1, false);  // no bridge running: dropped and counted, no crash
  EXPECT_EQ(metrics.counter_value("resonance_mqttsn_bridge_wills_dropped_total"), 1u);
  EXPECT_EQ(metrics.counter_value("resonance_mqttsn_bridge_wills_denied_total"), 0u);
}

TEST(BridgeWillSink, AsksTheGateWithTheDeviceTopicAndDeniesByDefault) {
  const std::uint8_t msg[] = {'x'};
  {
    MetricsRegistry metrics;
    Bridge bridge(BridgeOptions{}, metrics);  // no allow_will: deny by default
    bridge.will_sink()("dev", "status/dev", msg, 1, false);
    EXPECT_EQ(metrics.counter_value("resonance_mqttsn_bridge_wills_denied_total"), 1u);
    EXPECT_EQ(metrics.counter_value("resonance_mqttsn_bridge_wills_dropped_total"), 0u);
  }
  MetricsRegistry metrics;
  std::vector<std::string> asked;
  BridgeOptions o;
  o.device_prefix = "up/";
  o.broker_prefix = "factory/";
  o.allow_will = [&](std::string_view topic) {
    asked.emplace_back(topic);
    return false;
  };
  Bridge bridge(o, metrics);
  bridge.will_sink()("dev", "up/status/dev", msg, 1, false);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked.front(), "up/status/dev");  // the device topic, before mapping
  EXPECT_EQ(metrics.counter_value("resonance_mqttsn_bridge_wills_denied_total"), 1u);
  EXPECT_EQ(metrics.counter_value("resonance_mqttsn_bridge_wills_dropped_total"), 0u);
}

}  // namespace
}  // namespace resonance::mqttsn
