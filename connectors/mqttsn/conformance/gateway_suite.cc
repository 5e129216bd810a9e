#include "connectors/mqttsn/conformance/gateway_suite.h"

#include <unistd.h>

#include <atomic>
#include <functional>

#include "connectors/mqttsn/conformance/probe.h"
#include "connectors/mqttsn/payload.h"

namespace resonance::mqttsn::conformance {

// ---- Probe ----

bool Probe::send(const Message& m, LengthForm form) {
  auto bytes = encode(m, form);
  if (!bytes) {
    fail(fmt::format("suite bug: cannot encode {}: {}", msg_type_name(type_of(m)), bytes.error().message()));
    return false;
  }
  result_.exchanges.push_back({true, hex_dump(*bytes, 512), msg_type_name(type_of(m))});
  if (Status s = socket_.send_to(peer_, *bytes); !s) {
    fail(s.message());
    return false;
  }
  return true;
}

bool Probe::send_raw(std::span<const std::uint8_t> bytes, std::string note) {
  result_.exchanges.push_back({true, hex_dump(bytes, 512), std::move(note)});
  if (Status s = socket_.send_to(peer_, bytes); !s) {
    fail(s.message());
    return false;
  }
  return true;
}

std::optional<Message> Probe::receive(int timeout_ms) {
  auto bytes = socket_.receive(timeout_ms < 0 ? timeout_ms_ : timeout_ms);
  if (!bytes) return std::nullopt;
  auto m = decode(*bytes);
  if (!m) {
    result_.exchanges.push_back({false, hex_dump(*bytes, 512), m.error().message()});
    fail(fmt::format("the answer does not decode: {}", m.error().message()));
    return std::nullopt;
  }
  result_.exchanges.push_back({false, hex_dump(*bytes, 512), msg_type_name(type_of(*m))});
  return std::move(*m);
}

bool Probe::connect(const std::string& client_id, std::uint16_t keep_alive_s, LengthForm form) {
  Connect c;
  c.flags.clean_session = true;
  c.duration_s = keep_alive_s;
  c.client_id = client_id;
  if (!send(c, form)) return false;
  auto ack = expect<Connack>("CONNACK");
  if (!ack) return false;
  if (ack->return_code != ReturnCode::kAccepted) {
    fail(fmt::format("CONNACK return code 0x{:02x}, expected 0x00", static_cast<int>(ack->return_code)));
    return false;
  }
  return true;
}

std::optional<std::uint16_t> Probe::register_topic(const std::string& name, std::uint16_t msg_id) {
  if (!send(Register{0, msg_id, name})) return std::nullopt;
  auto ack = expect<Regack>("REGACK");
  if (!ack) return std::nullopt;
  if (ack->msg_id != msg_id) fail(fmt::format("REGACK MsgId {} does not echo the REGISTER's {}", ack->msg_id, msg_id));
  if (ack->return_code != ReturnCode::kAccepted)
    fail(fmt::format("REGACK return code 0x{:02x} for '{}'", static_cast<int>(ack->return_code), name));
  if (ack->return_code == ReturnCode::kAccepted && ack->topic_id == 0) fail("REGACK accepted with topic id 0");
  if (failed()) return std::nullopt;
  return ack->topic_id;
}

namespace {

std::vector<std::uint8_t> sample_payload() {
  return encode_single_sample({unix_now_ns(), 21.5, {}});
}

// Answers with rc 0x03 mean "not supported" (spec Table 5); anything else but 0x00 is a failure.
void judge_rc(Probe& p, ReturnCode rc, std::string_view what) {
  if (rc == ReturnCode::kNotSupported) p.not_supported(fmt::format("{} return code 0x03 (not supported)", what));
  else if (rc != ReturnCode::kAccepted) p.fail(fmt::format("{} return code 0x{:02x}, expected 0x00", what, static_cast<int>(rc)));
}

class Suite {
 public:
  explicit Suite(const GatewaySuiteOptions& o) : o_(o) {}

  void run(Report& report) {
    check(report, "searchgw", "6.1", "SEARCHGW is answered by GWINFO", [&](Probe& p) {
      if (!p.send(SearchGw{1})) return;
      if (auto gw = p.expect<GwInfo>("GWINFO")) p.note(fmt::format("GwId {}", gw->gw_id));
    });
    check(report, "connect", "6.2", "CONNECT (CleanSession) is answered by CONNACK accepted",
          [&](Probe& p) { p.connect(client_id()); });
    check(report, "connect.long_length", "5.2.1", "CONNECT in the 3-octet length form",
          [&](Probe& p) { p.connect(client_id(), 30, LengthForm::kLong); });
    check(report, "register", "6.5", "REGISTER is answered by REGACK with a topic id and the MsgId", [&](Probe& p) {
      if (!p.connect(client_id())) return;
      auto a = p.register_topic(o_.topic, 0x1234);
      auto b = a ? p.register_topic(o_.topic, 0x1235) : std::nullopt;
      if (a && b && *a != *b) p.fail(fmt::format("the same name got topic ids {} and {}", *a, *b));
    });
    check(report, "publish.qos0", "6.6", "PUBLISH QoS 0 is taken silently (the session stays alive)", [&](Probe& p) {
      auto id = session(p);
      if (!id) return;
      if (!p.send(Publish{{.qos = 0}, *id, 0, sample_payload()})) return;
      if (!p.send(Pingreq{})) return;
      auto m = p.receive();
      if (!m) { p.fail("no PINGRESP after a QoS 0 PUBLISH"); return; }
      if (!std::holds_alternative<Pingresp>(*m))
        p.fail(fmt::format("expected PINGRESP after a QoS 0 PUBLISH, got {}", msg_type_name(type_of(*m))));
    });
    check(report, "publish.qos1", "6.6", "PUBLISH QoS 1 is answered by PUBACK accepted", [&](Probe& p) {
      auto id = session(p);
      if (id) publish_qos1(p, *id, 77, sample_payload(), LengthForm::kAuto);
    });
    check(report, "publish.long_length", "5.2.1", "PUBLISH QoS 1 in the 3-octet length form", [&](Probe& p) {
      auto id = session(p);
      if (id) publish_qos1(p, *id, 78, sample_payload(), LengthForm::kLong);
    });
    check(report, "publish.large", "5.2.1", "PUBLISH QoS 1 longer than 255 octets (a 40-sample batch)", [&](Probe& p) {
      auto id = session(p);
      if (!id) return;
      std::vector<PayloadSample> samples;
      const TimestampNs t0 = unix_now_ns() / kNanosPerMilli * kNanosPerMilli;
      for (int i = 0; i < 40; ++i) samples.push_back({t0 + i * kNanosPerMilli, 1.0 * i, {}});
      auto payload = encode_batch(samples, {.per_sample_quality = false});
      if (payload) publish_qos1(p, *id, 79, *payload, LengthForm::kAuto);
    });
    check(report, "publish.unknown_topic", "6.6",
          "PUBLISH QoS 1 to an unregistered topic id is answered by PUBACK 0x02", [&](Probe& p) {
      if (!p.connect(client_id())) return;
      if (!p.send(Publish{{.qos = 1}, 0x7777, 80, sample_payload()})) return;
      auto ack = p.expect<Puback>("PUBACK");
      if (ack && ack->return_code != ReturnCode::kInvalidTopicId)
        p.fail(fmt::format("PUBACK return code 0x{:02x}, expected 0x02 (invalid topic id)", static_cast<int>(ack->return_code)));
    });
    check(report, "publish.short_topic", "6.7", "PUBLISH QoS 1 with a short topic name", [&](Probe& p) {
      if (!p.connect(client_id())) return;
      if (!p.send(Publish{{.qos = 1, .topic_id_type = TopicIdType::kShortName}, 0x6162, 81, sample_payload()})) return;
      if (auto ack = p.expect<Puback>("PUBACK")) judge_rc(p, ack->return_code, "PUBACK");
    });
    check(report, "publish.qos2", "6.6", "PUBLISH QoS 2: PUBREC, PUBREL, PUBCOMP", [&](Probe& p) {
      auto id = session(p);
      if (!id) return;
      if (!p.send(Publish{{.qos = 2}, *id, 82, sample_payload()})) return;
      auto m = p.receive();
      if (!m) { p.fail("expected PUBREC, got nothing"); return; }
      if (auto* ack = std::get_if<Puback>(&*m)) {
        judge_rc(p, ack->return_code, "PUBACK to a QoS 2 PUBLISH");
        if (p.ok()) p.fail("a QoS 2 PUBLISH was answered by PUBACK accepted, expected PUBREC");
        return;
      }
      auto* rec = std::get_if<Pubrec>(&*m);
      if (!rec) { p.fail(fmt::format("expected PUBREC, got {}", msg_type_name(type_of(*m)))); return; }
      if (rec->msg_id != 82) p.fail(fmt::format("PUBREC MsgId {}, expected 82", rec->msg_id));
      if (!p.send(Pubrel{82})) return;
      if (auto comp = p.expect<Pubcomp>("PUBCOMP"); comp && comp->msg_id != 82)
        p.fail(fmt::format("PUBCOMP MsgId {}, expected 82", comp->msg_id));
    });
    check(report, "ping", "6.11", "PINGREQ is answered by PINGRESP", [&](Probe& p) {
      if (!p.connect(client_id())) return;
      if (p.send(Pingreq{})) p.expect<Pingresp>("PINGRESP");
    });
    check(report, "will.handshake", "6.2", "CONNECT with the Will flag: WILLTOPICREQ, WILLMSGREQ, CONNACK",
          [&](Probe& p) { will_connect(p); });
    check(report, "will.update", "6.4", "WILLTOPICUPD and WILLMSGUPD are answered with accepted", [&](Probe& p) {
      if (!will_connect(p)) return;
      if (!p.send(WillTopicUpd{{.qos = 1}, o_.topic})) return;
      auto t = p.expect<WillTopicResp>("WILLTOPICRESP");
      if (!t) return;
      judge_rc(p, t->return_code, "WILLTOPICRESP");
      if (!p.send(WillMsgUpd{{'b', 'y', 'e'}})) return;
      if (auto m = p.expect<WillMsgResp>("WILLMSGRESP")) judge_rc(p, m->return_code, "WILLMSGRESP");
    });
    check(report, "subscribe", "6.9", "SUBSCRIBE (topic name) is answered by SUBACK accepted", [&](Probe& p) {
      if (!p.connect(client_id())) return;
      subscribe(p);
    });
    check(report, "unsubscribe", "6.9", "UNSUBSCRIBE is answered by UNSUBACK", [&](Probe& p) {
      if (!p.connect(client_id()) || !subscribe(p)) return;
      Unsubscribe u;
      u.msg_id = 91;
      u.topic_name = o_.topic;
      if (!p.send(u)) return;
      if (auto a = p.expect<Unsuback>("UNSUBACK"); a && a->msg_id != 91)
        p.fail(fmt::format("UNSUBACK MsgId {}, expected 91", a->msg_id));
    });
    check(report, "sleep", "6.14", "Sleeping client: DISCONNECT(duration), wake with PINGREQ(ClientId), PINGRESP",
          [&](Probe& p) {
      const std::string id = client_id();
      if (!p.connect(id)) return;
      if (!p.send(Disconnect{std::uint16_t{60}})) return;
      if (!p.expect<Disconnect>("DISCONNECT")) return;
      if (!p.send(Pingreq{id})) return;
      // Buffered PUBLISHes may come first (6.14); the wake ends with PINGRESP.
      for (int i = 0; i < 64; ++i) {
        auto m = p.receive();
        if (!m) { if (!p.failed()) p.fail("expected PINGRESP after the wake-up PINGREQ, got nothing"); return; }
        if (std::holds_alternative<Pingresp>(*m)) return;
        if (std::holds_alternative<Disconnect>(*m)) {
          p.not_supported("the gateway answered the wake-up PINGREQ with DISCONNECT: it does not keep sleeping "
                          "sessions");
          return;
        }
        if (!std::holds_alternative<Publish>(*m)) {
          p.fail(fmt::format("expected PUBLISH or PINGRESP while waking, got {}", msg_type_name(type_of(*m))));
          return;
        }
      }
      p.fail("no PINGRESP after 64 messages");
    });
    check(report, "disconnect", "6.12", "DISCONNECT is answered by DISCONNECT", [&](Probe& p) {
      if (!p.connect(client_id())) return;
      if (p.send(Disconnect{})) p.expect<Disconnect>("DISCONNECT");
    });
    check(report, "malformed", "5.2", "Malformed datagrams are dropped; the session keeps working", [&](Probe& p) {
      auto id = session(p);
      if (!id) return;
      const std::vector<std::pair<std::vector<std::uint8_t>, std::string>> bad = {
          {{0x05, 0x0c, 0x00}, "length 5 in a 3-byte datagram"},
          {{0x02}, "truncated header"},
          {{0x01, 0x00, 0x03, 0x16}, "3-octet length 3 (< 4)"},
          {{0x03, 0x03, 0x00}, "reserved type 0x03"},
          {{0x04, 0x0c, 0x00, 0x01}, "PUBLISH without TopicId/MsgId"},
          {{0x07, 0x0a, 0x00, 0x00, 0x00, 0x01, 0xff}, "REGISTER with a non-UTF-8 name"},
          {{0x02, 0xfe}, "encapsulation without content"},
      };
      for (const auto& [bytes, what] : bad)
        if (!p.send_raw(bytes, "malformed: " + what)) return;
      // Whatever the gateway said to those (nothing is best), the session must still answer.
      for (int i = 0; i < 8; ++i) {
        if (!p.send(Pingreq{})) return;
        auto m = p.receive();
        if (!m) continue;
        if (std::holds_alternative<Pingresp>(*m)) return;
      }
      p.fail("no PINGRESP after the malformed datagrams");
    });
  }

 private:
  std::string client_id() {
    // Unique per run and check, within 23 bytes.
    return fmt::format("conf{}-{}", ::getpid() % 100000, ++n_);
  }

  std::optional<std::uint16_t> session(Probe& p) {
    if (!p.connect(client_id())) return std::nullopt;
    return p.register_topic(o_.topic, 1);
  }

  void publish_qos1(Probe& p, std::uint16_t id, std::uint16_t msg_id, std::vector<std::uint8_t> payload,
                    LengthForm form) {
    if (!p.send(Publish{{.qos = 1}, id, msg_id, std::move(payload)}, form)) return;
    auto ack = p.expect<Puback>("PUBACK");
    if (!ack) return;
    if (ack->msg_id != msg_id) p.fail(fmt::format("PUBACK MsgId {}, expected {}", ack->msg_id, msg_id));
    if (ack->topic_id != id) p.fail(fmt::format("PUBACK TopicId {}, expected {}", ack->topic_id, id));
    if (ack->return_code != ReturnCode::kAccepted)
      p.fail(fmt::format("PUBACK return code 0x{:02x}, expected 0x00", static_cast<int>(ack->return_code)));
  }

  bool will_connect(Probe& p) {
    Connect c;
    c.flags.clean_session = true;
    c.flags.will = true;
    c.duration_s = 30;
    c.client_id = client_id();
    if (!p.send(c)) return false;
    auto m = p.receive();
    if (!m) { if (!p.failed()) p.fail("expected WILLTOPICREQ, got nothing"); return false; }
    if (auto* ack = std::get_if<Connack>(&*m)) {
      judge_rc(p, ack->return_code, "CONNACK to a CONNECT with the Will flag");
      if (p.ok()) p.fail("CONNACK accepted without asking for the Will (WILLTOPICREQ)");
      return false;
    }
    if (!std::holds_alternative<WillTopicReq>(*m)) {
      p.fail(fmt::format("expected WILLTOPICREQ, got {}", msg_type_name(type_of(*m))));
      return false;
    }
    if (!p.send(WillTopic{{.qos = 1}, o_.topic})) return false;
    if (!p.expect<WillMsgReq>("WILLMSGREQ")) return false;
    if (!p.send(WillMsg{{'o', 'f', 'f', 'l', 'i', 'n', 'e'}})) return false;
    auto ack = p.expect<Connack>("CONNACK");
    if (!ack) return false;
    judge_rc(p, ack->return_code, "CONNACK");
    return p.ok();
  }

  bool subscribe(Probe& p) {
    Subscribe s;
    s.flags.qos = 1;
    s.msg_id = 90;
    s.topic_name = o_.topic;
    if (!p.send(s)) return false;
    auto a = p.expect<Suback>("SUBACK");
    if (!a) return false;
    if (a->msg_id != 90) p.fail(fmt::format("SUBACK MsgId {}, expected 90", a->msg_id));
    judge_rc(p, a->return_code, "SUBACK");
    return p.ok();
  }

  void check(Report& report, std::string id, std::string section, std::string title,
             const std::function<void(Probe&)>& body) {
    CheckResult r{std::move(id), std::move(section), std::move(title), Verdict::kPass, "", {}};
    auto socket = UdpSocket::for_peer(o_.gateway);
    if (!socket) {
      r.verdict = Verdict::kFail;
      r.detail = socket.error().message();
    } else {
      Probe p(std::move(*socket), o_.gateway, r, o_.timeout_ms);
      body(p);
      // Leave nothing behind on the gateway; the answer does not matter (and is not recorded).
    }
    if (r.verdict == Verdict::kPass) r.exchanges.clear();
    report.checks.push_back(std::move(r));
  }

  const GatewaySuiteOptions& o_;
  int n_ = 0;
};

}  // namespace

Report run_gateway_suite(const GatewaySuiteOptions& options) {
  Report report;
  report.suite = "mqtt-sn";
  report.target = options.gateway_text.empty() ? options.gateway.to_string() : options.gateway_text;
  report.started_ns = unix_now_ns();
  Suite(options).run(report);
  report.finished_ns = unix_now_ns();
  return report;
}

}  // namespace resonance::mqttsn::conformance
