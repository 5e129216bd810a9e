#pragma once
// Payloads devices publish on MQTT-SN topics. Specified in docs/formats/mqttsn-payload.md (v2).
// The first byte says what follows: 0x01 one sample, 0x02 a batch of one series, 0x03 a
// multi-signal batch, '{' JSON. Pure functions, thread-safe. Every error names the byte offset
// (binary) or the JSON pointer and offset (JSON) of what was wrong and what was expected.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/status.h"

namespace resonance::mqttsn {

inline constexpr std::uint8_t kPayloadSingleSample = 0x01;
inline constexpr std::uint8_t kPayloadBatch = 0x02;
inline constexpr std::uint8_t kPayloadMultiSignal = 0x03;
inline constexpr std::uint8_t kPayloadJson = '{';

// Bounds that keep a hostile payload from costing more than its size.
inline constexpr std::size_t kMaxPayloadSamples = 16384;
inline constexpr std::size_t kMaxSignalSuffixBytes = 128;

struct PayloadSample {
  TimestampNs ts_ns = 0;
  double value = 0.0;
  Quality quality{};
  bool operator==(const PayloadSample&) const = default;
};

enum class PayloadFormat : std::uint8_t { kSingleSample, kBatch, kMultiSignal, kJson };
std::string_view to_string(PayloadFormat format);

// One signal of a multi-signal payload: its path suffix (relative to the topic, see
// signal_series_path) and its samples in payload order.
struct SignalSamples {
  std::string suffix;
  std::vector<PayloadSample> samples;
  bool operator==(const SignalSamples&) const = default;
};

// Options of the batch encodings (tags 0x02 and 0x03).
enum class DeltaUnit : std::uint8_t { kNanos = 0, kMicros = 1, kMillis = 2, kSeconds = 3 };
struct BatchEncoding {
  bool per_sample_quality = true;  // else every sample is Good
  bool float32_values = false;     // values as IEEE 754 binary32 (lossy for most doubles)
  DeltaUnit delta_unit = DeltaUnit::kNanos;
};

struct DecodedPayload {
  PayloadFormat format = PayloadFormat::kSingleSample;
  // Single-series forms (0x01, 0x02, JSON without "signals"): samples of the topic's own series.
  std::vector<PayloadSample> samples;
  // Multi-signal forms (0x03, JSON "signals"): one entry per signal, in table order.
  std::vector<SignalSamples> signals;
  BatchEncoding encoding{};  // as found in a 0x02/0x03 header; default otherwise
  bool is_multi_signal() const { return format == PayloadFormat::kMultiSignal || !signals.empty(); }
};

std::vector<std::uint8_t> encode_single_sample(const PayloadSample& sample);
// Fails if samples is empty or too long, timestamps decrease, a delta is not a whole number of
// `delta_unit`, or a quality is not representable (per-sample quality keeps the top 16 bits; with
// per_sample_quality=false every quality must be Good).
Result<std::vector<std::uint8_t>> encode_batch(std::span<const PayloadSample> samples,
                                               const BatchEncoding& encoding = {});
// Entries go out in time order across signals (stable for equal times).
Result<std::vector<std::uint8_t>> encode_multi_signal(std::span<const SignalSamples> signals,
                                                      const BatchEncoding& encoding = {});

// Single-series forms only: a multi-signal payload is an error here (its samples belong to other
// series), so callers that map a topic to one series keep working unchanged.
Result<std::vector<PayloadSample>> decode_payload(std::span<const std::uint8_t> bytes);
// Every form. The gateway maps `signals` to series with signal_series_path().
Result<DecodedPayload> decode_any_payload(std::span<const std::uint8_t> bytes);

// The series path of a multi-signal entry: `topic` + "/" + `suffix`, which must be a valid series
// path (docs/formats/catalog.md), e.g. "plant1/press/line2/p7" + "temperature".
Result<std::string> signal_series_path(std::string_view topic, std::string_view suffix);

}  // namespace resonance::mqttsn
