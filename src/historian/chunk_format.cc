#include "historian/chunk_format.h"

#include <cmath>
#include <cstring>

#include <fmt/core.h>

#include "historian/codec.h"
#include "historian/codec_bits.h"
#include "historian/crc32c.h"

namespace resonance::historian {

namespace {
constexpr char kFileMagic[8] = {'R', 'S', 'N', 'C', 'H', 'N', 'K', '1'};
constexpr char kFooterMagic[8] = {'R', 'S', 'N', 'C', 'E', 'N', 'D', '1'};

Status corrupt(std::string msg) { return Status(StatusCode::kCorruption, std::move(msg)); }

// Version 2 statistics (docs/formats/chunk.md): `stat_scale` is kNoScale or e | (f32 ? 0x80 : 0);
// bit i of `stat_mask` says statistic i (min, max, sum, first, last) is an svarint integer at that
// scale rather than a raw f64.
constexpr std::uint8_t kNoScale = 0xff;
constexpr std::uint8_t kScaleF32 = 0x80;
constexpr unsigned kStatCount = 5;
constexpr std::uint8_t kSumBit = 1u << 2;

struct ValueStats {
  double min = NAN, max = NAN, sum = 0;
  std::uint32_t value_count = 0;  // non-NaN
};

// min, max and sum skip NaN; the sum is added in time order.
ValueStats value_stats(std::span<const double> values) {
  ValueStats s;
  for (double v : values) {
    if (std::isnan(v)) continue;
    s.min = s.value_count == 0 ? v : std::min(s.min, v);
    s.max = s.value_count == 0 ? v : std::max(s.max, v);
    s.sum += v;
    ++s.value_count;
  }
  return s;
}
}  // namespace

void encode_chunk(SeriesId series, std::span<const TimestampNs> ts, std::span<const double> values,
                  std::span<const std::uint32_t> quality, std::vector<std::uint8_t>& out) {
  // Blocks first (the header records their sizes and reuses the value encoder's scale), into
  // per-thread scratch: the chunk flusher encodes thousands of chunks per flush.
  thread_local std::vector<std::uint8_t> blocks, header;
  blocks.clear();
  header.clear();
  codec::encode_timestamps(ts, blocks, ts.front());
  const std::size_t ts_bytes = blocks.size();
  codec::DecimalScale scale;
  codec::encode_values(values, blocks, &scale);
  const std::size_t value_bytes = blocks.size() - ts_bytes;
  codec::encode_quality(quality, blocks);

  // The sum is the in-order double sum of the non-NaN values, as a reader that decodes the chunk
  // adds it up: a bucket's sum must not depend on whether a chunk was answered from its header or
  // decoded. It is stored as the integer Σ n_i only when double(Σ n_i) / 10^e gives those very
  // bits (never for float32-domain values, which are not n_i / 10^e).
  const ValueStats st = value_stats(values);
  const bool sum_scaled = scale.valid && scale.sum_exact && !scale.f32 &&
                          codec::bits_of(codec::decimal_sum(scale.sum_mantissa, scale.e)) == codec::bits_of(st.sum);
  codec::ByteWriter w(header);
  w.varint(series);
  w.varint(ts.size());
  w.varint(ts.size() - st.value_count);
  w.varint(ts_bytes);
  w.varint(value_bytes);
  w.svarint(ts.front());
  w.varint(static_cast<std::uint64_t>(ts.back()) - static_cast<std::uint64_t>(ts.front()));
  const double stats[kStatCount] = {st.min, st.max, st.sum, values.front(), values.back()};
  if (!scale.valid) {
    w.u8(kNoScale);
    for (double x : stats) w.u64(codec::bits_of(x));
  } else {
    w.u8(static_cast<std::uint8_t>(scale.e | (scale.f32 ? kScaleF32 : 0)));
    std::int64_t mantissa[kStatCount] = {};
    std::uint8_t mask = 0;
    for (unsigned i = 0; i < kStatCount; ++i) {
      // Every statistic must reproduce bit for bit through the decoder's formula (NaN, -0.0 and
      // non-decimal values stay raw); the sum's check is sum_scaled above.
      const bool scaled = (1u << i) == kSumBit
                              ? sum_scaled
                              : codec::decimal_integer(stats[i], scale.e, scale.f32, mantissa[i]);
      if ((1u << i) == kSumBit) mantissa[i] = scale.sum_mantissa;
      if (scaled) mask |= static_cast<std::uint8_t>(1u << i);
    }
    w.u8(mask);
    for (unsigned i = 0; i < kStatCount; ++i) {
      if (mask & (1u << i)) w.svarint(mantissa[i]);
      else w.u64(codec::bits_of(stats[i]));
    }
  }
  const std::uint32_t crc = crc32c_extend(crc32c(header), blocks);
  codec::ByteWriter o(out);
  o.varint(header.size() + blocks.size());
  o.u32(crc);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), blocks.begin(), blocks.end());
}

void encode_chunk_v1(SeriesId series, std::span<const TimestampNs> ts, std::span<const double> values,
                     std::span<const std::uint32_t> quality, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + kChunkHeaderBytesV1);
  const std::size_t ts_at = out.size();
  codec::encode_timestamps(ts, out);
  const std::size_t value_at = out.size();
  codec::encode_values(values, out);
  const std::size_t quality_at = out.size();
  codec::encode_quality(quality, out);

  const ValueStats st = value_stats(values);
  std::vector<std::uint8_t> h;
  codec::ByteWriter w(h);
  w.u32(static_cast<std::uint32_t>(out.size() - start));
  w.u32(0);  // CRC, patched below
  w.u32(series);
  w.u16(static_cast<std::uint16_t>(ts.size()));
  w.u16(static_cast<std::uint16_t>(st.value_count));
  w.u8(out[ts_at]);
  w.u8(out[value_at]);
  w.u8(out[quality_at]);
  w.u8(0);
  w.u32(static_cast<std::uint32_t>(value_at - ts_at));
  w.u32(static_cast<std::uint32_t>(quality_at - value_at));
  w.u32(static_cast<std::uint32_t>(out.size() - quality_at));
  w.u64(static_cast<std::uint64_t>(ts.front()));
  w.u64(static_cast<std::uint64_t>(ts.back()));
  w.u64(codec::bits_of(st.min));
  w.u64(codec::bits_of(st.max));
  w.u64(codec::bits_of(st.sum));
  w.u64(codec::bits_of(values.front()));
  w.u64(codec::bits_of(values.back()));
  std::memcpy(out.data() + start, h.data(), kChunkHeaderBytesV1);
  const std::uint32_t crc = crc32c(std::span(out).subspan(start + 8));
  for (int i = 0; i < 4; ++i) out[start + 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
}

namespace {

Result<ChunkView> parse_chunk_v1(std::span<const std::uint8_t> bytes) {
  codec::ByteReader r(bytes, "chunk header");
  ChunkView v;
  ChunkHeader& h = v.header;
  h.header_bytes = kChunkHeaderBytesV1;
  h.total_bytes = r.u32();
  h.crc = r.u32();
  h.series = r.u32();
  h.count = r.u16();
  h.value_count = r.u16();
  h.ts_codec = r.u8();
  h.value_codec = r.u8();
  h.quality_codec = r.u8();
  const std::uint8_t reserved = r.u8();
  h.ts_bytes = r.u32();
  h.value_bytes = r.u32();
  h.quality_bytes = r.u32();
  h.t_min = static_cast<TimestampNs>(r.u64());
  h.t_max = static_cast<TimestampNs>(r.u64());
  h.min = codec::double_of(r.u64());
  h.max = codec::double_of(r.u64());
  h.sum = codec::double_of(r.u64());
  h.first = codec::double_of(r.u64());
  h.last = codec::double_of(r.u64());
  if (!r.ok()) return error(r.status());
  if (reserved != 0) return error(corrupt(fmt::format("chunk header: reserved byte 19 is {:#x}, expected 0", reserved)));
  if (h.count == 0 || h.value_count > h.count)
    return error(corrupt(fmt::format("chunk header: count {} / value_count {} invalid", h.count, h.value_count)));
  const std::uint64_t total = std::uint64_t{kChunkHeaderBytesV1} + h.ts_bytes + h.value_bytes + h.quality_bytes;
  if (total != h.total_bytes || h.total_bytes > bytes.size() || h.ts_bytes == 0 || h.value_bytes == 0 ||
      h.quality_bytes == 0)
    return error(corrupt(fmt::format("chunk header: total {} != 88 + {} + {} + {} or past the {} bytes available",
                                     h.total_bytes, h.ts_bytes, h.value_bytes, h.quality_bytes, bytes.size())));
  v.whole = bytes.subspan(0, h.total_bytes);
  const std::uint32_t crc = crc32c(v.whole.subspan(8));
  if (crc != h.crc)
    return error(corrupt(fmt::format("chunk of series {}: CRC {:#010x} != stored {:#010x}", h.series, crc, h.crc)));
  v.ts_block = v.whole.subspan(kChunkHeaderBytesV1, h.ts_bytes);
  v.value_block = v.whole.subspan(kChunkHeaderBytesV1 + h.ts_bytes, h.value_bytes);
  v.quality_block = v.whole.subspan(kChunkHeaderBytesV1 + h.ts_bytes + h.value_bytes, h.quality_bytes);
  if (v.ts_block[0] != h.ts_codec || v.value_block[0] != h.value_codec || v.quality_block[0] != h.quality_codec)
    return error(corrupt("chunk header: codec ids disagree with the blocks"));
  return v;
}

Result<ChunkView> parse_chunk_v2(std::span<const std::uint8_t> bytes) {
  codec::ByteReader pre(bytes, "chunk header");
  const std::uint64_t length = pre.varint();
  const std::uint32_t crc = pre.u32();
  if (!pre.ok()) return error(pre.status());
  const std::size_t prefix = pre.pos();
  if (length > bytes.size() - prefix || length > 0xffffffffu - prefix)
    return error(corrupt(fmt::format("chunk header: length {} past the {} bytes available", length,
                                     bytes.size() - prefix)));
  ChunkView v;
  ChunkHeader& h = v.header;
  h.total_bytes = static_cast<std::uint32_t>(prefix + length);
  h.crc = crc;
  v.whole = bytes.subspan(0, h.total_bytes);
  const auto payload = v.whole.subspan(prefix);
  if (const std::uint32_t actual = crc32c(payload); actual != crc)
    return error(corrupt(fmt::format("chunk: CRC {:#010x} != stored {:#010x}", actual, crc)));
  codec::ByteReader r(payload, "chunk header");
  const std::uint64_t series = r.varint();
  const std::uint64_t count = r.varint();
  const std::uint64_t nan_count = r.varint();
  const std::uint64_t ts_bytes = r.varint();
  const std::uint64_t value_bytes = r.varint();
  h.t_min = r.svarint();
  const std::uint64_t span = r.varint();
  const std::uint8_t stat_scale = r.u8();
  const std::uint8_t mask = stat_scale == kNoScale ? 0 : r.u8();
  double stats[kStatCount] = {};
  const unsigned e = stat_scale & ~kScaleF32;
  const bool f32 = (stat_scale & kScaleF32) != 0;
  if (r.ok() && stat_scale != kNoScale && e > codec::kMaxExponent)
    return error(corrupt(fmt::format("chunk header: statistics exponent {} above {}", e, codec::kMaxExponent)));
  if (r.ok() && mask >= (1u << kStatCount))
    return error(corrupt(fmt::format("chunk header: statistics mask {:#x} has unknown bits", mask)));
  for (unsigned i = 0; i < kStatCount; ++i) {
    if (!(mask & (1u << i))) stats[i] = codec::double_of(r.u64());
    else if ((1u << i) == kSumBit) stats[i] = codec::decimal_sum(r.svarint(), e);
    else stats[i] = codec::decimal_value(r.svarint(), e, f32);
  }
  if (!r.ok()) return error(r.status());
  if (series > 0xffffffffu || count == 0 || count > codec::kMaxBlockSamples || nan_count > count)
    return error(corrupt(fmt::format("chunk header: series {} / count {} / NaN count {} invalid", series, count,
                                     nan_count)));
  const std::uint64_t t_max = static_cast<std::uint64_t>(h.t_min) + span;
  if (static_cast<std::int64_t>(t_max) < h.t_min)
    return error(corrupt(fmt::format("chunk header: t_min {} + span {} overflows", h.t_min, span)));
  const std::uint64_t blocks = r.remaining();
  if (ts_bytes == 0 || value_bytes == 0 || ts_bytes >= blocks || value_bytes >= blocks - ts_bytes)
    return error(corrupt(fmt::format("chunk header: blocks of {} + {} bytes leave no quality block in {}",
                                     ts_bytes, value_bytes, blocks)));
  h.series = static_cast<SeriesId>(series);
  h.count = static_cast<std::uint16_t>(count);
  h.value_count = static_cast<std::uint16_t>(count - nan_count);
  h.ts_bytes = static_cast<std::uint32_t>(ts_bytes);
  h.value_bytes = static_cast<std::uint32_t>(value_bytes);
  h.quality_bytes = static_cast<std::uint32_t>(blocks - ts_bytes - value_bytes);
  h.header_bytes = static_cast<std::uint32_t>(prefix + r.pos());
  h.t_max = static_cast<TimestampNs>(t_max);
  h.min = stats[0];
  h.max = stats[1];
  h.sum = stats[2];
  h.first = stats[3];
  h.last = stats[4];
  v.ts_block = v.whole.subspan(h.header_bytes, h.ts_bytes);
  v.value_block = v.whole.subspan(h.header_bytes + h.ts_bytes, h.value_bytes);
  v.quality_block = v.whole.subspan(h.header_bytes + h.ts_bytes + h.value_bytes, h.quality_bytes);
  h.ts_codec = v.ts_block[0];
  h.value_codec = v.value_block[0];
  h.quality_codec = v.quality_block[0];
  v.ts_base = h.t_min;
  return v;
}

// The version of a chunk file whose header parse_frame has accepted.
std::uint32_t file_version(std::span<const std::uint8_t> file) {
  if (file.size() < 12) return 0;
  return static_cast<std::uint32_t>(file[8]) | static_cast<std::uint32_t>(file[9]) << 8 |
         static_cast<std::uint32_t>(file[10]) << 16 | static_cast<std::uint32_t>(file[11]) << 24;
}
}  // namespace

Result<ChunkView> parse_chunk(std::span<const std::uint8_t> bytes, std::uint32_t version) {
  if (version == kChunkFormatVersionV1) return parse_chunk_v1(bytes);
  if (version == kChunkFormatVersion) return parse_chunk_v2(bytes);
  return error(corrupt(fmt::format("chunk: format version {} unknown", version)));
}

Status decode_chunk(const ChunkView& c, ChunkColumns& out) {
  const std::size_t n = c.header.count;
  out.ts.resize(n);
  out.values.resize(n);
  out.quality.resize(n);
  if (Status s = codec::decode_timestamps(c.ts_block, out.ts, c.ts_base); !s) return s;
  if (Status s = codec::decode_values(c.value_block, out.values); !s) return s;
  if (Status s = codec::decode_quality(c.quality_block, out.quality); !s) return s;
  return check_chunk_timestamps(c, out.ts);
}

Status check_chunk_timestamps(const ChunkView& c, std::span<const TimestampNs> ts) {
  const std::size_t n = ts.size();
  // No early exit in the hot loop (it vectorises); the first offender is looked for on failure.
  bool ascending = true;
  for (std::size_t i = 1; i < n; ++i) ascending &= ts[i] > ts[i - 1];
  if (!ascending) {
    std::size_t i = 1;
    while (ts[i] > ts[i - 1]) ++i;
    return corrupt(fmt::format("chunk of series {}: timestamp {} not above its predecessor", c.header.series, i));
  }
  if (n == 0 || ts.front() != c.header.t_min || ts.back() != c.header.t_max)
    return corrupt(fmt::format("chunk of series {}: timestamps disagree with t_min/t_max", c.header.series));
  return Status::ok();
}

bool chunk_grid(const ChunkView& c, std::int64_t& t0, std::int64_t& step) {
  const std::size_t n = c.header.count;
  __extension__ using Wide = __int128;  // exact: t0 + step * (n - 1) may overflow int64
  return codec::grid_timestamps(c.ts_block, n, c.ts_base, t0, step) && (step > 0 || n == 1) &&
         t0 == c.header.t_min &&
         static_cast<Wide>(t0) + static_cast<Wide>(step) * static_cast<Wide>(n - 1) == c.header.t_max;
}

ChunkFileBuilder::ChunkFileBuilder(std::int64_t partition_start, std::int64_t partition_ns, std::uint32_t version) {
  codec::ByteWriter w(bytes_);
  for (char c : kFileMagic) w.u8(static_cast<std::uint8_t>(c));
  w.u32(version);
  w.u32(0);
  w.u64(static_cast<std::uint64_t>(partition_start));
  w.u64(static_cast<std::uint64_t>(partition_ns));
}

void ChunkFileBuilder::add(SeriesId series, std::span<const std::uint8_t> chunk) {
  if (index_.empty() || index_.back().series != series) index_.push_back(IndexEntry{series, 0, bytes_.size()});
  ++index_.back().chunk_count;
  bytes_.insert(bytes_.end(), chunk.begin(), chunk.end());
}

std::vector<std::uint8_t> ChunkFileBuilder::finish() {
  const std::uint64_t index_offset = bytes_.size();
  codec::ByteWriter w(bytes_);
  for (const auto& e : index_) {
    w.u32(e.series);
    w.u32(e.chunk_count);
    w.u64(e.offset);
  }
  const std::uint32_t index_crc = crc32c(std::span(bytes_).subspan(index_offset));
  const std::size_t footer = bytes_.size();
  w.u64(index_offset);
  w.u32(static_cast<std::uint32_t>(index_.size()));
  w.u32(index_crc);
  w.u64(0);  // reserved
  w.u32(0);  // reserved
  w.u32(crc32c(std::span(bytes_).subspan(footer, 28)));
  for (char c : kFooterMagic) w.u8(static_cast<std::uint8_t>(c));
  return std::move(bytes_);
}

namespace {
// The CRC-checked frame of a chunk file: header, footer and index. Index entries are checked to be
// in ascending series order with ascending offsets inside the chunk area; the chunks themselves are
// not looked at.
struct FileFrame {
  ChunkFileInfo info;
  std::uint64_t index_offset = 0;
};

Result<FileFrame> parse_frame(std::span<const std::uint8_t> file) {
  if (file.size() < kChunkFileHeaderBytes + kChunkFooterBytes)
    return error(corrupt(fmt::format("chunk file: {} bytes, shorter than header + footer", file.size())));
  if (std::memcmp(file.data(), kFileMagic, 8) != 0) return error(corrupt("chunk file: bad magic at byte 0"));
  codec::ByteReader hr(file.subspan(8, kChunkFileHeaderBytes - 8), "chunk file header");
  const std::uint32_t version = hr.u32();
  hr.u32();
  FileFrame frame;
  ChunkFileInfo& info = frame.info;
  info.partition_start = static_cast<std::int64_t>(hr.u64());
  info.partition_ns = static_cast<std::int64_t>(hr.u64());
  if (version != kChunkFormatVersion && version != kChunkFormatVersionV1)
    return error(corrupt(fmt::format("chunk file: version {} at byte 8, expected {} or {}", version,
                                     kChunkFormatVersionV1, kChunkFormatVersion)));
  info.version = version;
  const std::size_t footer_at = file.size() - kChunkFooterBytes;
  if (std::memcmp(file.data() + footer_at + 32, kFooterMagic, 8) != 0)
    return error(corrupt(fmt::format("chunk file: bad footer magic at byte {}", footer_at + 32)));
  codec::ByteReader fr(file.subspan(footer_at, 32), "chunk file footer");
  const std::uint64_t index_offset = fr.u64();
  const std::uint32_t entries = fr.u32();
  const std::uint32_t index_crc = fr.u32();
  fr.u64();
  fr.u32();
  const std::uint32_t footer_crc = fr.u32();
  if (footer_crc != crc32c(file.subspan(footer_at, 28)))
    return error(corrupt(fmt::format("chunk file: footer CRC mismatch at byte {}", footer_at + 28)));
  if (index_offset < kChunkFileHeaderBytes || index_offset > footer_at ||
      (footer_at - index_offset) != std::uint64_t{entries} * kIndexEntryBytes)
    return error(corrupt(fmt::format("chunk file: index at {} with {} entries does not end at the footer ({})",
                                     index_offset, entries, footer_at)));
  const auto index_bytes = file.subspan(index_offset, footer_at - index_offset);
  if (crc32c(index_bytes) != index_crc)
    return error(corrupt(fmt::format("chunk file: index CRC mismatch (index at byte {})", index_offset)));
  codec::ByteReader ir(index_bytes, "chunk file index");
  for (std::uint32_t i = 0; i < entries; ++i) {
    IndexEntry e{ir.u32(), ir.u32(), ir.u64()};
    const bool after_prev = i == 0 || (e.series > info.index.back().series && e.offset > info.index.back().offset);
    if (e.chunk_count == 0 || e.offset < kChunkFileHeaderBytes || e.offset >= index_offset || !after_prev)
      return error(corrupt(fmt::format("chunk file: index entry {} (series {}, offset {}) out of order", i,
                                       e.series, e.offset)));
    info.index.push_back(e);
  }
  frame.index_offset = index_offset;
  return frame;
}
}  // namespace

Result<ChunkFileInfo> parse_chunk_file(std::span<const std::uint8_t> file) {
  auto frame = parse_frame(file);
  if (!frame) return error(frame.error());
  const std::uint64_t index_offset = frame->index_offset;
  std::uint64_t expect = kChunkFileHeaderBytes;  // chunks tile the space between header and index
  for (std::size_t i = 0; i < frame->info.index.size(); ++i) {
    const IndexEntry& e = frame->info.index[i];
    if (e.offset != expect)
      return error(corrupt(fmt::format("chunk file: index entry {} (series {}, offset {}) out of order", i,
                                       e.series, e.offset)));
    for (std::uint32_t c = 0; c < e.chunk_count; ++c) {
      auto chunk = parse_chunk(file.subspan(expect, index_offset - expect), frame->info.version);
      if (!chunk) return error(corrupt(fmt::format("chunk file: chunk at byte {}: {}", expect, chunk.error().message())));
      if (chunk->header.series != e.series)
        return error(corrupt(fmt::format("chunk file: chunk at byte {} is of series {}, index says {}", expect,
                                         chunk->header.series, e.series)));
      expect += chunk->header.total_bytes;
    }
  }
  if (expect != index_offset)
    return error(corrupt(fmt::format("chunk file: {} unindexed bytes before the index", index_offset - expect)));
  return std::move(frame->info);
}

Result<SalvagedChunkFile> salvage_chunk_file(std::span<const std::uint8_t> file) {
  auto frame = parse_frame(file);
  if (!frame) return error(frame.error());
  SalvagedChunkFile out;
  out.info.version = frame->info.version;
  out.info.partition_start = frame->info.partition_start;
  out.info.partition_ns = frame->info.partition_ns;
  const auto& index = frame->info.index;
  for (std::size_t i = 0; i < index.size(); ++i) {
    IndexEntry e = index[i];
    // Each series' chunks must stay inside its own region: up to the next entry or the index.
    const std::uint64_t region_end = i + 1 < index.size() ? index[i + 1].offset : frame->index_offset;
    std::uint64_t at = e.offset;
    std::uint32_t good = 0;
    for (; good < e.chunk_count; ++good) {
      auto chunk = parse_chunk(file.subspan(at, region_end - at), out.info.version);
      std::string reason;
      if (!chunk) reason = chunk.error().message();
      else if (chunk->header.series != e.series)
        reason = fmt::format("chunk is of series {}, index says {}", chunk->header.series, e.series);
      if (!reason.empty()) {
        out.damage.push_back(ChunkDamage{e.series, at, e.chunk_count - good, std::move(reason)});
        break;
      }
      at += chunk->header.total_bytes;
    }
    e.chunk_count = good;
    if (good > 0) out.info.index.push_back(e);
  }
  return out;
}

Result<std::vector<ChunkView>> chunks_of(std::span<const std::uint8_t> file, const IndexEntry& entry) {
  std::vector<ChunkView> out;
  const std::uint32_t version = file_version(file);
  std::uint64_t at = entry.offset;
  for (std::uint32_t c = 0; c < entry.chunk_count; ++c) {
    if (at > file.size()) return error(corrupt("chunk file: index points past the end"));
    auto chunk = parse_chunk(file.subspan(at), version);
    if (!chunk) return error(chunk.error());
    at += chunk->header.total_bytes;
    out.push_back(*chunk);
  }
  return out;
}

}  // namespace resonance::historian
