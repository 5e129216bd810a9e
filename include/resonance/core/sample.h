#pragma once
// The unit of data that flows from a connector to the historian and out to sinks.

#include <cstdint>
#include <string>
#include <vector>

#include "resonance/core/time.h"

namespace resonance {

using SeriesId = std::uint32_t;  // dense, stable, assigned by the SeriesCatalog; 0 is never used

// Quality follows the OPC UA StatusCode layout (Part 4, 7.34): the top two bits are the severity
// (00 Good, 01 Uncertain, 10 Bad), the next 14 the sub-code. Keeping the OPC UA value means an OPC
// UA source passes its status through unchanged and MQTT-SN devices use the same numbers.
enum class Severity : std::uint8_t { kGood = 0, kUncertain = 1, kBad = 2 };

struct Quality {
  std::uint32_t code = 0;  // 0x00000000 = Good

  static constexpr std::uint32_t kGood = 0x00000000;
  static constexpr std::uint32_t kUncertain = 0x40000000;           // Uncertain
  static constexpr std::uint32_t kUncertainLastUsable = 0x40900000; // UncertainLastUsableValue
  static constexpr std::uint32_t kBad = 0x80000000;                 // Bad
  static constexpr std::uint32_t kBadNoCommunication = 0x80310000;  // BadNoCommunication

  Severity severity() const {
    const auto bits = code >> 30;
    return bits == 0 ? Severity::kGood : bits == 1 ? Severity::kUncertain : Severity::kBad;
  }
  bool operator==(const Quality&) const = default;
};

struct Sample {
  SeriesId series = 0;
  TimestampNs ts_ns = 0;
  double value = 0.0;
  Quality quality{};
  bool operator==(const Sample&) const = default;
};

// Where a batch came from. The governance stage fills and extends this; connectors set the first
// three fields.
struct Provenance {
  std::string connector;      // "mqttsn", "opcua", "sim", ...
  std::string client_id;      // device identity as the protocol gave it
  TimestampNs receive_ts_ns = 0;
  std::vector<std::string> transformations;  // applied stages, in order
};

struct SampleBatch {
  std::vector<Sample> samples;
  Provenance provenance;
};

}  // namespace resonance
