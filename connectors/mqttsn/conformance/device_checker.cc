#include "connectors/mqttsn/conformance/device_checker.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <unordered_map>

#include "connectors/mqttsn/codec.h"
#include "connectors/mqttsn/payload.h"
#include "resonance/core/catalog.h"

namespace resonance::mqttsn::conformance {
namespace {

// A topic name is either a series path, or a prefix of 1..4 valid segments that a multi-signal
// payload completes (docs/formats/mqttsn-payload.md, tag 0x03).
enum class TopicKind : std::uint8_t { kSeries, kPrefix, kInvalid };

TopicKind classify(std::string_view name, std::string* why) {
  if (Status s = validate_series_path(name); s) return TopicKind::kSeries;
  else if (why) *why = s.message();
  // A prefix is valid when some completion is: append placeholder segments and check.
  std::string probe(name);
  for (int i = 0; i < 4; ++i) {
    probe += "/x";
    if (validate_series_path(probe)) return TopicKind::kPrefix;
  }
  return TopicKind::kInvalid;
}

struct Tally {
  std::string id, section, title;
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::string first_failure;
  std::vector<Exchange> examples;
};

struct ClientState {
  std::string client_id;
  bool connected = false;
  std::uint16_t next_topic_id = 1;
  std::map<std::uint16_t, std::pair<std::string, TopicKind>> topics;
};

class Checker {
 public:
  Checker(const DeviceCheckOptions& o, UdpSocket socket) : o_(o), socket_(std::move(socket)) {
    add("packets.decode", "5.2", "Every datagram is a well-formed MQTT-SN v1.2 message");
    add("session.connect_first", "6.2", "A device CONNECTs before it REGISTERs or PUBLISHes");
    add("register.topic_id", "5.4.10", "REGISTER from a client carries TopicId 0x0000");
    add("register.topic_name", "catalog", "Topic names are series paths (or prefixes for multi-signal payloads)");
    add("publish.topic_id", "6.6", "PUBLISH uses a topic id the gateway assigned");
    add("publish.msg_id", "5.4.12", "PUBLISH QoS 1/2 carries a MsgId other than 0x0000, QoS 0 carries 0x0000");
    add("publish.payload", "payload", "PUBLISH payloads follow docs/formats/mqttsn-payload.md");
    add("publish.payload_topic", "payload 0x03", "Multi-signal payloads go to prefix topics, others to series topics");
  }

  void run(std::stop_token stop) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o_.duration_s);
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < deadline) {
      UdpAddress from;
      auto bytes = socket_.receive(100, &from);
      if (!bytes) continue;
      handle(from, *bytes);
    }
  }

  void finish(Report& report) {
    for (auto& t : tallies_) {
      CheckResult r{t.id, t.section, t.title, Verdict::kPass, "", {}};
      if (t.failed) {
        r.verdict = Verdict::kFail;
        r.detail = fmt::format("{} of {} failed; first: {}", t.failed, t.failed + t.passed, t.first_failure);
        r.exchanges = std::move(t.examples);
      } else if (t.passed == 0) {
        r.verdict = Verdict::kNotSupported;
        r.detail = "not exercised: the device sent nothing this check applies to";
      } else {
        r.detail = fmt::format("{} conforming", t.passed);
      }
      report.checks.push_back(std::move(r));
    }
    CheckResult traffic{"traffic", "6.6", "At least one PUBLISH with a conforming payload was received",
                        good_publishes_ ? Verdict::kPass : Verdict::kFail,
                        fmt::format("{} datagrams from {} endpoints, {} conforming PUBLISHes ({} samples)",
                                    datagrams_, clients_.size(), good_publishes_, samples_),
                        {}};
    report.checks.push_back(std::move(traffic));
  }

 private:
  void add(std::string id, std::string section, std::string title) {
    tallies_.push_back({std::move(id), std::move(section), std::move(title), 0, 0, "", {}});
  }
  Tally& tally(std::string_view id) {
    for (auto& t : tallies_)
      if (t.id == id) return t;
    return tallies_.front();
  }
  void pass(std::string_view id) { ++tally(id).passed; }
  void fail(std::string_view id, std::span<const std::uint8_t> bytes, const UdpAddress& from, std::string why) {
    Tally& t = tally(id);
    if (t.failed++ == 0) t.first_failure = why;
    if (t.examples.size() < o_.max_examples)
      t.examples.push_back({false, hex_dump(bytes, 512), fmt::format("from {}: {}", from.to_string(), why)});
  }

  void reply(const UdpAddress& to, const Message& m) {
    if (auto bytes = encode(m)) (void)socket_.send_to(to, *bytes);
  }

  void handle(const UdpAddress& from, std::span<const std::uint8_t> bytes) {
    ++datagrams_;
    auto decoded = decode(bytes);
    if (!decoded) {
      fail("packets.decode", bytes, from, decoded.error().message());
      return;
    }
    pass("packets.decode");
    ClientState& c = clients_[from.to_string()];
    const Message& m = *decoded;
    if (const auto* connect = std::get_if<Connect>(&m)) {
      c = ClientState{};
      c.client_id = connect->client_id;
      c.connected = !connect->flags.will;
      if (connect->flags.will) reply(from, WillTopicReq{});
      else reply(from, Connack{ReturnCode::kAccepted});
    } else if (std::holds_alternative<WillTopic>(m)) {
      reply(from, WillMsgReq{});
    } else if (std::holds_alternative<WillMsg>(m)) {
      c.connected = true;
      reply(from, Connack{ReturnCode::kAccepted});
    } else if (std::holds_alternative<SearchGw>(m)) {
      reply(from, GwInfo{1, {}});
    } else if (const auto* reg = std::get_if<Register>(&m)) {
      on_register(from, bytes, c, *reg);
    } else if (const auto* pub = std::get_if<Publish>(&m)) {
      on_publish(from, bytes, c, *pub);
    } else if (const auto* rel = std::get_if<Pubrel>(&m)) {
      reply(from, Pubcomp{rel->msg_id});
    } else if (const auto* ping = std::get_if<Pingreq>(&m)) {
      (void)ping;
      reply(from, Pingresp{});
    } else if (std::holds_alternative<Disconnect>(m)) {
      c.connected = false;
      reply(from, Disconnect{});
    } else if (const auto* sub = std::get_if<Subscribe>(&m)) {
      reply(from, Suback{sub->flags, 0, sub->msg_id, ReturnCode::kNotSupported});
    } else if (const auto* unsub = std::get_if<Unsubscribe>(&m)) {
      reply(from, Unsuback{unsub->msg_id});
    } else if (const auto* up = std::get_if<WillTopicUpd>(&m)) {
      (void)up;
      reply(from, WillTopicResp{ReturnCode::kAccepted});
    } else if (std::holds_alternative<WillMsgUpd>(m)) {
      reply(from, WillMsgResp{ReturnCode::kAccepted});
    }
    // PUBACK/REGACK/PUBREC/PUBCOMP from a device answer nothing we sent: ignored.
  }

  bool require_session(const UdpAddress& from, std::span<const std::uint8_t> bytes, const ClientState& c) {
    if (c.connected) {
      pass("session.connect_first");
      return true;
    }
    fail("session.connect_first", bytes, from, "sent before CONNECT/CONNACK completed");
    reply(from, Disconnect{});
    return false;
  }

  void on_register(const UdpAddress& from, std::span<const std::uint8_t> bytes, ClientState& c, const Register& r) {
    if (!require_session(from, bytes, c)) return;
    if (r.topic_id != 0) fail("register.topic_id", bytes, from, fmt::format("TopicId 0x{:04x}, expected 0x0000", r.topic_id));
    else pass("register.topic_id");
    std::string why;
    const TopicKind kind = classify(r.topic_name, &why);
    if (kind == TopicKind::kInvalid) {
      fail("register.topic_name", bytes, from, fmt::format("topic '{}' is not a series path: {}", r.topic_name, why));
      reply(from, Regack{0, r.msg_id, ReturnCode::kNotSupported});
      return;
    }
    pass("register.topic_name");
    for (const auto& [id, entry] : c.topics)
      if (entry.first == r.topic_name) {
        reply(from, Regack{id, r.msg_id, ReturnCode::kAccepted});
        return;
      }
    const std::uint16_t id = c.next_topic_id++;
    c.topics[id] = {r.topic_name, kind};
    reply(from, Regack{id, r.msg_id, ReturnCode::kAccepted});
  }

  void on_publish(const UdpAddress& from, std::span<const std::uint8_t> bytes, ClientState& c, const Publish& p) {
    const int qos = p.flags.qos;
    auto ack = [&](ReturnCode rc) {
      if (qos == 1) reply(from, Puback{p.topic_id, p.msg_id, rc});
      if (qos == 2 && rc == ReturnCode::kAccepted) reply(from, Pubrec{p.msg_id});
      if (qos == 2 && rc != ReturnCode::kAccepted) reply(from, Puback{p.topic_id, p.msg_id, rc});
    };
    if (qos != -1 && !require_session(from, bytes, c)) return;
    if ((qos == 1 || qos == 2) == (p.msg_id == 0))
      fail("publish.msg_id", bytes, from, fmt::format("QoS {} with MsgId 0x{:04x}", qos, p.msg_id));
    else
      pass("publish.msg_id");
    if (p.flags.topic_id_type != TopicIdType::kNormal) {
      // Predefined ids and short names are legal MQTT-SN, but carry no series path to check.
      fail("publish.topic_id", bytes, from, "predefined/short topic ids name no series path; REGISTER the path");
      ack(ReturnCode::kNotSupported);
      return;
    }
    auto topic = c.topics.find(p.topic_id);
    if (topic == c.topics.end()) {
      fail("publish.topic_id", bytes, from, fmt::format("topic id {} was never assigned to this client", p.topic_id));
      ack(ReturnCode::kInvalidTopicId);
      return;
    }
    pass("publish.topic_id");
    auto payload = decode_any_payload(p.data);
    if (!payload) {
      fail("publish.payload", bytes, from, fmt::format("on '{}': {}", topic->second.first, payload.error().message()));
      ack(ReturnCode::kNotSupported);
      return;
    }
    pass("publish.payload");
    const bool prefix = topic->second.second == TopicKind::kPrefix;
    if (payload->is_multi_signal() != prefix) {
      fail("publish.payload_topic", bytes, from,
           prefix ? fmt::format("a single-series payload on the prefix topic '{}'", topic->second.first)
                  : fmt::format("a multi-signal payload on the series topic '{}'", topic->second.first));
      ack(ReturnCode::kNotSupported);
      return;
    }
    for (const auto& sig : payload->signals)
      if (auto path = signal_series_path(topic->second.first, sig.suffix); !path) {
        fail("publish.payload_topic", bytes, from, path.error().message());
        ack(ReturnCode::kNotSupported);
        return;
      }
    pass("publish.payload_topic");
    ++good_publishes_;
    samples_ += payload->samples.size();
    for (const auto& s : payload->signals) samples_ += s.samples.size();
    ack(ReturnCode::kAccepted);
  }

  const DeviceCheckOptions& o_;
  UdpSocket socket_;
  std::vector<Tally> tallies_;
  std::unordered_map<std::string, ClientState> clients_;
  std::size_t datagrams_ = 0;
  std::size_t good_publishes_ = 0;
  std::size_t samples_ = 0;
};

}  // namespace

Result<Report> run_device_checker(const DeviceCheckOptions& options, std::stop_token stop) {
  auto socket = UdpSocket::bind(options.listen);
  if (!socket) return std::unexpected(socket.error());
  const std::uint16_t port = socket->local_port();
  Report report;
  report.suite = "mqtt-sn-device";
  UdpAddress bound = options.listen;
  if (bound.storage.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&bound.storage)->sin6_port = htons(port);
  else reinterpret_cast<sockaddr_in*>(&bound.storage)->sin_port = htons(port);
  report.target = bound.to_string();
  report.started_ns = unix_now_ns();
  Checker checker(options, std::move(*socket));
  if (options.on_bound) options.on_bound(port);
  checker.run(stop);
  checker.finish(report);
  report.finished_ns = unix_now_ns();
  return report;
}

}  // namespace resonance::mqttsn::conformance
