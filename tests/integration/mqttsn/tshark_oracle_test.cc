// tshark's MQTT-SN dissector (Wireshark, an independent implementation) decodes everything the
// gateway and the client put on the wire, every message type of every procedure, without a
// malformed-packet error.

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/mqttsn/gateway_fixture.h"

namespace resonance::mqttsn {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

class TsharkOracle : public GatewayTest {};

TEST_F(TsharkOracle, DissectsEveryProcedureWithoutErrors) {
  ASSERT_EQ(std::system("command -v tshark >/dev/null"), 0)
      << "tshark is required (scripts/setup --test installs it)";
  options_.predefined_topics = {{5, std::string(kPath)}};
  options_.retry_timeout_ms = 300;
  restart_gateway();
  const auto port = gateway_->bound_port();
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("mqttsn-tshark-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto pcap = dir / "cap.pcapng";
  // Capture on lo, only the gateway's port; -a duration bounds it in case the test dies.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string filter = fmt::format("udp port {}", port);
    ::execlp("dumpcap", "dumpcap", "-q", "-i", "lo", "-f", filter.c_str(), "-a", "duration:60", "-w",
             pcap.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(pcap); }, 10000ms)) << "dumpcap did not start";
  std::this_thread::sleep_for(500ms);

  // Traffic: every procedure.
  {
    auto o = client_options("oracle");
    o.will_topic = "oracle/status";
    o.will_message = "gone";
    auto dev = connect(o);
    ASSERT_TRUE(dev);
    const auto id = *dev->register_topic(kPath);
    ASSERT_EQ(*dev->publish(id, 0, 0, sample_payload()), PublishOutcome::kAccepted);
    ASSERT_EQ(*dev->publish(id, 0, 1, sample_payload()), PublishOutcome::kAccepted);
    ASSERT_EQ(*dev->publish(id, 0, 2, sample_payload()), PublishOutcome::kAccepted);
    ASSERT_EQ(*dev->publish(5, 1, 1, sample_payload()), PublishOutcome::kAccepted);
    ASSERT_EQ(*dev->publish(('c' << 8) | '1', 2, 1, sample_payload()), PublishOutcome::kAccepted);
    ASSERT_EQ(*dev->publish(999, 0, 1, sample_payload()), PublishOutcome::kInvalidTopicId);
    ASSERT_EQ(dev->subscribe("cmd/+/x", 2)->return_code, 0);
    ASSERT_EQ(dev->subscribe("plain/name", 1)->return_code, 0);
    ASSERT_TRUE(gateway_->publish_to_devices("cmd/a/x", std::vector<std::uint8_t>{'g', 'o'}, 2));
    ASSERT_TRUE(gateway_->publish_to_devices("plain/name", std::vector<std::uint8_t>(300, 'L'), 1));  // 3-octet length
    ASSERT_TRUE(*dev->receive(2000));
    ASSERT_TRUE(*dev->receive(2000));
    ASSERT_TRUE(dev->unsubscribe("plain/name").is_ok());
    ASSERT_TRUE(dev->update_will_topic("oracle/status2", 1).is_ok());
    ASSERT_TRUE(dev->update_will_message("bye").is_ok());
    ASSERT_TRUE(dev->ping().is_ok());
    ASSERT_TRUE(dev->sleep(30).is_ok());
    ASSERT_TRUE(gateway_->publish_to_devices("plain/name", std::vector<std::uint8_t>{'z'}, 0));
    ASSERT_TRUE(dev->wake());
    ASSERT_TRUE(dev->disconnect().is_ok());
    RawPeer peer(port);
    peer.send(SearchGw{.radius = 1});
    ASSERT_TRUE(peer.receive());
    peer.send(Publish{.flags = {.qos = -1, .topic_id_type = TopicIdType::kPredefined}, .topic_id = 5,
                      .msg_id = 0, .data = sample_payload()});
    peer.send(Pingreq{});  // unconnected: DISCONNECT
    ASSERT_TRUE(peer.receive());
  }
  std::this_thread::sleep_for(500ms);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);

  const std::string text =
      run(fmt::format("tshark -r {} -d udp.port=={},mqttsn -V 2>&1", pcap.string(), port));
  const std::string summary =
      run(fmt::format("tshark -r {} -d udp.port=={},mqttsn 2>&1", pcap.string(), port));
  EXPECT_EQ(text.find("Malformed"), std::string::npos) << summary;
  EXPECT_EQ(text.find("Expert Info (Error"), std::string::npos) << summary;
  for (const char* type :
       {"Connect", "Connect Ack", "Will Topic Request", "Will Topic", "Will Message Request",
        "Will Message", "Register", "Register Ack", "Publish Message", "Publish Ack",
        "Publish Received", "Publish Release", "Publish Complete", "Subscribe Request",
        "Subscribe Ack", "Unsubscribe Request", "Unsubscribe Ack", "Ping Request", "Ping Response",
        "Disconnect Req", "Will Topic Update", "Will Topic Response", "Will Message Update",
        "Will Message Response", "Search Gateway", "Gateway Info"})
    EXPECT_NE(summary.find(type), std::string::npos) << "no '" << type << "' in:\n" << summary;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace resonance::mqttsn
