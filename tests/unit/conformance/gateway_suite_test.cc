// The gateway suite against our own gateway over loopback, and against a silent peer.

#include "connectors/mqttsn/conformance/gateway_suite.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/mqttsn/gateway.h"
#include "fake_consumer.h"

namespace resonance::mqttsn::conformance {
namespace {

const CheckResult* find(const Report& r, std::string_view id) {
  for (const auto& c : r.checks)
    if (c.id == id) return &c;
  return nullptr;
}

TEST(GatewaySuite, OurGatewayPassesEveryImplementedProcedure) {
  MetricsRegistry metrics;
  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog);
  testing::DurableConsumer consumer;
  GatewayOptions go;
  go.port = 0;
  Gateway gateway(go, consumer, **catalog, metrics);
  ASSERT_TRUE(gateway.start());
  GatewaySuiteOptions o;
  auto addr = make_address("127.0.0.1", gateway.bound_port());
  ASSERT_TRUE(addr);
  o.gateway = *addr;
  o.timeout_ms = 1000;
  const Report report = run_gateway_suite(o);
  gateway.stop();
  std::cout << report.to_text();
  // What the gateway implements since issue 2 must pass.
  for (std::string_view id : {"searchgw", "connect", "connect.long_length", "register", "publish.qos0",
                              "publish.qos1", "publish.long_length", "publish.large", "publish.unknown_topic",
                              "ping", "disconnect", "malformed"}) {
    const CheckResult* c = find(report, id);
    ASSERT_NE(c, nullptr) << id;
    EXPECT_EQ(c->verdict, Verdict::kPass) << id << ": " << c->detail;
  }
  // The rest may be anything, but a non-pass is explained and shows the bytes exchanged.
  for (const auto& c : report.checks) {
    EXPECT_FALSE(c.section.empty());
    if (c.verdict != Verdict::kPass) {
      EXPECT_FALSE(c.detail.empty()) << c.id;
      EXPECT_FALSE(c.exchanges.empty()) << c.id;
    }
  }
  EXPECT_EQ(report.checks.size(), 19u);
  // The suite's publishes really went through to the pipeline: qos1, long form, 40-sample batch.
  EXPECT_GE(consumer.samples(), 42u);
}

TEST(GatewaySuite, ASilentPeerFailsEveryCheckWithTheBytesSent) {
  auto quiet = UdpSocket::bind(*make_address("127.0.0.1", 0));
  ASSERT_TRUE(quiet);
  GatewaySuiteOptions o;
  o.gateway = *make_address("127.0.0.1", quiet->local_port());
  o.timeout_ms = 50;
  const Report report = run_gateway_suite(o);
  EXPECT_EQ(report.count(Verdict::kPass), 0u);
  EXPECT_EQ(report.count(Verdict::kFail), report.checks.size());
  const CheckResult* c = find(report, "connect");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->detail, "expected CONNACK within 50 ms, got nothing");
  ASSERT_EQ(c->exchanges.size(), 1u);
  EXPECT_TRUE(c->exchanges[0].sent);
  EXPECT_EQ(c->exchanges[0].decoded, "CONNECT");
  EXPECT_EQ(c->exchanges[0].hex.substr(3, 14), "04 04 01 00 1e");  // CONNECT clean, protocol 1, keep-alive 30
  const CheckResult* longc = find(report, "connect.long_length");
  ASSERT_NE(longc, nullptr);
  EXPECT_EQ(longc->exchanges[0].hex.substr(0, 5), "01 00");
  EXPECT_EQ(longc->exchanges[0].hex.substr(8, 6), " 04 04");
  // The JSON report follows docs/conformance.md.
  auto j = nlohmann::json::parse(report.to_json());
  EXPECT_EQ(j["schema"], "resonance.conformance.v1");
  EXPECT_EQ(j["suite"], "mqtt-sn");
  EXPECT_EQ(j["summary"]["fail"], report.checks.size());
  EXPECT_EQ(j["checks"][1]["id"], "connect");
  EXPECT_EQ(j["checks"][1]["section"], "6.2");
  EXPECT_EQ(j["checks"][1]["verdict"], "fail");
  EXPECT_EQ(j["checks"][1]["exchanges"][0]["direction"], "sent");
}

TEST(GatewaySuite, ParsesHostPort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:1884")->to_string(), "127.0.0.1:1884");
  EXPECT_EQ(parse_host_port("[::1]:1884")->to_string(), "[::1]:1884");
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port("127.0.0.1:0"));
  EXPECT_FALSE(parse_host_port("127.0.0.1:70000"));
  EXPECT_FALSE(parse_host_port("[::1]1884"));
}

}  // namespace
}  // namespace resonance::mqttsn::conformance
