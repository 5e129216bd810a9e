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
}  // namespace

void encode_chunk(SeriesId series, std::span<const TimestampNs> ts, std::span<const double> values,
                  std::span<const std::uint32_t> quality, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + kChunkHeaderBytes);
  const std::size_t ts_at = out.size();
  codec::encode_timestamps(ts, out);
  const std::size_t value_at = out.size();
  codec::encode_values(values, out);
  const std::size_t quality_at = out.size();
  codec::encode_quality(quality, out);

  double mn = NAN, mx = NAN, sum = 0;
  std::uint32_t value_count = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    mn = value_count == 0 ? v : std::min(mn, v);
    mx = value_count == 0 ? v : std::max(mx, v);
    sum += v;
    ++value_count;
  }
  std::vector<std::uint8_t> h;
  codec::ByteWriter w(h);
  w.u32(static_cast<std::uint32_t>(out.size() - start));
  w.u32(0);  // CRC, patched below
  w.u32(series);
  w.u16(static_cast<std::uint16_t>(ts.size()));
  w.u16(static_cast<std::uint16_t>(value_count));
  w.u8(out[ts_at]);
  w.u8(out[value_at]);
  w.u8(out[quality_at]);
  w.u8(0);
  w.u32(static_cast<std::uint32_t>(value_at - ts_at));
  w.u32(static_cast<std::uint32_t>(quality_at - value_at));
  w.u32(static_cast<std::uint32_t>(out.size() - quality_at));
  w.u64(static_cast<std::uint64_t>(ts.front()));
  w.u64(static_cast<std::uint64_t>(ts.back()));
  w.u64(codec::bits_of(mn));
  w.u64(codec::bits_of(mx));
  w.u64(codec::bits_of(sum));
  w.u64(codec::bits_of(values.front()));
  w.u64(codec::bits_of(values.back()));
  std::memcpy(out.data() + start, h.data(), kChunkHeaderBytes);
  const std::uint32_t crc = crc32c(std::span(out).subspan(start + 8));
  for (int i = 0; i < 4; ++i) out[start + 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
}

Result<ChunkView> parse_chunk(std::span<const std::uint8_t> bytes) {
  codec::ByteReader r(bytes, "chunk header");
  ChunkView v;
  ChunkHeader& h = v.header;
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
  const std::uint64_t total = std::uint64_t{kChunkHeaderBytes} + h.ts_bytes + h.value_bytes + h.quality_bytes;
  if (total != h.total_bytes || h.total_bytes > bytes.size() || h.ts_bytes == 0 || h.value_bytes == 0 ||
      h.quality_bytes == 0)
    return error(corrupt(fmt::format("chunk header: total {} != 88 + {} + {} + {} or past the {} bytes available",
                                     h.total_bytes, h.ts_bytes, h.value_bytes, h.quality_bytes, bytes.size())));
  v.whole = bytes.subspan(0, h.total_bytes);
  const std::uint32_t crc = crc32c(v.whole.subspan(8));
  if (crc != h.crc)
    return error(corrupt(fmt::format("chunk of series {}: CRC {:#010x} != stored {:#010x}", h.series, crc, h.crc)));
  v.ts_block = v.whole.subspan(kChunkHeaderBytes, h.ts_bytes);
  v.value_block = v.whole.subspan(kChunkHeaderBytes + h.ts_bytes, h.value_bytes);
  v.quality_block = v.whole.subspan(kChunkHeaderBytes + h.ts_bytes + h.value_bytes, h.quality_bytes);
  if (v.ts_block[0] != h.ts_codec || v.value_block[0] != h.value_codec || v.quality_block[0] != h.quality_codec)
    return error(corrupt("chunk header: codec ids disagree with the blocks"));
  return v;
}

Status decode_chunk(const ChunkView& c, ChunkColumns& out) {
  const std::size_t n = c.header.count;
  out.ts.resize(n);
  out.values.resize(n);
  out.quality.resize(n);
  if (Status s = codec::decode_timestamps(c.ts_block, out.ts); !s) return s;
  if (Status s = codec::decode_values(c.value_block, out.values); !s) return s;
  if (Status s = codec::decode_quality(c.quality_block, out.quality); !s) return s;
  for (std::size_t i = 1; i < n; ++i)
    if (out.ts[i] <= out.ts[i - 1])
      return corrupt(fmt::format("chunk of series {}: timestamp {} not above its predecessor", c.header.series, i));
  if (out.ts.front() != c.header.t_min || out.ts.back() != c.header.t_max)
    return corrupt(fmt::format("chunk of series {}: timestamps disagree with t_min/t_max", c.header.series));
  return Status::ok();
}

ChunkFileBuilder::ChunkFileBuilder(std::int64_t partition_start, std::int64_t partition_ns) {
  codec::ByteWriter w(bytes_);
  for (char c : kFileMagic) w.u8(static_cast<std::uint8_t>(c));
  w.u32(kChunkFormatVersion);
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
  if (version != kChunkFormatVersion)
    return error(corrupt(fmt::format("chunk file: version {} at byte 8, expected {}", version, kChunkFormatVersion)));
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
      auto chunk = parse_chunk(file.subspan(expect, index_offset - expect));
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
      auto chunk = parse_chunk(file.subspan(at, region_end - at));
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
  std::uint64_t at = entry.offset;
  for (std::uint32_t c = 0; c < entry.chunk_count; ++c) {
    if (at > file.size()) return error(corrupt("chunk file: index points past the end"));
    auto chunk = parse_chunk(file.subspan(at));
    if (!chunk) return error(chunk.error());
    at += chunk->header.total_bytes;
    out.push_back(*chunk);
  }
  return out;
}

}  // namespace resonance::historian
