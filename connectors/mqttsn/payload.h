#pragma once
// Payloads devices publish on MQTT-SN topics whose names are series paths
// ("site/area/line/equipment/signal"). Specified in docs/formats/mqttsn-payload.md.
// This is the first version (issue 2): the compact binary single-sample form. Issue 3 adds the
// batch form and JSON under new format tags, so the first byte always says what follows.

#include <cstdint>
#include <span>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::mqttsn {

inline constexpr std::uint8_t kPayloadSingleSample = 0x01;

struct PayloadSample {
  TimestampNs ts_ns = 0;
  double value = 0.0;
  Quality quality{};
  bool operator==(const PayloadSample&) const = default;
};

std::vector<std::uint8_t> encode_single_sample(const PayloadSample& sample);
// Errors name the offset and what was expected ("payload: 12 bytes, single sample needs 21").
Result<std::vector<PayloadSample>> decode_payload(std::span<const std::uint8_t> bytes);

}  // namespace resonance::mqttsn
