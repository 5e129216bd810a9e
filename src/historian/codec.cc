#include "historian/codec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <optional>
#include <bit>

#include "historian/codec_bits.h"

namespace resonance::historian::codec {

namespace {

// ---- frame of reference + GCD + bit packing over 64-bit integers (wrapping arithmetic) ----

void put_for(ByteWriter& w, std::span<const std::uint64_t> v) {
  if (v.empty()) return;
  std::int64_t base = static_cast<std::int64_t>(v[0]);
  for (auto x : v) base = std::min(base, static_cast<std::int64_t>(x));
  std::uint64_t g = 0;
  std::uint64_t max_off = 0;
  for (auto x : v) {
    const std::uint64_t off = x - static_cast<std::uint64_t>(base);
    if (g != 1) g = std::gcd(g, off);  // once 1, always 1: skip the division loop (encode hot spot)
    max_off = std::max(max_off, off);
  }
  if (g == 0) g = 1;
  const auto width = static_cast<unsigned>(std::bit_width(max_off / g));
  w.svarint(base);
  w.varint(g);
  w.u8(static_cast<std::uint8_t>(width));
  BitWriter bits(w.out());
  if (width > 0)
    for (auto x : v) bits.put((x - static_cast<std::uint64_t>(base)) / g, width);
}

void get_for(ByteReader& r, std::span<std::uint64_t> out) {
  if (out.empty()) return;
  const auto base = static_cast<std::uint64_t>(r.svarint());
  const std::uint64_t g = r.varint();
  const unsigned width = r.u8();
  if (!r.ok()) return;
  if (width > 64) {
    r.fail(fmt::format("bit width {} above 64", width));
    return;
  }
  const std::size_t nbytes = (out.size() * width + 7) / 8;
  BitReader bits(r.bytes(nbytes));
  if (!r.ok()) return;
  for (auto& x : out) {
    std::uint64_t off = 0;
    bits.get(width, off);  // cannot run short: nbytes covers n * width bits
    x = base + g * off;
  }
}

// ---- timestamps ----

void ts_grid(std::span<const std::int64_t> ts, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(TsCodec::kGrid));
  const std::int64_t t0 = ts.empty() ? 0 : ts[0];
  const std::int64_t step = ts.size() < 2 ? 0 : static_cast<std::int64_t>(static_cast<std::uint64_t>(ts[1]) -
                                                                           static_cast<std::uint64_t>(ts[0]));
  w.svarint(t0);
  w.svarint(step);
  std::size_t exceptions = 0;
  auto grid = [&](std::size_t i) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(t0) + static_cast<std::uint64_t>(step) * i);
  };
  for (std::size_t i = 0; i < ts.size(); ++i) exceptions += ts[i] != grid(i);
  w.varint(exceptions);
  std::size_t prev = 0;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (ts[i] == grid(i)) continue;
    w.varint(i - prev);
    prev = i;
    w.svarint(static_cast<std::int64_t>(static_cast<std::uint64_t>(ts[i]) - static_cast<std::uint64_t>(grid(i))));
  }
}

void ts_delta_for(std::span<const std::int64_t> ts, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(TsCodec::kDeltaFor));
  if (ts.empty()) return;
  w.svarint(ts[0]);
  std::vector<std::uint64_t> d(ts.size() - 1);
  for (std::size_t i = 1; i < ts.size(); ++i)
    d[i - 1] = static_cast<std::uint64_t>(ts[i]) - static_cast<std::uint64_t>(ts[i - 1]);
  put_for(w, d);
}

// ---- values ----

// Decimal block flags (docs/formats/chunk.md): how the integers are stored.
constexpr std::uint8_t kDecimalPlain = 0;      // FOR of the integers
constexpr std::uint8_t kDecimalDelta = 1;      // first, then FOR of the deltas
constexpr std::uint8_t kDecimalDeltaRice = 3;  // first, then the deltas Rice-coded

constexpr std::array<double, 19> kPow10 = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                           1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
constexpr unsigned kMaxExponent = 18;
constexpr double kMaxExact = 9007199254740992.0;  // 2^53: beyond it n is not exactly a double

// The decoder's reconstruction; the encoder checks candidates against exactly this function.
double decimal_value(std::int64_t n, unsigned e, bool f32) {
  const double d = static_cast<double>(n) / kPow10[e];
  return f32 ? static_cast<double>(static_cast<float>(d)) : d;
}

// The integer for v at exponent e when it reconstructs bit-exactly, else false.
bool decimal_integer(double v, unsigned e, bool f32, std::int64_t& n) {
  if (!std::isfinite(v)) return false;
  if (f32 && static_cast<double>(static_cast<float>(v)) != v) return false;
  const double x = v * kPow10[e];
  if (!(std::fabs(x) < kMaxExact)) return false;
  n = std::llround(x);
  return bits_of(decimal_value(n, e, f32)) == bits_of(v);
}

// ALP's first-level sampling, simplified: up to 32 evenly spaced values pick the exponent.
std::optional<unsigned> pick_exponent(std::span<const double> v, bool f32) {
  const std::size_t step = std::max<std::size_t>(1, v.size() / 32);
  unsigned best_e = 0;
  std::size_t best = 0;
  for (unsigned e = 0; e <= kMaxExponent; ++e) {
    std::size_t hits = 0;
    for (std::size_t i = 0; i < v.size(); i += step) {
      std::int64_t n = 0;
      hits += decimal_integer(v[i], e, f32, n);
    }
    if (hits > best) {
      best = hits;
      best_e = e;
    }
  }
  if (best == 0) return std::nullopt;
  return best_e;
}

// Rice coding of the decimal path's deltas (flags = 3): each zigzagged delta z as q = z >> k one-bits,
// a zero bit and the low k bits of z; q >= kRiceEscape is written as kRiceEscape one-bits and z
// raw in 64 bits, so a spike costs 96 bits rather than an unbounded unary run. Bit packing pays the
// widest delta's width for every sample; a random walk's or a quantised drift's deltas are mostly
// 0 or ±1, where Rice pays one to three bits.
constexpr unsigned kRiceEscape = 32;
constexpr unsigned kMaxRiceK = 62;

// The k with the smallest estimated cost, from a histogram of the deltas' bit widths: a mean
// would let one spike (an escape anyway) push k up for every other delta.
unsigned pick_rice_k(std::span<const std::uint64_t> z) {
  std::array<std::uint64_t, 65> width{};
  for (auto x : z) ++width[static_cast<std::size_t>(std::bit_width(x))];
  unsigned best_k = 0;
  long double best = -1;
  for (unsigned k = 0; k <= kMaxRiceK; ++k) {
    long double cost = 0;
    for (unsigned w = 0; w <= 64; ++w) {
      if (width[w] == 0) continue;
      long double each = k + 1;  // w <= k: quotient 0
      if (w > k) {
        // A width-w value has a quotient in [2^(w-k-1), 2^(w-k)): take the middle.
        const unsigned shift = w - k - 1;
        each = shift >= 5 ? kRiceEscape + 64 : 1.5L * static_cast<long double>(1u << shift) + 1 + k;
      }
      cost += each * static_cast<long double>(width[w]);
    }
    if (best < 0 || cost < best) {
      best = cost;
      best_k = k;
    }
  }
  return best_k;
}

void put_rice(ByteWriter& w, std::span<const std::uint64_t> z) {
  const unsigned best_k = pick_rice_k(z);
  w.u8(static_cast<std::uint8_t>(best_k));
  BitWriter bits(w.out());
  for (auto x : z) {
    const std::uint64_t q = x >> best_k;
    if (q < kRiceEscape) {
      bits.put((std::uint64_t{1} << q) - 1, static_cast<unsigned>(q) + 1);  // q ones, then a zero
      if (best_k > 0) bits.put(x, best_k);
    } else {
      bits.put((std::uint64_t{1} << kRiceEscape) - 1, kRiceEscape);
      bits.put(x, 64);
    }
  }
}

// Reads n Rice-coded zigzagged deltas into `out` (as wrapping 64-bit deltas).
void get_rice(ByteReader& r, std::span<const std::uint8_t> block, std::span<std::uint64_t> out) {
  const unsigned k = r.u8();
  if (!r.ok()) return;
  if (k > kMaxRiceK) {
    r.fail(fmt::format("Rice parameter {} above {}", k, kMaxRiceK));
    return;
  }
  BitReader bits(block.subspan(r.pos()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned q = 0;
    bool ok = bits.unary(kRiceEscape, q);
    std::uint64_t z = 0;
    if (ok && q == kRiceEscape) {
      ok = bits.get(64, z);
    } else if (ok) {
      std::uint64_t low = 0;
      ok = bits.get(k, low);
      z = (static_cast<std::uint64_t>(q) << k) | low;
    }
    if (!ok) {
      r.fail(fmt::format("Rice bit stream ends early at delta {} of {}", i, out.size()));
      return;
    }
    out[i] = static_cast<std::uint64_t>(unzigzag(z));
  }
  r.bytes(bits.bytes_consumed());
}

bool values_decimal(std::span<const double> v, bool f32, std::vector<std::uint8_t>& out) {
  if (v.empty()) return false;
  const auto e = pick_exponent(v, f32);
  if (!e) return false;
  std::vector<std::uint64_t> ints(v.size());
  std::vector<std::size_t> exceptions;
  std::int64_t prev = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::int64_t n = 0;
    if (decimal_integer(v[i], *e, f32, n)) {
      prev = n;
    } else {
      exceptions.push_back(i);
      n = prev;  // keeps deltas small across an exception
    }
    ints[i] = static_cast<std::uint64_t>(n);
  }
  if (exceptions.size() > v.size() / 2) return false;
  // Delta before FOR wins on smooth signals, plain FOR on noisy ones: try both.
  std::vector<std::uint64_t> deltas(ints.size());
  deltas[0] = ints[0];
  for (std::size_t i = 1; i < ints.size(); ++i) deltas[i] = ints[i] - ints[i - 1];
  std::vector<std::uint8_t> plain, delta;
  {
    ByteWriter w(plain);
    put_for(w, ints);
  }
  {
    ByteWriter w(delta);
    w.svarint(static_cast<std::int64_t>(deltas[0]));
    put_for(w, std::span(deltas).subspan(1));
  }
  std::vector<std::uint8_t> rice;
  {
    std::vector<std::uint64_t> z(deltas.size() - 1);
    for (std::size_t i = 1; i < deltas.size(); ++i) z[i - 1] = zigzag(static_cast<std::int64_t>(deltas[i]));
    ByteWriter w(rice);
    w.svarint(static_cast<std::int64_t>(deltas[0]));
    put_rice(w, z);
  }
  const std::uint8_t flags = rice.size() < std::min(delta.size(), plain.size()) ? kDecimalDeltaRice
                             : delta.size() < plain.size()                      ? kDecimalDelta
                                                                                : kDecimalPlain;
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(f32 ? ValueCodec::kFloat32Decimal : ValueCodec::kDecimal));
  w.u8(static_cast<std::uint8_t>(*e));
  w.u8(flags);
  w.varint(exceptions.size());
  std::size_t last = 0;
  for (std::size_t i : exceptions) {
    w.varint(i - last);
    last = i;
    w.u64(bits_of(v[i]));
  }
  const auto& body = flags == kDecimalDeltaRice ? rice : flags == kDecimalDelta ? delta : plain;
  out.insert(out.end(), body.begin(), body.end());
  return true;
}

bool values_constant(std::span<const double> v, std::vector<std::uint8_t>& out) {
  if (v.empty()) return false;
  for (double x : v)
    if (bits_of(x) != bits_of(v[0])) return false;
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(ValueCodec::kConstant));
  w.u64(bits_of(v[0]));
  return true;
}

void values_rle(std::span<const double> v, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(ValueCodec::kRle));
  std::size_t runs = 0;
  for (std::size_t i = 0; i < v.size(); ++i) runs += i == 0 || bits_of(v[i]) != bits_of(v[i - 1]);
  w.varint(runs);
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i + 1;
    while (j < v.size() && bits_of(v[j]) == bits_of(v[i])) ++j;
    w.u64(bits_of(v[i]));
    w.varint(j - i);
    i = j;
  }
}

void values_xor(std::span<const double> v, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(ValueCodec::kXor));
  if (v.empty()) return;
  BitWriter bits(out);
  std::uint64_t prev = bits_of(v[0]);
  bits.put(prev, 64);
  unsigned prev_lz = 65, prev_tz = 0;  // 65: no window yet
  for (std::size_t i = 1; i < v.size(); ++i) {
    const std::uint64_t cur = bits_of(v[i]);
    const std::uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      bits.put(0, 1);
      continue;
    }
    bits.put(1, 1);
    const auto lz = static_cast<unsigned>(std::countl_zero(x));
    const auto tz = static_cast<unsigned>(std::countr_zero(x));
    if (prev_lz <= 64 && lz >= prev_lz && tz >= prev_tz) {
      bits.put(0, 1);
      bits.put(x >> prev_tz, 64 - prev_lz - prev_tz);
    } else {
      const unsigned meaningful = 64 - lz - tz;  // 1..64
      bits.put(1, 1);
      bits.put(lz, 6);
      bits.put(meaningful - 1, 6);
      bits.put(x >> tz, meaningful);
      prev_lz = lz;
      prev_tz = tz;
    }
  }
}

void values_raw(std::span<const double> v, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(ValueCodec::kRaw));
  for (double x : v) w.u64(bits_of(x));
}

Status finish(const ByteReader& r, std::string_view what) {
  if (!r.ok()) return r.status();
  if (r.remaining() != 0)
    return Status(StatusCode::kCorruption,
                  fmt::format("{} block: {} trailing bytes after byte {}", what, r.remaining(), r.pos()));
  return Status::ok();
}

}  // namespace

void encode_timestamps(std::span<const std::int64_t> ts, std::vector<std::uint8_t>& out) {
  std::vector<std::uint8_t> a, b;
  ts_grid(ts, a);
  ts_delta_for(ts, b);
  const auto& best = a.size() <= b.size() ? a : b;
  out.insert(out.end(), best.begin(), best.end());
}

bool encode_values_with(ValueCodec codec, std::span<const double> v, std::vector<std::uint8_t>& out) {
  switch (codec) {
    case ValueCodec::kConstant: return values_constant(v, out);
    case ValueCodec::kRle: values_rle(v, out); return true;
    case ValueCodec::kDecimal: return values_decimal(v, false, out);
    case ValueCodec::kFloat32Decimal: return values_decimal(v, true, out);
    case ValueCodec::kXor: values_xor(v, out); return true;
    case ValueCodec::kRaw: values_raw(v, out); return true;
  }
  return false;
}

void encode_values(std::span<const double> v, std::vector<std::uint8_t>& out) {
  // Raw (1 + 8n bytes) is the fallback, sized without being built unless it wins.
  const std::size_t raw_size = 1 + 8 * v.size();
  // XOR pays at least its codec byte, the first value and one bit for each later value.
  const std::size_t xor_floor = 9 + (v.size() > 0 ? (v.size() - 1 + 7) / 8 : 0);
  std::vector<std::uint8_t> best, candidate;
  for (ValueCodec c : {ValueCodec::kConstant, ValueCodec::kRle, ValueCodec::kDecimal, ValueCodec::kFloat32Decimal,
                       ValueCodec::kXor}) {
    if (!best.empty() && best.size() <= 9) break;  // a constant block cannot be beaten
    if (c == ValueCodec::kXor && !best.empty() && best.size() <= xor_floor) break;
    candidate.clear();
    if (encode_values_with(c, v, candidate) && candidate.size() < raw_size &&
        (best.empty() || candidate.size() < best.size()))
      std::swap(best, candidate);
  }
  if (best.empty()) values_raw(v, best);
  out.insert(out.end(), best.begin(), best.end());
}

void encode_quality(std::span<const std::uint32_t> q, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(QualityCodec::kRle));
  std::size_t runs = 0;
  for (std::size_t i = 0; i < q.size(); ++i) runs += i == 0 || q[i] != q[i - 1];
  w.varint(runs);
  for (std::size_t i = 0; i < q.size();) {
    std::size_t j = i + 1;
    while (j < q.size() && q[j] == q[i]) ++j;
    w.varint(q[i]);
    w.varint(j - i);
    i = j;
  }
}

Status decode_timestamps(std::span<const std::uint8_t> block, std::span<std::int64_t> out) {
  ByteReader r(block, "timestamp");
  const auto codec = r.u8();
  if (!r.ok()) return r.status();
  if (codec == static_cast<std::uint8_t>(TsCodec::kGrid)) {
    const auto t0 = static_cast<std::uint64_t>(r.svarint());
    const auto step = static_cast<std::uint64_t>(r.svarint());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int64_t>(t0 + step * i);
    const std::uint64_t exceptions = r.varint();
    if (r.ok() && exceptions > out.size()) r.fail(fmt::format("{} exceptions for {} samples", exceptions, out.size()));
    std::uint64_t idx = 0;
    for (std::uint64_t k = 0; k < exceptions && r.ok(); ++k) {
      const std::uint64_t gap = r.varint();
      const auto diff = static_cast<std::uint64_t>(r.svarint());
      if (!r.ok()) break;
      if ((k > 0 && gap == 0) || gap >= out.size() - idx) {
        r.fail(fmt::format("exception index gap {} out of order or past sample {}", gap, out.size()));
        break;
      }
      idx += gap;
      out[idx] = static_cast<std::int64_t>(static_cast<std::uint64_t>(out[idx]) + diff);
    }
  } else if (codec == static_cast<std::uint8_t>(TsCodec::kDeltaFor)) {
    if (!out.empty()) {
      out[0] = r.svarint();
      std::vector<std::uint64_t> d(out.size() - 1);
      get_for(r, d);
      for (std::size_t i = 1; i < out.size() && r.ok(); ++i)
        out[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(out[i - 1]) + d[i - 1]);
    }
  } else {
    r.fail(fmt::format("unknown timestamp codec {}", codec));
  }
  return finish(r, "timestamp");
}

Status decode_values(std::span<const std::uint8_t> block, std::span<double> out) {
  ByteReader r(block, "value");
  const auto codec = static_cast<ValueCodec>(r.u8());
  if (!r.ok()) return r.status();
  switch (codec) {
    case ValueCodec::kConstant: {
      const double v = double_of(r.u64());
      if (out.empty()) r.fail("constant codec for an empty block");
      std::fill(out.begin(), out.end(), v);
      break;
    }
    case ValueCodec::kRle: {
      const std::uint64_t runs = r.varint();
      if (r.ok() && runs > out.size()) r.fail(fmt::format("{} runs for {} samples", runs, out.size()));
      std::size_t at = 0;
      for (std::uint64_t k = 0; k < runs && r.ok(); ++k) {
        const double v = double_of(r.u64());
        const std::uint64_t len = r.varint();
        if (!r.ok()) break;
        if (len == 0 || len > out.size() - at) {
          r.fail(fmt::format("run {} of length {} overflows {} samples", k, len, out.size()));
          break;
        }
        std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(at), len, v);
        at += len;
      }
      if (r.ok() && at != out.size()) r.fail(fmt::format("runs cover {} of {} samples", at, out.size()));
      break;
    }
    case ValueCodec::kDecimal:
    case ValueCodec::kFloat32Decimal: {
      const bool f32 = codec == ValueCodec::kFloat32Decimal;
      if (out.empty()) r.fail("decimal codec for an empty block");
      const unsigned e = r.u8();
      const unsigned flags = r.u8();
      if (r.ok() && e > kMaxExponent) r.fail(fmt::format("decimal exponent {} above {}", e, kMaxExponent));
      if (r.ok() && flags != kDecimalPlain && flags != kDecimalDelta && flags != kDecimalDeltaRice)
        r.fail(fmt::format("unknown decimal flags {:#x}", flags));
      const std::uint64_t exceptions = r.varint();
      if (r.ok() && exceptions > out.size()) r.fail(fmt::format("{} exceptions for {} samples", exceptions, out.size()));
      std::vector<std::pair<std::size_t, std::uint64_t>> exc;
      std::uint64_t idx = 0;
      for (std::uint64_t k = 0; k < exceptions && r.ok(); ++k) {
        const std::uint64_t gap = r.varint();
        const std::uint64_t raw = r.u64();
        if (!r.ok()) break;
        if ((k > 0 && gap == 0) || gap >= out.size() - idx) {
          r.fail(fmt::format("exception index gap {} out of order or past sample {}", gap, out.size()));
          break;
        }
        idx += gap;
        exc.emplace_back(idx, raw);
      }
      if (!r.ok()) break;
      std::vector<std::uint64_t> ints(out.size());
      if (flags == kDecimalDelta || flags == kDecimalDeltaRice) {
        ints[0] = static_cast<std::uint64_t>(r.svarint());
        if (flags == kDecimalDelta) get_for(r, std::span(ints).subspan(1));
        else if (r.ok()) get_rice(r, block, std::span(ints).subspan(1));
        for (std::size_t i = 1; i < ints.size(); ++i) ints[i] += ints[i - 1];
      } else {
        get_for(r, ints);
      }
      if (!r.ok()) break;
      for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = decimal_value(static_cast<std::int64_t>(ints[i]), e, f32);
      for (auto [i, raw] : exc) out[i] = double_of(raw);
      break;
    }
    case ValueCodec::kXor: {
      if (out.empty()) break;
      BitReader bits(block.subspan(r.pos()));
      std::uint64_t prev = 0;
      bool ok = bits.get(64, prev);
      out[0] = double_of(prev);
      unsigned lz = 65, tz = 0;
      for (std::size_t i = 1; i < out.size() && ok; ++i) {
        std::uint64_t flag = 0, x = 0;
        ok = bits.get(1, flag);
        if (ok && flag == 1) {
          std::uint64_t fresh = 0;
          ok = bits.get(1, fresh);
          if (ok && fresh == 1) {
            std::uint64_t l = 0, m = 0;
            ok = bits.get(6, l) && bits.get(6, m);
            if (ok && l + m + 1 > 64) {
              r.fail(fmt::format("xor window lead {} + length {} above 64 at sample {}", l, m + 1, i));
              return r.status();
            }
            lz = static_cast<unsigned>(l);
            tz = static_cast<unsigned>(64 - l - (m + 1));
          } else if (ok && lz > 64) {
            r.fail(fmt::format("xor window reused before one was set at sample {}", i));
            return r.status();
          }
          std::uint64_t meaningful = 0;
          ok = ok && bits.get(64 - lz - tz, meaningful);
          x = meaningful << tz;
          if (ok && x == 0) {
            r.fail(fmt::format("xor of zero coded as a change at sample {}", i));
            return r.status();
          }
        }
        prev ^= x;
        out[i] = double_of(prev);
      }
      if (!ok) {
        r.fail("xor bit stream ends early");
        break;
      }
      r.bytes(bits.bytes_consumed());
      break;
    }
    case ValueCodec::kRaw:
      for (auto& v : out) v = double_of(r.u64());
      break;
    default:
      r.fail(fmt::format("unknown value codec {}", static_cast<unsigned>(codec)));
  }
  return finish(r, "value");
}

Status decode_quality(std::span<const std::uint8_t> block, std::span<std::uint32_t> out) {
  ByteReader r(block, "quality");
  const auto codec = r.u8();
  if (r.ok() && codec != static_cast<std::uint8_t>(QualityCodec::kRle))
    r.fail(fmt::format("unknown quality codec {}", codec));
  const std::uint64_t runs = r.varint();
  if (r.ok() && runs > out.size()) r.fail(fmt::format("{} runs for {} samples", runs, out.size()));
  std::size_t at = 0;
  for (std::uint64_t k = 0; k < runs && r.ok(); ++k) {
    const std::uint64_t code = r.varint();
    const std::uint64_t len = r.varint();
    if (!r.ok()) break;
    if (code > 0xffffffffu) {
      r.fail(fmt::format("quality code {:#x} above 32 bits", code));
      break;
    }
    if (len == 0 || len > out.size() - at) {
      r.fail(fmt::format("run {} of length {} overflows {} samples", k, len, out.size()));
      break;
    }
    std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(at), len, static_cast<std::uint32_t>(code));
    at += len;
  }
  if (r.ok() && at != out.size()) r.fail(fmt::format("runs cover {} of {} samples", at, out.size()));
  return finish(r, "quality");
}

}  // namespace resonance::historian::codec
