#include "connectors/mqttsn/payload.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "connectors/mqttsn/payload_json.h"
#include "resonance/core/catalog.h"

namespace resonance::mqttsn {
namespace {

constexpr std::size_t kSingleSampleBytes = 21;  // tag(1) ts_ns(8) value(8) quality(4)
constexpr std::size_t kBatchHeaderBytes = 10;   // tag(1) flags(1) base_ts_ns(8)
constexpr std::uint8_t kFlagQuality = 0x01;
constexpr std::uint8_t kFlagFloat32 = 0x02;
constexpr std::uint8_t kFlagUnitShift = 2;
constexpr std::uint8_t kFlagReserved = 0xf0;
constexpr std::int64_t kUnitNanos[] = {1, 1'000, 1'000'000, 1'000'000'000};

Status fail(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// A bounds-checked cursor; every read names the field and offset when the bytes run out.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> in, std::string_view form) : in_(in), form_(form) {}
  std::size_t offset() const { return at_; }
  std::size_t left() const { return in_.size() - at_; }

  Result<std::uint64_t> be(int bytes, std::string_view field) {
    if (left() < static_cast<std::size_t>(bytes))
      return std::unexpected(fail(fmt::format("payload ({}): {} at offset {} needs {} bytes, {} left",
                                              form_, field, at_, bytes, left())));
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | in_[at_++];
    return v;
  }

  // Unsigned LEB128, at most 10 bytes, minimal (so one value has one encoding).
  Result<std::uint64_t> varint(std::string_view field) {
    const std::size_t start = at_;
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (at_ >= in_.size())
        return std::unexpected(fail(fmt::format("payload ({}): {} varint at offset {} is cut off "
                                                "at the end of the payload",
                                                form_, field, start)));
      const std::uint8_t b = in_[at_++];
      if (shift == 63 && b > 1)
        return std::unexpected(
            fail(fmt::format("payload ({}): {} varint at offset {} exceeds 64 bits", form_, field, start)));
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        if (b == 0 && at_ - start > 1)
          return std::unexpected(fail(fmt::format(
              "payload ({}): {} varint at offset {} is not minimal (trailing 0x00)", form_, field, start)));
        return v;
      }
    }
  }

  Status error_at(std::size_t offset, std::string what) const {
    return fail(fmt::format("payload ({}): {} at offset {}", form_, what, offset));
  }

 private:
  std::span<const std::uint8_t> in_;
  std::string_view form_;
  std::size_t at_ = 0;
};

Result<std::uint8_t> encoding_flags(const BatchEncoding& e) {
  return static_cast<std::uint8_t>((e.per_sample_quality ? kFlagQuality : 0) |
                                   (e.float32_values ? kFlagFloat32 : 0) |
                                   (static_cast<std::uint8_t>(e.delta_unit) << kFlagUnitShift));
}

// Appends one entry's delta, value and quality; `prev_ts` advances.
Status put_entry(std::vector<std::uint8_t>& out, const PayloadSample& s, TimestampNs& prev_ts,
                 const BatchEncoding& e, std::size_t index) {
  if (s.ts_ns < prev_ts)
    return fail(fmt::format("sample {}: timestamp {} is before the previous one ({}); batches are in "
                            "time order",
                            index, s.ts_ns, prev_ts));
  const auto unit = kUnitNanos[static_cast<int>(e.delta_unit)];
  // Unsigned difference: exact even across the whole int64 range.
  const std::uint64_t delta_ns = static_cast<std::uint64_t>(s.ts_ns) - static_cast<std::uint64_t>(prev_ts);
  if (delta_ns % static_cast<std::uint64_t>(unit) != 0)
    return fail(fmt::format("sample {}: delta {} ns is not a whole number of the delta unit ({} ns)",
                            index, delta_ns, unit));
  put_varint(out, delta_ns / static_cast<std::uint64_t>(unit));
  if (e.float32_values)
    put_be(out, std::bit_cast<std::uint32_t>(static_cast<float>(s.value)), 4);
  else
    put_be(out, std::bit_cast<std::uint64_t>(s.value), 8);
  if (e.per_sample_quality) {
    if (s.quality.code & 0xffff)
      return fail(fmt::format("sample {}: quality 0x{:08x} has low 16 bits set; the batch form keeps "
                              "the top 16 (use tag 0x01)",
                              index, s.quality.code));
    put_be(out, s.quality.code >> 16, 2);
  } else if (s.quality.code != Quality::kGood) {
    return fail(fmt::format("sample {}: quality 0x{:08x} is not Good but per_sample_quality is off",
                            index, s.quality.code));
  }
  prev_ts = s.ts_ns;
  return Status::ok();
}

struct Header {
  BatchEncoding encoding;
  TimestampNs base_ts_ns = 0;
};

Result<Header> read_header(Reader& r) {
  Header h;
  (void)r.be(1, "tag");
  const std::size_t flags_at = r.offset();
  auto flags = r.be(1, "flags");
  if (!flags) return std::unexpected(flags.error());
  if (*flags & kFlagReserved)
    return std::unexpected(r.error_at(flags_at, fmt::format("flags 0x{:02x} set reserved bits 4-7", *flags)));
  h.encoding.per_sample_quality = (*flags & kFlagQuality) != 0;
  h.encoding.float32_values = (*flags & kFlagFloat32) != 0;
  h.encoding.delta_unit = static_cast<DeltaUnit>((*flags >> kFlagUnitShift) & 0x03);
  auto base = r.be(8, "base_ts_ns");
  if (!base) return std::unexpected(base.error());
  h.base_ts_ns = static_cast<TimestampNs>(*base);
  return h;
}

Result<std::size_t> read_count(Reader& r, std::size_t min_entry_bytes) {
  const std::size_t at = r.offset();
  auto count = r.varint("count");
  if (!count) return std::unexpected(count.error());
  if (*count == 0 || *count > kMaxPayloadSamples)
    return std::unexpected(r.error_at(at, fmt::format("count {} must be 1..{}", *count, kMaxPayloadSamples)));
  // Checked before allocating: a 5-byte payload cannot claim 16384 entries.
  if (*count > r.left() / min_entry_bytes)
    return std::unexpected(r.error_at(
        at, fmt::format("count {} needs at least {} bytes of entries, {} left", *count,
                        *count * min_entry_bytes, r.left())));
  return static_cast<std::size_t>(*count);
}

// Reads one entry after its signal index; `prev_ts` advances.
Result<PayloadSample> read_entry(Reader& r, const BatchEncoding& e, TimestampNs& prev_ts, std::size_t index) {
  const std::size_t at = r.offset();
  auto delta = r.varint("delta");
  if (!delta) return std::unexpected(delta.error());
  // One payload, one encoding: the base is the first entry's time, so its delta is 0.
  if (index == 0 && *delta != 0)
    return std::unexpected(r.error_at(
        at, fmt::format("entry 0: delta {} must be 0 (base_ts_ns is the first entry's time)", *delta)));
  const auto unit = static_cast<std::uint64_t>(kUnitNanos[static_cast<int>(e.delta_unit)]);
  const auto room = static_cast<std::uint64_t>(std::numeric_limits<TimestampNs>::max()) -
                    static_cast<std::uint64_t>(prev_ts);  // prev_ts may be negative: still exact
  if (*delta > room / unit)
    return std::unexpected(r.error_at(
        at, fmt::format("entry {}: delta {} overflows the timestamp (past year 2262)", index, *delta)));
  PayloadSample s;
  s.ts_ns = static_cast<TimestampNs>(static_cast<std::uint64_t>(prev_ts) + *delta * unit);
  if (e.float32_values) {
    auto v = r.be(4, "value");
    if (!v) return std::unexpected(v.error());
    s.value = static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(*v)));
  } else {
    auto v = r.be(8, "value");
    if (!v) return std::unexpected(v.error());
    s.value = std::bit_cast<double>(*v);
  }
  if (e.per_sample_quality) {
    auto q = r.be(2, "quality");
    if (!q) return std::unexpected(q.error());
    s.quality.code = static_cast<std::uint32_t>(*q) << 16;
  }
  prev_ts = s.ts_ns;
  return s;
}

std::size_t min_entry_bytes(const BatchEncoding& e, bool indexed) {
  return (indexed ? 1 : 0) + 1 + (e.float32_values ? 4 : 8) + (e.per_sample_quality ? 2 : 0);
}

Result<DecodedPayload> decode_single(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSingleSampleBytes)
    return std::unexpected(
        fail(fmt::format("payload: {} bytes, single sample needs {}", bytes.size(), kSingleSampleBytes)));
  Reader r(bytes, "single sample");
  (void)r.be(1, "tag");
  PayloadSample s;
  s.ts_ns = static_cast<TimestampNs>(*r.be(8, "ts_ns"));
  s.value = std::bit_cast<double>(*r.be(8, "value"));
  s.quality.code = static_cast<std::uint32_t>(*r.be(4, "quality"));
  DecodedPayload out;
  out.format = PayloadFormat::kSingleSample;
  out.samples.push_back(s);
  return out;
}

Result<DecodedPayload> decode_batch(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "batch");
  auto header = read_header(r);
  if (!header) return std::unexpected(header.error());
  auto count = read_count(r, min_entry_bytes(header->encoding, false));
  if (!count) return std::unexpected(count.error());
  DecodedPayload out;
  out.format = PayloadFormat::kBatch;
  out.encoding = header->encoding;
  out.samples.reserve(*count);
  TimestampNs prev = header->base_ts_ns;
  for (std::size_t i = 0; i < *count; ++i) {
    auto s = read_entry(r, header->encoding, prev, i);
    if (!s) return std::unexpected(s.error());
    out.samples.push_back(*s);
  }
  if (r.left() != 0)
    return std::unexpected(r.error_at(r.offset(), fmt::format("{} bytes after the last of {} entries",
                                                              r.left(), *count)));
  return out;
}

bool valid_suffix_char(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/';
}

Result<DecodedPayload> decode_multi(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "multi-signal");
  auto header = read_header(r);
  if (!header) return std::unexpected(header.error());
  const std::size_t n_at = r.offset();
  auto n = r.be(1, "signal count");
  if (!n) return std::unexpected(n.error());
  if (*n == 0) return std::unexpected(r.error_at(n_at, "signal count 0, must be 1..255"));
  DecodedPayload out;
  out.format = PayloadFormat::kMultiSignal;
  out.encoding = header->encoding;
  out.signals.resize(*n);
  for (std::size_t i = 0; i < *n; ++i) {
    const std::size_t len_at = r.offset();
    auto len = r.be(1, fmt::format("signal {} length", i));
    if (!len) return std::unexpected(len.error());
    if (*len == 0 || *len > kMaxSignalSuffixBytes)
      return std::unexpected(r.error_at(len_at, fmt::format("signal {}: suffix length {} must be 1..{}", i,
                                                            *len, kMaxSignalSuffixBytes)));
    if (r.left() < *len)
      return std::unexpected(r.error_at(len_at + 1, fmt::format("signal {}: suffix of {} bytes, {} left", i,
                                                                *len, r.left())));
    std::string suffix;
    for (std::size_t k = 0; k < *len; ++k) {
      const std::size_t at = r.offset();
      const auto c = static_cast<std::uint8_t>(*r.be(1, "suffix"));
      if (!valid_suffix_char(c))
        return std::unexpected(r.error_at(
            at, fmt::format("signal {}: byte 0x{:02x} in the suffix, expected [A-Za-z0-9_.-/]", i, c)));
      suffix.push_back(static_cast<char>(c));
    }
    for (std::size_t k = 0; k < i; ++k)
      if (out.signals[k].suffix == suffix)
        return std::unexpected(
            r.error_at(len_at, fmt::format("signal {}: suffix '{}' repeats signal {}", i, suffix, k)));
    out.signals[i].suffix = std::move(suffix);
  }
  auto count = read_count(r, min_entry_bytes(header->encoding, true));
  if (!count) return std::unexpected(count.error());
  TimestampNs prev = header->base_ts_ns;
  for (std::size_t i = 0; i < *count; ++i) {
    const std::size_t at = r.offset();
    auto idx = r.be(1, "signal index");
    if (!idx) return std::unexpected(idx.error());
    if (*idx >= *n)
      return std::unexpected(
          r.error_at(at, fmt::format("entry {}: signal index {} but the table has {} signals", i, *idx, *n)));
    auto s = read_entry(r, header->encoding, prev, i);
    if (!s) return std::unexpected(s.error());
    out.signals[*idx].samples.push_back(*s);
  }
  if (r.left() != 0)
    return std::unexpected(r.error_at(r.offset(), fmt::format("{} bytes after the last of {} entries",
                                                              r.left(), *count)));
  for (std::size_t i = 0; i < out.signals.size(); ++i)
    if (out.signals[i].samples.empty())
      return std::unexpected(fail(fmt::format("payload (multi-signal): signal {} ('{}') has no entries", i,
                                              out.signals[i].suffix)));
  return out;
}

}  // namespace

std::string_view to_string(PayloadFormat format) {
  switch (format) {
    case PayloadFormat::kSingleSample: return "single_sample";
    case PayloadFormat::kBatch: return "batch";
    case PayloadFormat::kMultiSignal: return "multi_signal";
    case PayloadFormat::kJson: return "json";
  }
  return "unknown";
}

std::vector<std::uint8_t> encode_single_sample(const PayloadSample& sample) {
  std::vector<std::uint8_t> out;
  out.reserve(kSingleSampleBytes);
  out.push_back(kPayloadSingleSample);
  put_be(out, static_cast<std::uint64_t>(sample.ts_ns), 8);
  // The value travels as its IEEE 754 bit pattern, so NaN payloads and -0.0 survive unchanged.
  put_be(out, std::bit_cast<std::uint64_t>(sample.value), 8);
  put_be(out, sample.quality.code, 4);
  return out;
}

Result<std::vector<std::uint8_t>> encode_batch(std::span<const PayloadSample> samples,
                                               const BatchEncoding& encoding) {
  if (samples.empty() || samples.size() > kMaxPayloadSamples)
    return std::unexpected(fail(fmt::format("batch: {} samples, must be 1..{}", samples.size(), kMaxPayloadSamples)));
  std::vector<std::uint8_t> out;
  out.push_back(kPayloadBatch);
  out.push_back(*encoding_flags(encoding));
  const TimestampNs base = samples.front().ts_ns;
  put_be(out, static_cast<std::uint64_t>(base), 8);
  put_varint(out, samples.size());
  TimestampNs prev = base;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (Status s = put_entry(out, samples[i], prev, encoding, i); !s) return std::unexpected(s);
  return out;
}

Result<std::vector<std::uint8_t>> encode_multi_signal(std::span<const SignalSamples> signals,
                                                      const BatchEncoding& encoding) {
  if (signals.empty() || signals.size() > 255)
    return std::unexpected(fail(fmt::format("multi-signal: {} signals, must be 1..255", signals.size())));
  struct Ref {
    std::uint8_t signal;
    const PayloadSample* sample;
  };
  std::vector<Ref> entries;
  for (std::size_t i = 0; i < signals.size(); ++i) {
    const auto& sig = signals[i];
    if (sig.suffix.empty() || sig.suffix.size() > kMaxSignalSuffixBytes ||
        !std::ranges::all_of(sig.suffix, [](char c) { return valid_suffix_char(static_cast<std::uint8_t>(c)); }))
      return std::unexpected(fail(fmt::format("multi-signal: signal {} suffix '{}' must be 1..{} bytes of "
                                              "[A-Za-z0-9_.-/]",
                                              i, sig.suffix, kMaxSignalSuffixBytes)));
    if (sig.samples.empty())
      return std::unexpected(fail(fmt::format("multi-signal: signal {} ('{}') has no samples", i, sig.suffix)));
    for (const auto& s : sig.samples) entries.push_back({static_cast<std::uint8_t>(i), &s});
  }
  if (entries.size() > kMaxPayloadSamples)
    return std::unexpected(fail(fmt::format("multi-signal: {} samples, at most {}", entries.size(), kMaxPayloadSamples)));
  std::ranges::stable_sort(entries, {}, [](const Ref& r) { return r.sample->ts_ns; });
  std::vector<std::uint8_t> out;
  out.push_back(kPayloadMultiSignal);
  out.push_back(*encoding_flags(encoding));
  const TimestampNs base = entries.front().sample->ts_ns;
  put_be(out, static_cast<std::uint64_t>(base), 8);
  out.push_back(static_cast<std::uint8_t>(signals.size()));
  for (const auto& sig : signals) {
    out.push_back(static_cast<std::uint8_t>(sig.suffix.size()));
    out.insert(out.end(), sig.suffix.begin(), sig.suffix.end());
  }
  put_varint(out, entries.size());
  TimestampNs prev = base;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    out.push_back(entries[i].signal);
    if (Status s = put_entry(out, *entries[i].sample, prev, encoding, i); !s) return std::unexpected(s);
  }
  return out;
}

Result<DecodedPayload> decode_any_payload(std::span<const std::uint8_t> bytes) {
  if (bytes.empty())
    return std::unexpected(fail("payload: empty, expected a format tag at offset 0"));
  switch (bytes[0]) {
    case kPayloadSingleSample: return decode_single(bytes);
    case kPayloadBatch: return decode_batch(bytes);
    case kPayloadMultiSignal: return decode_multi(bytes);
    case kPayloadJson: return decode_json_payload(bytes);
    default:
      return std::unexpected(fail(fmt::format(
          "payload: unknown format tag 0x{:02x} at offset 0 (supported: 0x01 single sample, 0x02 batch, "
          "0x03 multi-signal, '{{' JSON)",
          bytes[0])));
  }
}

Result<std::vector<PayloadSample>> decode_payload(std::span<const std::uint8_t> bytes) {
  auto decoded = decode_any_payload(bytes);
  if (!decoded) return std::unexpected(decoded.error());
  if (decoded->is_multi_signal())
    return std::unexpected(fail(fmt::format(
        "payload: a {} payload names its own signals and needs a topic that is a path prefix, "
        "not the series path of one signal",
        decoded->format == PayloadFormat::kJson ? "JSON \"signals\"" : "multi-signal (tag 0x03)")));
  return std::move(decoded->samples);
}

Result<std::string> signal_series_path(std::string_view topic, std::string_view suffix) {
  std::string path = fmt::format("{}/{}", topic, suffix);
  if (Status s = validate_series_path(path); !s)
    return std::unexpected(fail(fmt::format("signal '{}' on topic '{}': '{}' is not a series path: {}", suffix,
                                            topic, path, s.message())));
  return path;
}

}  // namespace resonance::mqttsn
