#pragma once
// The device checker: a minimal MQTT-SN v1.2 gateway that accepts a device's traffic for a while
// and reports whether its datagrams follow the wire spec, whether its topic names are series paths
// (docs/formats/catalog.md) and whether its payloads follow docs/formats/mqttsn-payload.md. It
// stores nothing. Runs on the calling thread until the duration passes or `stop` is requested.

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "connectors/mqttsn/conformance/report.h"
#include "connectors/mqttsn/conformance/udp.h"

namespace resonance::mqttsn::conformance {

struct DeviceCheckOptions {
  UdpAddress listen;               // port 0 = ephemeral (see on_bound)
  double duration_s = 10;
  std::size_t max_examples = 5;    // failing datagrams kept per check
  std::function<void(std::uint16_t port)> on_bound;  // called once listening
};

Result<Report> run_device_checker(const DeviceCheckOptions& options, std::stop_token stop = {});

}  // namespace resonance::mqttsn::conformance
