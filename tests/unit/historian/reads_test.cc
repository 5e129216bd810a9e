// Query helpers: folding a chunk's columns straight into buckets must give exactly what folding
// its samples one by one gives (the engine uses the first for a chunk no other source overlaps);
// aggregate_chunk (timestamps and values only) what decode_chunk plus the fold gives; a chunk's
// header statistics what decoding it gives.
#include "historian/reads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "historian/chunk_format.h"
#include "historian/codec.h"
#include "frame_rule.h"

namespace resonance::historian {
namespace {

void expect_same(const std::vector<AggregateBucket>& a, const std::vector<AggregateBucket>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].count, b[i].count);
    EXPECT_EQ(a[i].value_count, b[i].value_count);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].first), std::bit_cast<std::uint64_t>(b[i].first));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].last), std::bit_cast<std::uint64_t>(b[i].last));
    if (a[i].value_count == 0) continue;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].min), std::bit_cast<std::uint64_t>(b[i].min));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].max), std::bit_cast<std::uint64_t>(b[i].max));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a[i].sum), std::bit_cast<std::uint64_t>(b[i].sum));
  }
}

TEST(HistorianReads, ColumnsFoldLikeSamplesWithNaNSignedZeroAndBucketEdges) {
  std::mt19937_64 rng(11);
  std::vector<TimestampNs> ts;
  std::vector<double> values;
  std::vector<Sample> samples;
  TimestampNs t = 995;
  for (int i = 0; i < 3000; ++i) {
    t += 1 + static_cast<TimestampNs>(rng() % 7);
    double v = static_cast<double>(rng() % 1000) / 10.0 - 50.0;
    if (i % 97 == 0) v = std::numeric_limits<double>::quiet_NaN();
    if (i % 89 == 0) v = -0.0;
    if (i % 83 == 0) v = 0.0;
    if (i >= 2000 && i < 2100)
      v = std::numeric_limits<double>::quiet_NaN();  // a bucket of NaN only
    ts.push_back(t);
    values.push_back(v);
    samples.push_back(Sample{1, t, v, {}});
  }
  for (const auto [from, to, step] :
       {std::tuple<TimestampNs, TimestampNs, std::int64_t>{1000, 20000, 100},
        {0, 100000, 1},
        {1500, 9000, 333},
        {ts.back(), ts.back() + 1, 1000},
        {-5, std::numeric_limits<TimestampNs>::max(), 1'000'000'000}}) {
    SCOPED_TRACE(::testing::Message() << from << ".." << to << " step " << step);
    std::vector<AggregateBucket> by_columns, by_samples;
    aggregate_columns(ts, values, from, to, step, by_columns);
    aggregate_samples(samples, from, to, step, by_samples);
    ASSERT_FALSE(by_samples.empty());
    expect_same(by_columns, by_samples);
  }
}

// Chunks of the kinds the encoder treats differently: decimal readings, true doubles, a state, NaN
// and signed zeros, on the 100 Hz grid and off it.
struct TestChunk {
  std::vector<TimestampNs> ts;
  std::vector<double> values;
  std::vector<std::uint32_t> quality;
};

std::vector<TestChunk> test_chunks() {
  std::mt19937_64 rng(17);
  std::vector<TestChunk> out;
  for (int kind = 0; kind < 6; ++kind) {
    TestChunk c;
    TimestampNs t = 1'795'255'200'000'000'000 + kind * 1'000'000;
    double walk = 20.0;
    for (int i = 0; i < 1024; ++i) {
      t += kind == 3 ? 1 + static_cast<TimestampNs>(rng() % 20'000'000) : 10'000'000;
      walk += static_cast<double>(static_cast<int>(rng() % 21) - 10) / 10.0;
      double v = 0;
      switch (kind) {
        case 0: v = std::round(walk * 10.0) / 10.0; break;                 // 0.1 resolution
        case 1: v = std::bit_cast<double>(rng() >> 2); break;              // true doubles
        case 2: v = (i / 100) % 2; break;                                  // on/off state
        case 3: v = static_cast<double>(static_cast<float>(walk)); break;  // float32, irregular
        case 4: v = i % 7 == 0 ? std::numeric_limits<double>::quiet_NaN() : 0.1 * i; break;
        default: v = i % 2 ? -0.0 : 0.0; break;
      }
      c.ts.push_back(t);
      c.values.push_back(v);
      c.quality.push_back(0);
    }
    out.push_back(std::move(c));
  }
  return out;
}

TEST(HistorianReads, AggregateChunkFoldsLikeDecodeChunk) {
  for (const TestChunk& c : test_chunks()) {
    std::vector<std::uint8_t> bytes;
    encode_chunk(1, c.ts, c.values, c.quality, bytes);
    auto view = parse_chunk(bytes);
    ASSERT_TRUE(view.has_value()) << view.error().to_string();
    ChunkColumns decoded, scratch;
    ASSERT_TRUE(decode_chunk(*view, decoded).is_ok());
    for (const auto [from, to, step] :
         {std::tuple<TimestampNs, TimestampNs, std::int64_t>{c.ts.front(), c.ts.back() + 1,
                                                             10'000'000'000},
          {c.ts.front() - 3'000'000'000, c.ts.back(), 1'000'000'000},
          {c.ts[100], c.ts[900], 77'777'777},
          {0, std::numeric_limits<TimestampNs>::max(), 10'000'000'000}}) {
      std::vector<AggregateBucket> by_chunk, by_decode;
      ASSERT_TRUE(aggregate_chunk(*view, from, to, step, scratch, by_chunk).is_ok());
      aggregate_columns(decoded.ts, decoded.values, from, to, step, by_decode);
      ASSERT_FALSE(by_decode.empty());
      expect_same(by_chunk, by_decode);
    }
  }
}

// aggregate_grid (what aggregate_chunk uses for a regular timestamp block) finds the same bucket
// slices by division as aggregate_columns finds by binary search over the timestamps: windows
// starting and ending before, inside and after the grid, on and between grid points, buckets
// smaller and larger than the grid step, negative times.
TEST(HistorianReads, GridFoldsLikeColumns) {
  std::mt19937_64 rng(23);
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t n = 1 + rng() % 300;
    const std::int64_t ts_step = 1 + static_cast<std::int64_t>(rng() % 5000);
    const TimestampNs t0 = static_cast<TimestampNs>(rng() % 2'000'000) - 1'000'000;
    std::vector<TimestampNs> ts(n);
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) {
      ts[i] = t0 + ts_step * static_cast<std::int64_t>(i);
      values[i] = rng() % 9 == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(rng() % 1000) / 10;
    }
    const TimestampNs span = ts_step * static_cast<std::int64_t>(n);
    const TimestampNs from = t0 - span / 4 + static_cast<TimestampNs>(rng() % static_cast<std::uint64_t>(span));
    const TimestampNs to = from + 1 + static_cast<TimestampNs>(rng() % static_cast<std::uint64_t>(span));
    const std::int64_t step = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(4 * ts_step + 1));
    SCOPED_TRACE(::testing::Message() << "trial " << trial << ": " << from << ".." << to << " step " << step);
    std::vector<AggregateBucket> by_grid, by_columns;
    aggregate_grid(t0, ts_step, values, from, to, step, by_grid);
    aggregate_columns(ts, values, from, to, step, by_columns);
    expect_same(by_grid, by_columns);
  }
}

TEST(HistorianReads, AggregateChunkRefusesTimestampsThatDoNotAscend) {
  const TestChunk c = test_chunks().front();
  std::vector<std::uint8_t> bytes;
  encode_chunk(1, c.ts, c.values, c.quality, bytes);
  auto view = parse_chunk(bytes);
  ASSERT_TRUE(view.has_value());
  std::vector<TimestampNs> backwards(c.ts.rbegin(), c.ts.rend());
  std::vector<std::uint8_t> block;
  codec::encode_timestamps(backwards, block);
  ChunkView bad = *view;
  bad.ts_block = block;
  bad.ts_base = 0;
  ChunkColumns scratch;
  std::vector<AggregateBucket> out;
  const Status s = aggregate_chunk(bad, 0, std::numeric_limits<TimestampNs>::max(), 10'000'000'000,
                                   scratch, out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("timestamp 1 not above its predecessor"), std::string::npos)
      << s.to_string();
  EXPECT_TRUE(out.empty());
}

// A chunk inside one bucket is answered from its header (HistorianImpl::aggregate): the same
// bucket as decoding it and folding its columns. Returns the two buckets per chunk kind.
std::vector<std::pair<AggregateBucket, AggregateBucket>> summary_and_decoded() {
  std::vector<std::pair<AggregateBucket, AggregateBucket>> out;
  for (const TestChunk& c : test_chunks()) {
    std::vector<std::uint8_t> bytes;
    encode_chunk(1, c.ts, c.values, c.quality, bytes);
    auto view = parse_chunk(bytes);
    EXPECT_TRUE(view.has_value()) << view.error().to_string();
    ChunkColumns decoded;
    EXPECT_TRUE(view && decode_chunk(*view, decoded).is_ok());
    const TimestampNs from = c.ts.front() - 5, step = c.ts.back() - c.ts.front() + 100;
    std::vector<AggregateBucket> by_decode;
    aggregate_columns(decoded.ts, decoded.values, from, from + 3 * step, step, by_decode);
    EXPECT_EQ(by_decode.size(), 1u);
    if (view && by_decode.size() == 1)
      out.emplace_back(chunk_summary(view->header, from), by_decode.front());
  }
  return out;
}

TEST(HistorianReads, ChunkStatisticsGiveWhatDecodingGives) {
  const auto buckets = summary_and_decoded();
  ASSERT_EQ(buckets.size(), 6u);
  for (std::size_t kind = 0; kind < buckets.size(); ++kind) {
    SCOPED_TRACE(::testing::Message() << "chunk kind " << kind);
    auto [summary, decoded] = buckets[kind];
    expect_same({summary}, {decoded});  // the sum too: both are the in-order double sum
  }
}

// A bucket's sum must not depend on whether a chunk was answered from its header or decoded.
// Format 2 first stored a decimal chunk's sum as sum(n_i) / 10^e, which differed from decoding's
// in-order sum in the last bits for doubles and by more for float32 values (30430.9 against
// 30430.90002632141); the header now holds the in-order sum (docs/formats/chunk.md).
TEST(HistorianReads, ChunkSumGivesWhatDecodingGives) {
  const auto buckets = summary_and_decoded();
  for (std::size_t kind = 0; kind < buckets.size(); ++kind) {
    SCOPED_TRACE(::testing::Message() << "chunk kind " << kind);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(buckets[kind].first.sum),
              std::bit_cast<std::uint64_t>(buckets[kind].second.sum))
        << buckets[kind].first.sum << " from the header, " << buckets[kind].second.sum
        << " decoded";
  }
}

// A store of fixed samples (sorted by time per series), for Historian::frame.
class FixedHistorian final : public Historian {
 public:
  std::map<SeriesId, std::vector<Sample>> data;
  Admission submit(SampleBatch&&, DurableCallback) override { return Admission::kRejected; }
  std::optional<Sample> latest(SeriesId) const override { return std::nullopt; }
  std::vector<Sample> range(SeriesId series, TimestampNs from, TimestampNs to, std::size_t limit) const override {
    std::vector<Sample> out;
    for (const Sample& s : data.at(series))
      if (s.ts_ns >= from && s.ts_ns < to && out.size() < limit) out.push_back(s);
    return out;
  }
  HistorianStats stats() const override { return {}; }
  void close() override {}
};

using testing::reference_cell;

// A frame large enough to be split over two threads (13 series) holds, cell for cell, what the plainly written rule gives: locf and linear, gaps, bad quality and NaN, samples off the grid.
TEST(HistorianReads, LargeFrameIsWhatThePlainRuleGives) {
  std::mt19937_64 rng(31);
  FixedHistorian h;
  FrameRequest req;
  req.from_ns = 1'000'000;
  req.step_ns = 10'000;
  req.to_ns = req.from_ns + 20'011 * req.step_ns;
  for (SeriesId id = 1; id <= 13; ++id) {
    req.series.push_back(id);
    auto& samples = h.data[id];
    for (TimestampNs t = req.from_ns - 50'000; t < req.to_ns + 50'000;) {
      const std::uint32_t q = rng() % 50 == 0 ? 0x80000000u : 0;  // now and then bad
      samples.push_back(Sample{id, t, rng() % 40 == 0 ? std::numeric_limits<double>::quiet_NaN()
                                                       : static_cast<double>(rng() % 1000), Quality{q}});
      t += rng() % 30 == 0 ? 100'000 : static_cast<TimestampNs>(1 + rng() % 15'000);
    }
  }
  for (const FrameFill fill : {FrameFill::kLocf, FrameFill::kLinear}) {
    req.fill = fill;
    req.max_staleness_ns = 25'000;
    const Frame f = h.frame(req);
    ASSERT_EQ(f.grid.size(), 20'011u);
    ASSERT_GE(f.grid.size() * f.columns, 200'000u) << "too small for the two-thread path";
    std::size_t valid = 0;
    for (std::size_t row = 0; row < f.grid.size(); ++row)
      for (std::size_t c = 0; c < f.columns; ++c) {
        const std::size_t k = row * f.columns + c;
        const auto [ok, v] = reference_cell(h.data.at(req.series[c]), f.grid[row], req);
        ASSERT_EQ(f.valid[k] != 0, ok) << "row " << row << " column " << c;
        if (ok) ASSERT_EQ(f.values[k], v) << "row " << row << " column " << c;
        valid += f.valid[k];
      }
    EXPECT_GT(valid, f.values.size() / 2);
    EXPECT_LT(valid, f.values.size());
  }
}

}  // namespace
}  // namespace resonance::historian
