// Compaction: a partition's files (one per flush, late data, deletions) folded into one file. Reads
// are bit-identical before and after, and after a reopen; a power loss at any file-system call of a
// compaction leaves a store that opens and reads the same; the thread leaves the newest partition
// alone and the rate limit paces it.
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <limits>

#include "fault_env.h"
#include "historian/historian_impl.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::FaultInjectionEnv;
using testing::ScratchDir;

constexpr SeriesId kSeries = 4;
constexpr TimestampNs kEnd = 5000;

HistorianOptions compaction_options(const std::filesystem::path& dir) {
  HistorianOptions o;
  o.dir = dir;
  o.durability = Durability::kSync;
  o.group_commit_interval_us = 100;
  o.chunk_samples = 16;
  o.partition_ns = 1000;                  // five partitions
  o.chunk_flush_interval_ms = 3'600'000;  // flushes only when the test asks
  o.compaction_interval_ms = 0;           // compact() only when the test asks
  o.compaction_bytes_per_s = 0;
  return o;
}

double value_for(SeriesId s, TimestampNs ts, int round) {
  if (ts % 97 == 0) return std::numeric_limits<double>::quiet_NaN();
  if (ts % 89 == 0) return -0.0;
  return double(s) * 1000 + double(ts) * 0.5 + round;
}

// Live data in order with a flush every few batches (several files per partition), then late data
// into old partitions, some of it rewriting stored samples, and a deleted series.
void fill(HistorianImpl& h) {
  int batch = 0;
  for (TimestampNs t0 = 0; t0 < kEnd; t0 += 50) {
    SampleBatch b;
    for (SeriesId s = 1; s <= kSeries; ++s)
      for (TimestampNs ts = t0; ts < t0 + 50; ts += 5)
        b.samples.push_back(Sample{s, ts, value_for(s, ts, 0), Quality{ts % 7 == 0 ? Quality::kBad : Quality::kGood}});
    ASSERT_TRUE(testing::submit_and_wait(h, std::move(b)));
    if (++batch % 7 == 0) ASSERT_TRUE(h.flush_chunks(false));
  }
  for (int round = 1; round <= 3; ++round) {
    SampleBatch late;
    for (SeriesId s = 1; s <= kSeries; ++s)
      for (TimestampNs ts = 1000 * round + 3; ts < 1000 * round + 400; ts += 10)  // new and rewritten
        late.samples.push_back(Sample{s, ts - (ts % 20 == 3 ? 3 : 0), value_for(s, ts, round), Quality{}});
    ASSERT_TRUE(testing::submit_and_wait(h, std::move(late)));
    ASSERT_TRUE(h.flush_chunks(true));
  }
  ASSERT_TRUE(h.delete_series(3));
  ASSERT_TRUE(testing::submit_and_wait(h, testing::make_batch(3, 2500, 10, 77)));  // after the delete
  ASSERT_TRUE(h.flush_chunks(true));
}

// Everything a reader can ask, as bit patterns.
struct Snapshot {
  std::vector<std::tuple<SeriesId, TimestampNs, std::uint64_t, std::uint32_t>> samples;
  std::vector<std::tuple<SeriesId, TimestampNs, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                         std::uint64_t, std::uint64_t, std::uint64_t>>
      buckets;
  std::vector<std::tuple<SeriesId, TimestampNs, std::uint64_t>> latest;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const Historian& h) {
  Snapshot out;
  auto bits = [](double d) { return std::bit_cast<std::uint64_t>(d); };
  for (SeriesId s = 1; s <= kSeries; ++s) {
    for (const Sample& x : h.range(s, -1, kEnd + 1, 1 << 20))
      out.samples.emplace_back(s, x.ts_ns, bits(x.value), x.quality.code);
    for (std::int64_t step : {100, 1000})
      for (const auto& b : h.aggregate(s, 0, kEnd, step))
        out.buckets.emplace_back(s, b.start, b.count, b.value_count, bits(b.min), bits(b.max), bits(b.sum),
                                 bits(b.first), bits(b.last));
    if (auto l = h.latest(s)) out.latest.emplace_back(s, l->ts_ns, bits(l->value));
  }
  return out;
}

std::size_t max_files_per_partition(const std::filesystem::path& chunks) {
  std::map<std::string, std::size_t> n;
  for (const auto& e : std::filesystem::directory_iterator(chunks)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".chunk")) ++n[name.substr(0, name.rfind('_'))];
  }
  std::size_t most = 0;
  for (const auto& [p, k] : n) most = std::max(most, k);
  return most;
}

TEST(HistorianCompaction, ReadsAreIdenticalBeforeAndAfterAndAfterReopen) {
  ScratchDir dir;
  Snapshot before;
  {
    auto h = HistorianImpl::open(compaction_options(dir.path()), posix_env());
    ASSERT_TRUE(h) << h.error().to_string();
    fill(**h);
    before = snapshot(**h);
    ASSERT_GT(before.samples.size(), 3000u);
    ASSERT_GT(max_files_per_partition(dir.path() / "chunks"), 3u);
    auto r = (*h)->compact(/*include_newest=*/true);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->partitions, 5u);
    EXPECT_EQ(r->abandoned, 0u);
    EXPECT_LT(r->bytes_out, r->bytes_in);
    EXPECT_EQ(max_files_per_partition(dir.path() / "chunks"), 1u);
    EXPECT_TRUE(snapshot(**h) == before) << "reads changed by compaction";
    EXPECT_EQ((*h)->stats().compactions, 5u);
    // Nothing left to fold: a second pass does nothing.
    auto again = (*h)->compact(true);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->partitions, 0u);
  }
  auto h = HistorianImpl::open(compaction_options(dir.path()), posix_env());
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_TRUE(snapshot(**h) == before) << "reads changed after reopening the compacted store";
  // The deleted series' old samples stay gone although the compacted files are numbered above
  // its tombstone: compaction left them out.
  EXPECT_EQ((*h)->range(3, 0, 2500, 1000).size(), 0u);
  EXPECT_EQ((*h)->range(3, 2500, 2510, 1000).size(), 10u);
}

TEST(HistorianCompaction, ThreadLeavesTheNewestPartitionAndPaces) {
  ScratchDir dir;
  HistorianOptions o = compaction_options(dir.path());
  auto h = HistorianImpl::open(o, posix_env());
  ASSERT_TRUE(h);
  fill(**h);
  const Snapshot before = snapshot(**h);
  // Paced to 64 KiB/s, the pass takes at least the time its bytes need at that rate.
  HistorianOptions slow = o;
  slow.compaction_bytes_per_s = 64 << 10;
  h->reset();
  auto paced = HistorianImpl::open(slow, posix_env());
  ASSERT_TRUE(paced);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = (*paced)->compact(/*include_newest=*/false);
  const double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->partitions, 4u) << "the newest partition [4000, 5000) is left alone";
  EXPECT_GE(took_s, 0.9 * double(r->bytes_out) / double(slow.compaction_bytes_per_s));
  EXPECT_TRUE(snapshot(**paced) == before);
  paced->reset();

  // The background thread does the same on its own.
  HistorianOptions threaded = o;
  threaded.compaction_interval_ms = 20;
  auto t = HistorianImpl::open(threaded, posix_env());
  ASSERT_TRUE(t);
  SampleBatch late;
  for (TimestampNs ts = 1001; ts < 1100; ts += 10) late.samples.push_back(Sample{1, ts, 1.5, Quality{}});
  ASSERT_TRUE(testing::submit_and_wait(**t, std::move(late)));
  ASSERT_TRUE((*t)->flush_chunks(true));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*t)->stats().compactions == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE((*t)->stats().compactions, 1u);
  EXPECT_EQ((*t)->range(1, 1001, 1002, 10).at(0).value, 1.5);
}

// A closing store stops a paced compaction at once instead of finishing it.
TEST(HistorianCompaction, CloseInterruptsAPacedCompaction) {
  ScratchDir dir;
  {
    auto h = HistorianImpl::open(compaction_options(dir.path()), posix_env());
    ASSERT_TRUE(h);
    fill(**h);
  }
  HistorianOptions o = compaction_options(dir.path());
  o.compaction_bytes_per_s = 1024;  // minutes for this store
  o.compaction_interval_ms = 1;
  const auto t0 = std::chrono::steady_clock::now();
  {
    auto h = HistorianImpl::open(o, posix_env());
    ASSERT_TRUE(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  auto h = HistorianImpl::open(compaction_options(dir.path()), posix_env());
  ASSERT_TRUE(h);
  EXPECT_GT(max_files_per_partition(dir.path() / "chunks"), 1u);
}

// Power loss at every mutating file-system call of a compaction, in both loss modes: the store
// opens, reads what it read before, and a later compaction finishes the job.
TEST(HistorianCompaction, PowerLossAtEveryCallLeavesTheStoreReadableAndComplete) {
  ScratchDir base;
  Snapshot before;
  {
    auto h = HistorianImpl::open(compaction_options(base.path() / "seed"), posix_env());
    ASSERT_TRUE(h);
    fill(**h);
    h->reset();
    auto again = HistorianImpl::open(compaction_options(base.path() / "seed"), posix_env());
    ASSERT_TRUE(again);
    before = snapshot(**again);
  }
  auto fresh_copy = [&](const std::filesystem::path& to) {
    std::filesystem::remove_all(to);
    std::filesystem::copy(base.path() / "seed", to, std::filesystem::copy_options::recursive);
  };
  // Calibrate: the mutating calls of one whole compaction.
  std::uint64_t calls = 0;
  {
    fresh_copy(base.path() / "calibrate");
    FaultInjectionEnv env;
    auto h = HistorianImpl::open(compaction_options(base.path() / "calibrate"), env);
    ASSERT_TRUE(h);
    const std::uint64_t start = env.mutating_calls();
    ASSERT_TRUE((*h)->compact(true));
    calls = env.mutating_calls() - start;
  }
  ASSERT_GT(calls, 10u);
  for (std::uint64_t n = 1; n <= calls; ++n) {
    for (auto mode : {FaultInjectionEnv::LossMode::kDropUnsynced, FaultInjectionEnv::LossMode::kKeepRandomPrefix}) {
      const auto trial = base.path() / "trial";
      fresh_copy(trial);
      FaultInjectionEnv env;
      const std::string what = "power loss at call " + std::to_string(n) + " of " + std::to_string(calls);
      {
        auto h = HistorianImpl::open(compaction_options(trial), env);
        ASSERT_TRUE(h) << what;
        env.arm_crash_after(n);
        (void)(*h)->compact(true);  // fails somewhere
      }
      const std::string undone = env.simulate_power_loss(mode, static_cast<std::uint32_t>(n));
      auto h = HistorianImpl::open(compaction_options(trial), env);
      ASSERT_TRUE(h) << what << ": reopen failed: " << h.error().to_string();
      ASSERT_TRUE(snapshot(**h) == before) << what << " [" << undone << "]";
      auto r = (*h)->compact(true);
      ASSERT_TRUE(r) << what << ": " << r.error().to_string();
      EXPECT_EQ(max_files_per_partition(trial / "chunks"), 1u) << what;
      ASSERT_TRUE(snapshot(**h) == before) << what << " after the second compaction";
    }
  }
}

}  // namespace
}  // namespace resonance::historian
