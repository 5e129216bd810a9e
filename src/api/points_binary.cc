#include "resonance/api/points_binary.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

namespace resonance::api {

namespace {

constexpr char kMagic[4] = {'R', 'S', 'N', 'P'};
constexpr std::uint32_t kTruncatedFlag = 1;

template <class T>
char* put(char* p, T v) {
  if constexpr (std::endian::native == std::endian::big) v = std::byteswap(v);
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}

template <class T>
T get(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = std::byteswap(v);
  return v;
}

}  // namespace

void write_points_binary(std::string& out, SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                         TimestampNs next_from_ns, bool truncated, std::span<const Sample> points) {
  const std::size_t n = points.size();
  out.resize_and_overwrite(kPointsBinaryHeaderBytes + n * 20, [&](char* data, std::size_t size) {
    char* p = data;
    std::memcpy(p, kMagic, 4);
    p = put<std::uint16_t>(p + 4, kPointsBinaryVersion);
    p = put<std::uint16_t>(p, kPointsBinaryHeaderBytes);
    p = put<std::uint32_t>(p, series);
    p = put<std::uint32_t>(p, truncated ? kTruncatedFlag : 0);
    p = put<std::uint64_t>(p, n);
    p = put<std::int64_t>(p, from_ns);
    p = put<std::int64_t>(p, to_ns);
    p = put<std::int64_t>(p, next_from_ns);
    // One pass per column: each is a plain array a client can use in place.
    for (const Sample& s : points) p = put<std::int64_t>(p, s.ts_ns);
    for (const Sample& s : points) p = put<std::uint64_t>(p, std::bit_cast<std::uint64_t>(s.value));
    for (const Sample& s : points) p = put<std::uint32_t>(p, s.quality.code);
    return size;
  });
}

Result<PointsBinary> read_points_binary(std::span<const std::uint8_t> bytes) {
  auto corrupt = [](std::string msg) { return error(StatusCode::kCorruption, "points answer: " + std::move(msg)); };
  if (bytes.size() < kPointsBinaryHeaderBytes)
    return corrupt(fmt::format("{} bytes, shorter than the {}-byte header", bytes.size(), kPointsBinaryHeaderBytes));
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, kMagic, 4) != 0) return corrupt("bad magic at byte 0 (expected RSNP)");
  if (const auto version = get<std::uint16_t>(p + 4); version != kPointsBinaryVersion)
    return corrupt(fmt::format("version {} at byte 4, expected {}", version, kPointsBinaryVersion));
  const auto header = get<std::uint16_t>(p + 6);
  if (header < kPointsBinaryHeaderBytes || header % 8 != 0 || header > bytes.size())
    return corrupt(fmt::format("header length {} at byte 6: expected a multiple of 8 from {} to the {} bytes given",
                               header, kPointsBinaryHeaderBytes, bytes.size()));
  PointsBinary out;
  out.series = get<std::uint32_t>(p + 8);
  const auto flags = get<std::uint32_t>(p + 12);
  if ((flags & ~kTruncatedFlag) != 0) return corrupt(fmt::format("unknown flags {:#x} at byte 12", flags));
  out.truncated = (flags & kTruncatedFlag) != 0;
  const auto n = get<std::uint64_t>(p + 16);
  out.from_ns = get<std::int64_t>(p + 24);
  out.to_ns = get<std::int64_t>(p + 32);
  out.next_from_ns = get<std::int64_t>(p + 40);
  const std::size_t body = bytes.size() - header;
  if (n > body / 20 || n * 20 != body)
    return corrupt(fmt::format("count {} at byte 16 does not fit the {} bytes of columns after the header "
                               "(20 a point)",
                               n, body));
  const std::uint8_t* ts = p + header;
  const std::uint8_t* values = ts + n * 8;
  const std::uint8_t* quality = values + n * 8;
  out.ts.resize(n);
  out.values.resize(n);
  out.quality.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.ts[i] = get<std::int64_t>(ts + 8 * i);
  for (std::size_t i = 0; i < n; ++i) out.values[i] = std::bit_cast<double>(get<std::uint64_t>(values + 8 * i));
  for (std::size_t i = 0; i < n; ++i) out.quality[i] = get<std::uint32_t>(quality + 4 * i);
  return out;
}

}  // namespace resonance::api
