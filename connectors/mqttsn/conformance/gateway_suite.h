#pragma once
// The client-side MQTT-SN v1.2 gateway suite: exercises a gateway procedure by procedure with raw
// datagrams built by the codec (so malformed and unusual-but-legal forms can be sent too) and
// reports pass / fail / not supported per spec section. Not thread-safe; one run at a time per
// options. Checks: docs/conformance.md.

#include <string>

#include "connectors/mqttsn/conformance/report.h"
#include "connectors/mqttsn/conformance/udp.h"

namespace resonance::mqttsn::conformance {

struct GatewaySuiteOptions {
  UdpAddress gateway;
  std::string gateway_text;  // for the report
  int timeout_ms = 1500;     // per expected answer
  // A topic name the gateway accepts for PUBLISH (Resonance wants a series path).
  std::string topic = "conformance/suite/line1/probe/value";
};

Report run_gateway_suite(const GatewaySuiteOptions& options);

}  // namespace resonance::mqttsn::conformance
