#pragma once
// A conformance report: one result per check, each tied to a section of the MQTT-SN v1.2 spec or
// of the payload spec, with the datagrams exchanged when it failed. JSON schema: docs/conformance.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/time.h"

namespace resonance::mqttsn::conformance {

enum class Verdict : std::uint8_t { kPass, kFail, kNotSupported };
std::string_view to_string(Verdict v);

struct Exchange {
  bool sent = true;          // true: we sent it; false: we received it
  std::string hex;           // the datagram, "0c 20 00 01 ..."
  std::string decoded;       // "PUBLISH" or the decoder's error
};

struct CheckResult {
  std::string id;            // stable key, e.g. "publish.qos1"
  std::string section;       // "6.6" (MQTT-SN v1.2) or "payload 0x02" (docs/formats/mqttsn-payload.md)
  std::string title;
  Verdict verdict = Verdict::kPass;
  std::string detail;        // why it failed / what was observed
  std::vector<Exchange> exchanges;  // kept for failures and not-supported answers only
};

struct Report {
  std::string suite;         // "mqtt-sn" or "mqtt-sn-device"
  std::string target;        // gateway address, or the listening address
  TimestampNs started_ns = 0;
  TimestampNs finished_ns = 0;
  std::vector<CheckResult> checks;

  std::size_t count(Verdict v) const;
  bool passed() const { return count(Verdict::kFail) == 0; }
  std::string to_json() const;  // pretty-printed
  std::string to_text() const;  // the console table
};

}  // namespace resonance::mqttsn::conformance
