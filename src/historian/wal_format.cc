#include "historian/wal_format.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/core.h>

#include "historian/crc32c.h"

namespace resonance::historian {
namespace {

// Little-endian writers into a pre-sized region; the format is little-endian on every host.
class Writer {
 public:
  explicit Writer(std::uint8_t* p) : p_(p) {}
  void u8(std::uint8_t v) { *p_++ = v; }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) *p_++ = static_cast<std::uint8_t>(v >> (8 * i));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) *p_++ = static_cast<std::uint8_t>(v >> (8 * i));
  }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }

 private:
  std::uint8_t* p_;
};

std::uint32_t load_u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

// Bounds-checked little-endian reader over one record body. After the first failure every
// read returns 0 and ok() stays false, so the decoder checks once per field group.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> body) : body_(body) {}
  bool ok() const { return ok_; }
  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return body_.size() - pos_; }
  std::uint8_t u8() { return need(1) ? body_[pos_++] : 0; }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    const std::uint32_t v = load_u32(body_.data() + pos_);
    pos_ += 4;
    return v;
  }
  std::uint64_t u64() {
    if (!need(8)) return 0;
    const std::uint64_t v = std::uint64_t{load_u32(body_.data() + pos_)} |
                            std::uint64_t{load_u32(body_.data() + pos_ + 4)} << 32;
    pos_ += 8;
    return v;
  }
  bool str(std::string& out) {
    const std::uint32_t n = u32();
    if (!need(n)) return false;
    out.assign(reinterpret_cast<const char*>(body_.data() + pos_), n);
    pos_ += n;
    return true;
  }

 private:
  bool need(std::size_t n) {
    if (ok_ && n <= remaining()) return true;
    ok_ = false;
    return false;
  }
  std::span<const std::uint8_t> body_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Offsets in messages are relative to the start of the record frame.
Result<DecodedRecord> corrupt(std::string what, std::size_t offset) {
  return error(StatusCode::kCorruption, fmt::format("{} at record offset {}", what, offset));
}

}  // namespace

std::size_t encoded_record_size(const SampleBatch& batch) {
  const Provenance& p = batch.provenance;
  std::size_t n = kFrameHeaderBytes + kMinBodyBytes + p.connector.size() + p.client_id.size();
  for (const auto& t : p.transformations) n += 4 + t.size();
  return n + batch.samples.size() * kSampleBytes;
}

void encode_record(std::uint64_t sequence, const SampleBatch& batch, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  const std::size_t framed = encoded_record_size(batch);
  out.resize(start + framed);
  std::uint8_t* frame = out.data() + start;
  Writer w(frame);
  w.u32(static_cast<std::uint32_t>(framed - kFrameHeaderBytes));
  w.u32(0);  // CRC, patched below once the body is in place
  w.u8(kWalFormatVersion);
  w.u8(kRecordTypeBatch);
  w.u64(sequence);
  const Provenance& p = batch.provenance;
  w.str(p.connector);
  w.str(p.client_id);
  w.u64(static_cast<std::uint64_t>(p.receive_ts_ns));
  w.u32(static_cast<std::uint32_t>(p.transformations.size()));
  for (const auto& t : p.transformations) w.str(t);
  w.u32(static_cast<std::uint32_t>(batch.samples.size()));
  for (const Sample& s : batch.samples) {
    w.u32(s.series);
    w.u64(static_cast<std::uint64_t>(s.ts_ns));
    w.u64(std::bit_cast<std::uint64_t>(s.value));  // raw bits: NaN payloads and -0.0 survive
    w.u32(s.quality.code);
  }
  // The CRC covers the length field too, so a flipped length is caught even when the bytes it
  // points at happen to look like a record.
  std::uint32_t crc = crc32c({frame, 4});
  crc = crc32c_extend(crc, {frame + kFrameHeaderBytes, framed - kFrameHeaderBytes});
  Writer(frame + 4).u32(crc);
}

Result<DecodedRecord> decode_record(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kFrameHeaderBytes)
    return error(StatusCode::kOutOfRange,
                 fmt::format("{} bytes left, a record header needs {}", bytes.size(), kFrameHeaderBytes));
  const std::uint32_t body_len = load_u32(bytes.data());
  const std::uint32_t stored_crc = load_u32(bytes.data() + 4);
  if (body_len < kMinBodyBytes || body_len > kMaxBodyBytes)
    return corrupt(fmt::format("body length {} outside [{}, {}]", body_len, kMinBodyBytes, kMaxBodyBytes), 0);
  if (bytes.size() - kFrameHeaderBytes < body_len)
    return error(StatusCode::kOutOfRange,
                 fmt::format("record body of {} bytes but only {} left", body_len,
                             bytes.size() - kFrameHeaderBytes));
  const std::span<const std::uint8_t> body = bytes.subspan(kFrameHeaderBytes, body_len);
  const std::uint32_t crc = crc32c_extend(crc32c(bytes.first(4)), body);
  if (crc != stored_crc)
    return corrupt(fmt::format("checksum mismatch (stored {:08x}, computed {:08x})", stored_crc, crc), 4);

  // From here the bytes are what the writer wrote (or a CRC collision), so structural errors mean a
  // writer bug or a foreign file; they are still reported, never trusted.
  Reader r(body);
  DecodedRecord out;
  out.framed_bytes = kFrameHeaderBytes + body_len;
  const std::uint8_t version = r.u8();
  if (version != kWalFormatVersion)
    return corrupt(fmt::format("unknown format version {}", version), kFrameHeaderBytes);
  const std::uint8_t type = r.u8();
  if (type != kRecordTypeBatch)
    return corrupt(fmt::format("unknown record type {}", type), kFrameHeaderBytes + 1);
  WalRecord& rec = out.record;
  rec.sequence = r.u64();
  Provenance& p = rec.batch.provenance;
  if (!r.str(p.connector)) return corrupt("connector length past the body", kFrameHeaderBytes + r.offset());
  if (!r.str(p.client_id)) return corrupt("client_id length past the body", kFrameHeaderBytes + r.offset());
  p.receive_ts_ns = static_cast<TimestampNs>(r.u64());
  const std::uint32_t n_transformations = r.u32();
  if (!r.ok()) return corrupt("provenance past the body", kFrameHeaderBytes + r.offset());
  // Each transformation takes at least 4 bytes; checking first keeps a hostile count from
  // reserving gigabytes.
  if (n_transformations > r.remaining() / 4)
    return corrupt(fmt::format("transformation count {} exceeds the body", n_transformations),
                   kFrameHeaderBytes + r.offset() - 4);
  p.transformations.resize(n_transformations);
  for (auto& t : p.transformations)
    if (!r.str(t)) return corrupt("transformation length past the body", kFrameHeaderBytes + r.offset());
  const std::uint32_t n_samples = r.u32();
  if (!r.ok()) return corrupt("sample count past the body", kFrameHeaderBytes + r.offset());
  if (std::uint64_t{n_samples} * kSampleBytes != r.remaining())
    return corrupt(fmt::format("sample count {} needs {} bytes, body has {} left", n_samples,
                               std::uint64_t{n_samples} * kSampleBytes, r.remaining()),
                   kFrameHeaderBytes + r.offset() - 4);
  rec.batch.samples.resize(n_samples);
  for (Sample& s : rec.batch.samples) {
    s.series = r.u32();
    s.ts_ns = static_cast<TimestampNs>(r.u64());
    s.value = std::bit_cast<double>(r.u64());
    s.quality.code = r.u32();
  }
  return out;
}

SegmentScan scan_segment(std::span<const std::uint8_t> bytes,
                         std::optional<std::uint64_t> expected_sequence,
                         const std::function<void(WalRecord&&)>& on_record) {
  SegmentScan scan;
  while (scan.valid_bytes < bytes.size()) {
    const auto rest = bytes.subspan(scan.valid_bytes);
    auto decoded = decode_record(rest);
    if (!decoded) {
      // A pre-allocated or partially persisted tail reads back as zeros: a tear, not damage.
      const bool zero_fill = std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0; });
      scan.stop = decoded.error().code() == StatusCode::kOutOfRange || zero_fill ? ScanStop::kTornTail
                                                                                 : ScanStop::kCorrupt;
      scan.reason = fmt::format("segment offset {}: {}", scan.valid_bytes,
                                zero_fill ? std::string("zero-filled tail") : decoded.error().message());
      return scan;
    }
    WalRecord& rec = decoded->record;
    if (expected_sequence && rec.sequence != *expected_sequence) {
      scan.stop = ScanStop::kCorrupt;
      scan.reason = fmt::format("segment offset {}: sequence {} where {} was expected", scan.valid_bytes,
                                rec.sequence, *expected_sequence);
      return scan;
    }
    expected_sequence = rec.sequence + 1;
    scan.last_sequence = rec.sequence;
    scan.valid_bytes += decoded->framed_bytes;
    ++scan.records;
    scan.samples += rec.batch.samples.size();
    if (on_record) on_record(std::move(rec));
  }
  return scan;
}

}  // namespace resonance::historian
