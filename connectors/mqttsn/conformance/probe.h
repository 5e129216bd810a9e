#pragma once
// One check's conversation with a gateway (or a device): sends and receives MQTT-SN datagrams,
// recording each in hex with what it decoded to, and collects the verdict. Internal to the suite.

#include <fmt/format.h>

#include <functional>
#include <optional>
#include <variant>

#include "connectors/mqttsn/codec.h"
#include "connectors/mqttsn/conformance/report.h"
#include "connectors/mqttsn/conformance/udp.h"

namespace resonance::mqttsn::conformance {

class Probe {
 public:
  Probe(UdpSocket socket, UdpAddress peer, CheckResult& result, int timeout_ms)
      : socket_(std::move(socket)), peer_(peer), result_(result), timeout_ms_(timeout_ms) {}

  bool send(const Message& m, LengthForm form = LengthForm::kAuto);
  bool send_raw(std::span<const std::uint8_t> bytes, std::string note);
  // The next datagram, decoded; nullopt on timeout or a datagram that does not decode (recorded).
  std::optional<Message> receive(int timeout_ms = -1);
  // The next datagram must be a T; otherwise the check fails saying what came instead.
  template <typename T>
  std::optional<T> expect(std::string_view what, int timeout_ms = -1) {
    auto m = receive(timeout_ms);
    if (!m) {
      if (!failed()) fail(fmt::format("expected {} within {} ms, got nothing", what, timeout_ms < 0 ? timeout_ms_ : timeout_ms));
      return std::nullopt;
    }
    if (auto* t = std::get_if<T>(&*m)) return *t;
    fail(fmt::format("expected {}, got {}", what, msg_type_name(type_of(*m))));
    return std::nullopt;
  }

  void fail(std::string detail) {
    if (result_.verdict == Verdict::kFail) return;  // keep the first reason
    result_.verdict = Verdict::kFail;
    result_.detail = std::move(detail);
  }
  void not_supported(std::string detail) {
    if (result_.verdict != Verdict::kPass) return;
    result_.verdict = Verdict::kNotSupported;
    result_.detail = std::move(detail);
  }
  void note(std::string detail) {
    if (result_.verdict == Verdict::kPass) result_.detail = std::move(detail);
  }
  bool failed() const { return result_.verdict == Verdict::kFail; }
  bool ok() const { return result_.verdict == Verdict::kPass; }

  // CONNECT (clean) and expect CONNACK accepted.
  bool connect(const std::string& client_id, std::uint16_t keep_alive_s = 30, LengthForm form = LengthForm::kAuto);
  // REGISTER and expect REGACK accepted; returns the topic id.
  std::optional<std::uint16_t> register_topic(const std::string& name, std::uint16_t msg_id);

 private:
  UdpSocket socket_;
  UdpAddress peer_;
  CheckResult& result_;
  int timeout_ms_;
};

}  // namespace resonance::mqttsn::conformance
