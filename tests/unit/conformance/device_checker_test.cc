// The device checker against our CNC simulator (a conforming device) and a deliberately bad one.

#include "connectors/mqttsn/conformance/device_checker.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "connectors/mqttsn/codec.h"
#include "connectors/mqttsn/payload.h"
#include "connectors/sim/sim_runner.h"

namespace resonance::mqttsn::conformance {
namespace {

using namespace std::chrono_literals;

const CheckResult* find(const Report& r, std::string_view id) {
  for (const auto& c : r.checks)
    if (c.id == id) return &c;
  return nullptr;
}

// Runs the checker on an ephemeral port; `device(port)` runs on the test thread while it listens.
template <typename F>
Report check_device(double duration_s, F device) {
  std::promise<std::uint16_t> bound;
  auto port = bound.get_future();
  std::jthread checker_thread;
  Result<Report> result = std::unexpected(Status(StatusCode::kInternal, "not run"));
  checker_thread = std::jthread([&](std::stop_token stop) {
    DeviceCheckOptions o;
    o.listen = *make_address("127.0.0.1", 0);
    o.duration_s = duration_s;
    o.on_bound = [&](std::uint16_t p) { bound.set_value(p); };
    result = run_device_checker(o, stop);
  });
  device(port.get());
  checker_thread.request_stop();
  checker_thread.join();
  EXPECT_TRUE(result) << result.error().message();
  return result ? *result : Report{};
}

TEST(DeviceChecker, TheSimulatorConforms) {
  const Report report = check_device(30, [](std::uint16_t port) {
    sim::DeviceOptions d;
    d.gateway_port = port;
    d.sample_hz = 20;
    d.retry_timeout_ms = 300;
    sim::DeviceStats stats;
    std::jthread device([&](std::stop_token stop) { (void)sim::run_device(d, stop, &stats); });
    std::this_thread::sleep_for(1500ms);
  });
  std::cout << report.to_text();
  EXPECT_EQ(report.count(Verdict::kFail), 0u);
  for (std::string_view id : {"packets.decode", "session.connect_first", "register.topic_id", "register.topic_name",
                              "publish.topic_id", "publish.msg_id", "publish.payload", "publish.payload_topic",
                              "traffic"}) {
    const CheckResult* c = find(report, id);
    ASSERT_NE(c, nullptr) << id;
    EXPECT_EQ(c->verdict, Verdict::kPass) << id << ": " << c->detail;
  }
}

TEST(DeviceChecker, ABadDeviceIsCaughtWithTheBytes) {
  const Report report = check_device(30, [](std::uint16_t port) {
    auto gw = *make_address("127.0.0.1", port);
    auto s = UdpSocket::for_peer(gw);
    ASSERT_TRUE(s);
    auto send = [&](const Message& m) { ASSERT_TRUE(s->send_to(gw, *encode(m))); };
    auto answer = [&] { return s->receive(2000); };
    send(Register{0, 1, "plant1/a/b/c/d"});  // before CONNECT
    ASSERT_TRUE(answer());                   // DISCONNECT
    const std::uint8_t garbage[] = {0x09, 0x0c, 0x00};
    ASSERT_TRUE(s->send_to(gw, garbage));
    send(Connect{{.clean_session = true}, 1, 30, "bad-device"});
    ASSERT_TRUE(answer());  // CONNACK
    send(Register{0, 2, "plant1/press//temperature"});  // an empty segment: not a series path
    ASSERT_TRUE(answer());
    send(Register{0, 3, "plant1/press/line2/p7/temperature"});
    auto regack = answer();
    ASSERT_TRUE(regack);
    const auto topic = std::get<Regack>(*decode(*regack)).topic_id;
    send(Publish{{.qos = 1}, topic, 4, std::vector<std::uint8_t>(12, 0x01)});  // 12-byte payload
    ASSERT_TRUE(answer());
    send(Publish{{.qos = 1}, 999, 5, encode_single_sample({1, 1, {}})});  // unknown topic id
    ASSERT_TRUE(answer());
    const std::string json = R"({"signals":{"x":{"ts":1,"v":1}}})";  // multi-signal on a series topic
    send(Publish{{.qos = 1}, topic, 6, std::vector<std::uint8_t>(json.begin(), json.end())});
    ASSERT_TRUE(answer());
    send(Publish{{.qos = 1}, topic, 0, encode_single_sample({1, 1, {}})});  // QoS 1 with MsgId 0
    ASSERT_TRUE(answer());
  });
  std::cout << report.to_text();
  for (std::string_view id : {"packets.decode", "session.connect_first", "register.topic_name", "publish.payload",
                              "publish.topic_id", "publish.payload_topic", "publish.msg_id"}) {
    const CheckResult* c = find(report, id);
    ASSERT_NE(c, nullptr) << id;
    EXPECT_EQ(c->verdict, Verdict::kFail) << id;
    EXPECT_FALSE(c->exchanges.empty()) << id;
  }
  const CheckResult* payload = find(report, "publish.payload");
  EXPECT_EQ(payload->detail,
            "1 of 3 failed; first: on 'plant1/press/line2/p7/temperature': payload: 12 bytes, single sample needs 21");
  EXPECT_NE(payload->exchanges[0].hex.find("01 01 01 01"), std::string::npos);
  EXPECT_EQ(find(report, "packets.decode")->exchanges[0].hex, "09 0c 00");
  // The last PUBLISH (MsgId 0) still had a good payload on a good topic.
  EXPECT_EQ(find(report, "traffic")->verdict, Verdict::kPass);
}

TEST(DeviceChecker, AQuietDeviceFailsTraffic) {
  const Report report = check_device(0.2, [](std::uint16_t) {});
  EXPECT_EQ(find(report, "traffic")->verdict, Verdict::kFail);
  EXPECT_EQ(find(report, "publish.payload")->verdict, Verdict::kNotSupported);
}

}  // namespace
}  // namespace resonance::mqttsn::conformance
