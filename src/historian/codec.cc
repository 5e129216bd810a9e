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

struct ForParams {
  std::int64_t base = 0;
  std::uint64_t gcd = 1;
  unsigned width = 0;
};

ForParams for_params(std::span<const std::uint64_t> v) {
  ForParams p;
  if (v.empty()) return p;
  p.base = static_cast<std::int64_t>(v[0]);
  for (auto x : v) p.base = std::min(p.base, static_cast<std::int64_t>(x));
  std::uint64_t g = 0;
  std::uint64_t max_off = 0;
  for (auto x : v) {
    const std::uint64_t off = x - static_cast<std::uint64_t>(p.base);
    if (g != 1) g = std::gcd(g, off);  // once 1, always 1: skip the division loop (encode hot spot)
    max_off = std::max(max_off, off);
  }
  p.gcd = g == 0 ? 1 : g;
  p.width = static_cast<unsigned>(std::bit_width(max_off / p.gcd));
  return p;
}

std::size_t varint_size(std::uint64_t v) { return static_cast<std::size_t>(std::bit_width(v | 1) + 6) / 7; }

// Bytes put_for writes for `m` integers with these parameters.
std::size_t for_size(const ForParams& p, std::size_t m) {
  if (m == 0) return 0;
  return varint_size(zigzag(p.base)) + varint_size(p.gcd) + 1 + (m * p.width + 7) / 8;
}

void put_for(ByteWriter& w, std::span<const std::uint64_t> v, const ForParams& p) {
  if (v.empty()) return;
  w.svarint(p.base);
  w.varint(p.gcd);
  w.u8(static_cast<std::uint8_t>(p.width));
  BitWriter bits(w.out());
  if (p.width > 0)
    for (auto x : v) bits.put((x - static_cast<std::uint64_t>(p.base)) / p.gcd, p.width);
}

void put_for(ByteWriter& w, std::span<const std::uint64_t> v) { put_for(w, v, for_params(v)); }

// Unpacks `out.size()` offsets of `width` bits (LSB-first) from `packed`, which holds exactly
// ceil(n * width / 8) bytes. While 8 bytes are readable at an offset's first byte one unaligned
// load covers it (width <= 56: at most 7 bits of the first byte precede it); the offsets are
// independent, so the loads pipeline. The last few go through BitReader.
void unpack_bits(std::span<const std::uint8_t> packed, unsigned width, std::uint64_t base, std::uint64_t g,
                 std::span<std::uint64_t> out) {
  if (width == 0) {
    std::fill(out.begin(), out.end(), base);
    return;
  }
  std::size_t i = 0;
  if (width <= 56 && packed.size() >= 8) {
    const std::uint64_t mask = (std::uint64_t{1} << width) - 1;
    // Offsets whose first byte leaves 8 readable: bit i * width with i * width / 8 + 8 <= size.
    const std::size_t fast = std::min(out.size(), ((packed.size() - 8) * 8) / width + 1);
    const std::uint8_t* p = packed.data();
    for (; i < fast; ++i) {
      const std::size_t bit = i * width;
      out[i] = base + g * ((load_le64(p + bit / 8) >> (bit % 8)) & mask);
    }
  }
  BitReader bits(packed, i * width);
  for (; i < out.size(); ++i) {
    std::uint64_t off = 0;
    bits.get(width, off);  // cannot run short: the caller sized `packed` for n * width bits
    out[i] = base + g * off;
  }
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
  const auto packed = r.bytes(nbytes);
  if (!r.ok()) return;
  unpack_bits(packed, width, base, g, out);
}

// ---- timestamps ----

// Returns the number of exceptions written.
std::size_t ts_grid(std::span<const std::int64_t> ts, std::int64_t base, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(TsCodec::kGrid));
  const std::int64_t t0 = ts.empty() ? 0 : ts[0];
  const std::int64_t step = ts.size() < 2 ? 0 : static_cast<std::int64_t>(static_cast<std::uint64_t>(ts[1]) -
                                                                           static_cast<std::uint64_t>(ts[0]));
  w.svarint(static_cast<std::int64_t>(static_cast<std::uint64_t>(t0) - static_cast<std::uint64_t>(base)));
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
  return exceptions;
}

void ts_delta_for(std::span<const std::int64_t> ts, std::int64_t base, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(TsCodec::kDeltaFor));
  if (ts.empty()) return;
  w.svarint(static_cast<std::int64_t>(static_cast<std::uint64_t>(ts[0]) - static_cast<std::uint64_t>(base)));
  std::vector<std::uint64_t> d(ts.size() - 1);
  for (std::size_t i = 1; i < ts.size(); ++i)
    d[i - 1] = static_cast<std::uint64_t>(ts[i]) - static_cast<std::uint64_t>(ts[i - 1]);
  put_for(w, d);
}

// ---- values ----

// Decimal block flags (docs/formats/chunk.md): how the integers are stored.
constexpr std::uint8_t kDecimalPlain = 0;        // FOR of the integers
constexpr std::uint8_t kDecimalDelta = 1;        // first, then FOR of the deltas
constexpr std::uint8_t kDecimalDeltaRice = 3;    // first, then the deltas Rice-coded
constexpr std::uint8_t kDecimalPredictRice = 5;  // first, an order-2 predictor, residuals Rice-coded

constexpr std::array<double, 19> kPow10 = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                           1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
constexpr double kMaxExact = 9007199254740992.0;  // 2^53: beyond it n is not exactly a double

}  // namespace

double decimal_value(std::int64_t n, unsigned e, bool f32) {
  const double d = static_cast<double>(n) / kPow10[e];
  return f32 ? static_cast<double>(static_cast<float>(d)) : d;
}

bool decimal_integer(double v, unsigned e, bool f32, std::int64_t& n) {
  if (!std::isfinite(v)) return false;
  if (f32 && static_cast<double>(static_cast<float>(v)) != v) return false;
  const double x = v * kPow10[e];
  if (!(std::fabs(x) < kMaxExact)) return false;
  n = std::llround(x);
  return bits_of(decimal_value(n, e, f32)) == bits_of(v);
}

double decimal_sum(std::int64_t s, unsigned e) { return static_cast<double>(s) / kPow10[e]; }

namespace {

// decimal_value over a column, bit for bit: n and 10^e are exact doubles (|n| < 2^53, e <= 18) and
// one division rounds once, whichever instruction does it. While every n is within ±2^51 the
// conversion is done by the 1.5 * 2^52 bias trick (integer add, float subtract), which SSE2 can
// do two at a time, so the loop vectorises, divisions included; otherwise one at a time.
void decimal_values(std::span<const std::uint64_t> ints, unsigned e, bool f32, std::span<double> out) {
  const double scale = kPow10[e];
  const std::size_t n = ints.size();
  std::uint64_t outside = 0;  // nonzero when some n is outside [-2^51, 2^51)
  for (std::size_t i = 0; i < n; ++i) outside |= (ints[i] + (std::uint64_t{1} << 51)) >> 52;
  if (outside == 0) {
    constexpr std::uint64_t kBias = 0x4338000000000000;  // the double 1.5 * 2^52
    for (std::size_t i = 0; i < n; ++i)
      out[i] = (std::bit_cast<double>(ints[i] + kBias) - 6755399441055744.0) / scale;
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(static_cast<std::int64_t>(ints[i])) / scale;
  }
  if (f32)
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(static_cast<float>(out[i]));
}

struct DecimalChoice {
  unsigned e = 0;
  bool f32 = false;
};

// ALP's first-level sampling, simplified: up to 32 evenly spaced values choose the domain (double,
// or float32 for values that were float32 at the source) and the exponent: the most sampled values
// reproduced exactly, then the smallest e (smaller integers), then double. A search stops at the
// first e that reproduces every sampled value, and skips an e as soon as it cannot beat the best,
// so a typical block costs a few dozen conversions instead of 19 x 32 per domain.
std::optional<DecimalChoice> choose_decimal(std::span<const double> v, bool try_f64, bool try_f32) {
  const std::size_t step = std::max<std::size_t>(1, v.size() / 32);
  const std::size_t sampled = (v.size() + step - 1) / step;
  std::size_t best_hits = 0;
  DecimalChoice best;
  auto search = [&](bool f32) {
    // (hits, e) beats the best with more hits, or as many at a smaller e.
    auto beats = [&](std::size_t hits, unsigned e) { return hits > best_hits || (hits == best_hits && e < best.e); };
    for (unsigned e = 0; e <= kMaxExponent; ++e) {
      if (!beats(sampled, e)) return;
      std::size_t hits = 0, misses = 0;
      for (std::size_t i = 0; i < v.size(); i += step) {
        std::int64_t n = 0;
        if (decimal_integer(v[i], e, f32, n)) ++hits;
        else if (!beats(sampled - ++misses, e)) break;
      }
      if (beats(hits, e) && hits > 0) {
        best_hits = hits;
        best = DecimalChoice{e, f32};
      }
      if (hits == sampled) return;
    }
  };
  if (try_f64) search(false);
  if (try_f32 && (best_hits < sampled || best.e > 0)) search(true);
  if (best_hits == 0) return std::nullopt;
  return best;
}

// Rice coding of the decimal path's deltas or residuals (flags = 3, 5): each zigzagged integer z as
// q = z >> k one-bits, a zero bit and the low k bits of z; q >= kRiceEscape is written as
// kRiceEscape one-bits and z raw in 64 bits, so a spike costs 96 bits rather than an unbounded
// unary run. Bit packing pays the widest delta's width for every sample; a random walk's or a
// quantised drift's deltas are mostly 0 or ±1, where Rice pays one to three bits.
constexpr unsigned kRiceEscape = 32;
constexpr unsigned kMaxRiceK = 62;

// A first guess at k from a histogram of the bit widths (a mean would let one spike, an escape
// anyway, push k up for every other value).
unsigned guess_rice_k(std::span<const std::uint64_t> z) {
  std::array<std::uint32_t, 65> width{};
  unsigned widest = 0;
  for (auto x : z) {
    const auto w = static_cast<unsigned>(std::bit_width(x));
    ++width[w];
    widest = std::max(widest, w);
  }
  // Only the widths present, and k up to the widest (a larger k only adds bits): the ingest
  // profile had this loop at 3 % of the CPU when it ran all 63 k over all 65 widths.
  std::array<unsigned, 65> present{};
  unsigned n_present = 0;
  for (unsigned w = 0; w <= widest; ++w)
    if (width[w] != 0) present[n_present++] = w;
  unsigned best_k = 0;
  double best = -1;
  for (unsigned k = 0; k <= std::min(widest, kMaxRiceK); ++k) {
    double cost = 0;
    for (unsigned i = 0; i < n_present; ++i) {
      const unsigned w = present[i];
      double each = k + 1;  // w <= k: quotient 0
      if (w > k) {
        // A width-w value has a quotient in [2^(w-k-1), 2^(w-k)): take the middle.
        const unsigned shift = w - k - 1;
        each = shift >= 5 ? kRiceEscape + 64 : 1.5 * static_cast<double>(1u << shift) + 1 + k;
      }
      cost += each * width[w];
    }
    if (best < 0 || cost < best) {
      best = cost;
      best_k = k;
    }
  }
  return best_k;
}

std::uint64_t rice_bits(std::span<const std::uint64_t> z, unsigned k) {
  std::uint64_t bits = 0;
  for (auto x : z) {
    const std::uint64_t q = x >> k;
    bits += q < kRiceEscape ? q + 1 + k : kRiceEscape + 64;
  }
  return bits;
}

struct RiceChoice {
  unsigned k = 0;
  std::uint64_t bits = 0;
};

// The histogram's midpoint estimate can be one off (the RW-10M vibration blocks: about 1 %): the
// exact cost of k - 1, k and k + 1 settles it.
RiceChoice choose_rice(std::span<const std::uint64_t> z) {
  const unsigned guess = guess_rice_k(z);
  RiceChoice best{guess, rice_bits(z, guess)};
  for (unsigned k : {guess - 1, guess + 1}) {
    if (k > kMaxRiceK) continue;  // guess - 1 wraps when guess = 0
    const std::uint64_t bits = rice_bits(z, k);
    if (bits < best.bits) best = RiceChoice{k, bits};
  }
  return best;
}

std::size_t rice_size(const RiceChoice& c) { return 1 + static_cast<std::size_t>((c.bits + 7) / 8); }

void put_rice(ByteWriter& w, std::span<const std::uint64_t> z, unsigned k) {
  w.u8(static_cast<std::uint8_t>(k));
  BitWriter bits(w.out());
  for (auto x : z) {
    const std::uint64_t q = x >> k;
    if (q < kRiceEscape) {
      bits.put((std::uint64_t{1} << q) - 1, static_cast<unsigned>(q) + 1);  // q ones, then a zero
      if (k > 0) bits.put(x, k);
    } else {
      bits.put((std::uint64_t{1} << kRiceEscape) - 1, kRiceEscape);
      bits.put(x, 64);
    }
  }
}

// Reads n Rice-coded zigzagged integers, handing each (unzigzagged, as a wrapping 64-bit value) to
// sink(i, value) in order; the decimal decoder folds its prefix sum or predictor into the sink, so
// the integers are written once. Fast path, while 8 bytes are readable: one unaligned load fills a
// 57-64 bit buffer and values are taken off its low end (countr_one, a mask, a shift) until the
// next one does not fit, then the buffer is refilled from the byte it reached; the chain from one
// value to the next is a few register operations, not a load. An escape, k > 24 and the stream's
// last bytes take BitReader one value at a time.
template <class Sink>
void get_rice(ByteReader& r, std::span<const std::uint8_t> block, std::size_t n, Sink&& sink) {
  const unsigned k = r.u8();
  if (!r.ok()) return;
  if (k > kMaxRiceK) {
    r.fail(fmt::format("Rice parameter {} above {}", k, kMaxRiceK));
    return;
  }
  const auto in = block.subspan(r.pos());
  const std::uint64_t mask = k == 0 ? 0 : ~std::uint64_t{0} >> (64 - k);
  std::size_t bit = 0;  // bits consumed
  std::size_t i = 0;
  while (i < n) {
    if (k <= 24 && in.size() >= 8 && bit / 8 <= in.size() - 8) {
      const unsigned skip = bit % 8;
      std::uint64_t buf = load_le64(in.data() + bit / 8) >> skip;
      unsigned avail = 64 - skip;  // >= 57
      std::size_t used = 0;
      for (;;) {
        const auto q = static_cast<unsigned>(std::countr_one(buf));
        const unsigned need = q + 1 + k;
        if (q >= kRiceEscape || need > avail) break;
        sink(i, static_cast<std::uint64_t>(unzigzag((static_cast<std::uint64_t>(q) << k) | ((buf >> (q + 1)) & mask))));
        buf >>= need;  // need <= 32 + 24 < 64
        avail -= need;
        used += need;
        if (++i == n) break;
      }
      bit += used;
      // Refill unless the buffer's first value did not fit (an escape): that one goes below.
      if (used != 0 || i == n) continue;
    }
    BitReader bits(in, bit);
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
      r.fail(fmt::format("Rice bit stream ends early at delta {} of {}", i, n));
      return;
    }
    sink(i++, static_cast<std::uint64_t>(unzigzag(z)));
    bit = bits.bit_position();
  }
  r.bytes((bit + 7) / 8);
}

// Order-2 linear prediction (FLAC's fixed-point LPC, reduced to two taps): x_i is predicted as
// ((a1 x_{i-1} + a2 x_{i-2} + 2^11) >> 12) + c in wrapping 64-bit arithmetic, so the decoder
// inverts it exactly whatever the coefficients. A sampled oscillation (vibration, AC quantities)
// obeys x_i = 2cos(w) x_{i-1} - x_{i-2} exactly, so only its noise is left to code: on RW-10M's
// vibration signals about 9 bits a sample instead of 12 for the deltas.
constexpr unsigned kPredictShift = 12;
constexpr std::int64_t kMaxPredictCoef = std::int64_t{16} << kPredictShift;

std::uint64_t predict(std::uint64_t x1, std::uint64_t x2, std::int64_t a1, std::int64_t a2, std::int64_t c) {
  const std::uint64_t acc = static_cast<std::uint64_t>(a1) * x1 + static_cast<std::uint64_t>(a2) * x2 +
                            (std::uint64_t{1} << (kPredictShift - 1));
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(acc) >> kPredictShift) + static_cast<std::uint64_t>(c);
}

struct Predictor {
  std::int64_t a1 = 0, a2 = 0, c = 0;
};

// Least squares over the block (covariance method on the mean-removed integers); nullopt when the
// system is singular or the taps are out of range.
std::optional<Predictor> fit_predictor(std::span<const std::uint64_t> ints) {
  const std::size_t n = ints.size();
  double mean = 0;
  for (auto x : ints) mean += static_cast<double>(static_cast<std::int64_t>(x));
  mean /= static_cast<double>(n);
  double r11 = 0, r22 = 0, r12 = 0, r01 = 0, r02 = 0;
  for (std::size_t i = 2; i < n; ++i) {
    const double y0 = static_cast<double>(static_cast<std::int64_t>(ints[i])) - mean;
    const double y1 = static_cast<double>(static_cast<std::int64_t>(ints[i - 1])) - mean;
    const double y2 = static_cast<double>(static_cast<std::int64_t>(ints[i - 2])) - mean;
    r11 += y1 * y1;
    r22 += y2 * y2;
    r12 += y1 * y2;
    r01 += y0 * y1;
    r02 += y0 * y2;
  }
  const double det = r11 * r22 - r12 * r12;
  if (!(det > 1e-9 * r11 * r22)) return std::nullopt;
  const double a1 = (r01 * r22 - r02 * r12) / det * (1 << kPredictShift);
  const double a2 = (r02 * r11 - r01 * r12) / det * (1 << kPredictShift);
  const auto limit = static_cast<double>(kMaxPredictCoef);
  if (!(std::fabs(a1) <= limit && std::fabs(a2) <= limit)) return std::nullopt;
  return Predictor{std::llround(a1), std::llround(a2), 0};
}

// Zigzagged residuals of ints[1..n) under `p` (the first is a plain delta); sets p.c to their mean
// so a signal's offset does not cost bits.
void predict_residuals(std::span<const std::uint64_t> ints, Predictor& p, std::vector<std::uint64_t>& z) {
  const std::size_t n = ints.size();
  z.resize(n - 1);
  z[0] = zigzag(static_cast<std::int64_t>(ints[1] - ints[0]));
  double sum = 0;
  for (std::size_t i = 2; i < n; ++i) {
    z[i - 1] = ints[i] - predict(ints[i - 1], ints[i - 2], p.a1, p.a2, 0);
    sum += static_cast<double>(static_cast<std::int64_t>(z[i - 1]));
  }
  const double mean = n > 2 ? sum / static_cast<double>(n - 2) : 0;
  p.c = std::fabs(mean) < 4e18 ? std::llround(mean) : 0;
  for (std::size_t i = 2; i < n; ++i)
    z[i - 1] = zigzag(static_cast<std::int64_t>(z[i - 1] - static_cast<std::uint64_t>(p.c)));
}

// Per-thread scratch for the decimal encoder: it runs for every chunk the flusher writes, and
// allocating four columns per chunk showed in the ingest profile.
struct DecimalScratch {
  std::vector<std::uint64_t> ints, deltas, zdelta, zpred;
  std::vector<std::uint32_t> exceptions;
};

// Appends a decimal block for `v` at `choice` and returns true, or returns false (appending
// nothing) when more than half the values would be exceptions. Picks the integer layout by
// computing each one's size, and writes only that one.
bool values_decimal(std::span<const double> v, DecimalChoice choice, std::vector<std::uint8_t>& out,
                    DecimalScale* scale) {
  if (v.empty()) return false;
  thread_local DecimalScratch s;
  const std::size_t n = v.size();
  s.ints.resize(n);
  s.exceptions.clear();
  std::int64_t prev = 0, sum = 0;
  bool sum_exact = true;
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t x = 0;
    if (decimal_integer(v[i], choice.e, choice.f32, x)) {
      prev = x;
      sum_exact = sum_exact && !__builtin_add_overflow(sum, x, &sum);
    } else {
      s.exceptions.push_back(static_cast<std::uint32_t>(i));
      sum_exact = sum_exact && std::isnan(v[i]);
      x = prev;  // keeps deltas small across an exception
    }
    s.ints[i] = static_cast<std::uint64_t>(x);
  }
  if (s.exceptions.size() > n / 2) return false;

  const std::span<const std::uint64_t> ints(s.ints);
  const ForParams plain = for_params(ints);
  std::uint8_t flags = kDecimalPlain;
  std::size_t best = for_size(plain, n);
  ForParams delta_for;
  RiceChoice delta_rice, pred_rice;
  Predictor pred;
  if (n >= 2) {
    s.deltas.resize(n - 1);
    s.zdelta.resize(n - 1);
    for (std::size_t i = 1; i < n; ++i) {
      s.deltas[i - 1] = ints[i] - ints[i - 1];
      s.zdelta[i - 1] = zigzag(static_cast<std::int64_t>(s.deltas[i - 1]));
    }
    const std::size_t first = varint_size(zigzag(static_cast<std::int64_t>(ints[0])));
    delta_for = for_params(s.deltas);
    if (first + for_size(delta_for, n - 1) < best) {
      best = first + for_size(delta_for, n - 1);
      flags = kDecimalDelta;
    }
    delta_rice = choose_rice(s.zdelta);
    if (first + rice_size(delta_rice) < best) {
      best = first + rice_size(delta_rice);
      flags = kDecimalDeltaRice;
    }
    // Prediction only pays on noisy blocks (more than 4 bits a delta); smooth ones skip the fit.
    if (n >= 8 && delta_rice.bits > 4 * (n - 1)) {
      if (auto p = fit_predictor(ints)) {
        pred = *p;
        predict_residuals(ints, pred, s.zpred);
        pred_rice = choose_rice(s.zpred);
        const std::size_t size = first + varint_size(zigzag(pred.a1)) + varint_size(zigzag(pred.a2)) +
                                 varint_size(zigzag(pred.c)) + rice_size(pred_rice);
        if (size < best) {
          best = size;
          flags = kDecimalPredictRice;
        }
      }
    }
  }

  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(choice.f32 ? ValueCodec::kFloat32Decimal : ValueCodec::kDecimal));
  w.u8(static_cast<std::uint8_t>(choice.e));
  w.u8(flags);
  w.varint(s.exceptions.size());
  std::size_t last = 0;
  for (std::size_t i : s.exceptions) {
    w.varint(i - last);
    last = i;
    w.u64(bits_of(v[i]));
  }
  switch (flags) {
    case kDecimalPlain: put_for(w, ints, plain); break;
    case kDecimalDelta:
      w.svarint(static_cast<std::int64_t>(ints[0]));
      put_for(w, s.deltas, delta_for);
      break;
    case kDecimalDeltaRice:
      w.svarint(static_cast<std::int64_t>(ints[0]));
      put_rice(w, s.zdelta, delta_rice.k);
      break;
    default:
      w.svarint(static_cast<std::int64_t>(ints[0]));
      w.svarint(pred.a1);
      w.svarint(pred.a2);
      w.svarint(pred.c);
      put_rice(w, s.zpred, pred_rice.k);
  }
  if (scale != nullptr) *scale = DecimalScale{true, choice.e, choice.f32, sum_exact, sum_exact ? sum : 0};
  return true;
}

// The scale of a constant or run-length block whose values are integers (states, set points).
DecimalScale integer_scale(std::span<const double> v) {
  DecimalScale scale{true, 0, false, true, 0};
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i + 1;
    while (j < v.size() && bits_of(v[j]) == bits_of(v[i])) ++j;
    std::int64_t x = 0, run = 0;
    if (decimal_integer(v[i], 0, false, x)) {
      scale.sum_exact = scale.sum_exact && !__builtin_mul_overflow(x, static_cast<std::int64_t>(j - i), &run) &&
                        !__builtin_add_overflow(scale.sum_mantissa, run, &scale.sum_mantissa);
    } else {
      scale.sum_exact = scale.sum_exact && std::isnan(v[i]);
    }
    i = j;
  }
  if (!scale.sum_exact) scale.sum_mantissa = 0;
  return scale;
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

void encode_timestamps(std::span<const std::int64_t> ts, std::vector<std::uint8_t>& out, std::int64_t base) {
  // A grid block without exceptions is at most 1 + 10 + 10 + 1 bytes and delta-FOR pays the same
  // first timestamp, step and a FOR header on top: keep it without building the other.
  const std::size_t at = out.size();
  if (ts_grid(ts, base, out) == 0) return;
  std::vector<std::uint8_t> b;
  ts_delta_for(ts, base, b);
  if (b.size() < out.size() - at) {
    out.resize(at);
    out.insert(out.end(), b.begin(), b.end());
  }
}

bool encode_values_with(ValueCodec codec, std::span<const double> v, std::vector<std::uint8_t>& out) {
  switch (codec) {
    case ValueCodec::kConstant: return values_constant(v, out);
    case ValueCodec::kRle: values_rle(v, out); return true;
    case ValueCodec::kDecimal:
    case ValueCodec::kFloat32Decimal: {
      const bool f32 = codec == ValueCodec::kFloat32Decimal;
      const auto choice = choose_decimal(v, !f32, f32);
      return choice && values_decimal(v, *choice, out, nullptr);
    }
    case ValueCodec::kXor: values_xor(v, out); return true;
    case ValueCodec::kRaw: values_raw(v, out); return true;
  }
  return false;
}

void encode_values_exhaustive(std::span<const double> v, std::vector<std::uint8_t>& out) {
  std::vector<std::uint8_t> best, candidate;
  values_raw(v, best);
  for (ValueCodec c : {ValueCodec::kConstant, ValueCodec::kRle, ValueCodec::kDecimal, ValueCodec::kFloat32Decimal,
                       ValueCodec::kXor}) {
    candidate.clear();
    if (encode_values_with(c, v, candidate) && candidate.size() < best.size()) std::swap(best, candidate);
  }
  out.insert(out.end(), best.begin(), best.end());
}

void encode_values(std::span<const double> v, std::vector<std::uint8_t>& out, DecimalScale* scale) {
  if (scale != nullptr) *scale = DecimalScale{};
  const std::size_t raw_size = 1 + 8 * v.size();  // the guaranteed fallback
  if (v.empty()) {
    values_raw(v, out);
    return;
  }
  // One pass sizes the run-length block (and finds a constant one) without building it.
  std::size_t runs = 0, rle_size = 1;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i + 1;
    while (j < v.size() && bits_of(v[j]) == bits_of(v[i])) ++j;
    ++runs;
    rle_size += 8 + varint_size(j - i);
    i = j;
  }
  rle_size += varint_size(runs);
  if (runs == 1) {
    values_constant(v, out);
    if (scale != nullptr) *scale = integer_scale(v);
    return;
  }
  const std::size_t at = out.size();
  std::size_t best = raw_size;
  enum class Pick { kRaw, kDecimal, kRle, kXor } pick = Pick::kRaw;
  DecimalScale decimal_scale;
  if (const auto choice = choose_decimal(v, true, true); choice && values_decimal(v, *choice, out, &decimal_scale)) {
    if (out.size() - at < best) {
      best = out.size() - at;
      pick = Pick::kDecimal;
    }
  }
  if (rle_size < best) {
    best = rle_size;
    pick = Pick::kRle;
  }
  // XOR only when a 128-value window of it suggests it could win by 10 %: for decimal data it is
  // several times larger (research note: 20 vs 4 bits a value), and building it is a full pass.
  // XOR pays at least its codec byte, the first value and one bit for each later value.
  const std::size_t xor_floor = 9 + (v.size() - 1 + 7) / 8;
  if (best > xor_floor) {
    thread_local std::vector<std::uint8_t> probe;
    probe.clear();
    const std::size_t window = std::min<std::size_t>(v.size(), 128);
    values_xor(v.first(window), probe);
    const double estimate = static_cast<double>(probe.size()) * static_cast<double>(v.size()) / static_cast<double>(window);
    if (estimate < 0.9 * static_cast<double>(best)) {
      probe.clear();
      values_xor(v, probe);
      if (probe.size() < best) {
        best = probe.size();
        pick = Pick::kXor;
      }
    }
    if (pick == Pick::kXor) {
      out.resize(at);
      out.insert(out.end(), probe.begin(), probe.end());
      return;
    }
  }
  if (pick == Pick::kDecimal) {
    if (scale != nullptr) *scale = decimal_scale;
    return;
  }
  out.resize(at);
  if (pick == Pick::kRle) {
    values_rle(v, out);
    if (scale != nullptr) *scale = integer_scale(v);
  } else {
    values_raw(v, out);
  }
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

Status decode_timestamps(std::span<const std::uint8_t> block, std::span<std::int64_t> out, std::int64_t base) {
  ByteReader r(block, "timestamp");
  const auto codec = r.u8();
  if (!r.ok()) return r.status();
  if (codec == static_cast<std::uint8_t>(TsCodec::kGrid)) {
    const auto t0 = static_cast<std::uint64_t>(r.svarint()) + static_cast<std::uint64_t>(base);
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
      out[0] = static_cast<std::int64_t>(static_cast<std::uint64_t>(r.svarint()) + static_cast<std::uint64_t>(base));
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

bool grid_timestamps(std::span<const std::uint8_t> block, std::size_t count, std::int64_t base, std::int64_t& t0,
                     std::int64_t& step) {
  ByteReader r(block, "timestamp");
  if (r.u8() != static_cast<std::uint8_t>(TsCodec::kGrid)) return false;
  t0 = static_cast<std::int64_t>(static_cast<std::uint64_t>(r.svarint()) + static_cast<std::uint64_t>(base));
  step = r.svarint();
  const std::uint64_t exceptions = r.varint();
  return r.ok() && r.remaining() == 0 && exceptions == 0 && count > 0;
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
      if (r.ok() && flags != kDecimalPlain && flags != kDecimalDelta && flags != kDecimalDeltaRice &&
          flags != kDecimalPredictRice)
        r.fail(fmt::format("unknown decimal flags {:#x}", flags));
      const std::uint64_t exceptions = r.varint();
      if (r.ok() && exceptions > out.size()) r.fail(fmt::format("{} exceptions for {} samples", exceptions, out.size()));
      // Per-thread scratch: a read decodes thousands of chunks, and two allocations each showed.
      thread_local std::vector<std::pair<std::size_t, std::uint64_t>> exc;
      thread_local std::vector<std::uint64_t> ints_scratch;
      exc.clear();
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
      ints_scratch.resize(out.size());
      const std::span<std::uint64_t> ints(ints_scratch);
      if (flags == kDecimalDelta) {
        ints[0] = static_cast<std::uint64_t>(r.svarint());
        get_for(r, ints.subspan(1));
        for (std::size_t i = 1; i < ints.size(); ++i) ints[i] += ints[i - 1];
      } else if (flags == kDecimalDeltaRice) {
        std::uint64_t x = static_cast<std::uint64_t>(r.svarint());
        ints[0] = x;
        if (r.ok()) get_rice(r, block, ints.size() - 1, [&](std::size_t i, std::uint64_t d) { ints[i + 1] = x += d; });
      } else if (flags == kDecimalPredictRice) {
        ints[0] = static_cast<std::uint64_t>(r.svarint());
        const std::int64_t a1 = r.svarint(), a2 = r.svarint(), c = r.svarint();
        if (r.ok() && (a1 < -kMaxPredictCoef || a1 > kMaxPredictCoef || a2 < -kMaxPredictCoef || a2 > kMaxPredictCoef))
          r.fail(fmt::format("predictor taps {}, {} outside ±{}", a1, a2, kMaxPredictCoef));
        // The first residual is a plain delta; from the second on, x_i = residual + prediction.
        std::uint64_t x1 = ints[0], x2 = 0;
        if (r.ok())
          get_rice(r, block, ints.size() - 1, [&](std::size_t i, std::uint64_t d) {
            const std::uint64_t x = i == 0 ? x1 + d : d + predict(x1, x2, a1, a2, c);
            ints[i + 1] = x;
            x2 = x1;
            x1 = x;
          });
      } else {
        get_for(r, ints);
      }
      if (!r.ok()) break;
      decimal_values(ints, e, f32, out);
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
