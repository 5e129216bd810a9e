// Simulated power loss at many points of a real workload (group commits, segment rotation, chunk
// flushes, checkpoints, WAL deletion, a series deletion), through FaultInjectionEnv: after each,
// every acknowledged sample is back bit for bit, every sample that is back is one that was
// submitted, and no sample of an acknowledged delete comes back.
//
// The default run crashes at RESONANCE_FAULT_CRASH_POINTS points (default 10) spread over the
// workload; the ctest `historian_fault_crash_slow` (label slow) sets it to 0 = every point.

#include <gtest/gtest.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "fault_env.h"
#include "historian/historian_impl.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using testing::FaultInjectionEnv;
using testing::ScratchDir;

constexpr int kBatches = 60;
constexpr int kSeries = 4;
constexpr int kPerBatch = 5;
constexpr int kDeleteAt = 29;  // after this batch (all acked by then) the workload deletes a series
constexpr SeriesId kDeletedSeries = 4;

HistorianOptions crash_options(const std::filesystem::path& dir) {
  HistorianOptions o;
  o.dir = dir;
  o.durability = Durability::kSync;  // the mode whose promise is under test
  o.group_commit_interval_us = 100;
  o.wal_segment_bytes = 4096;             // rotation every few commits
  o.chunk_samples = 16;                   // sealing every few batches
  o.partition_ns = 1000;                  // a new partition every 100 samples of a series
  o.chunk_flush_interval_ms = 3'600'000;  // chunk flushes only when the workload asks
  return o;
}

// What the workload submitted and what it was told is durable.
struct Oracle {
  std::mutex mu;
  std::map<std::pair<SeriesId, TimestampNs>, std::uint64_t> submitted;  // -> value bits
  std::vector<Sample> acked;
  std::set<std::pair<SeriesId, TimestampNs>>
      must_be_gone;  // deleted by an acknowledged delete_series
};

SampleBatch batch_for(int i) {
  SampleBatch b;
  b.provenance.connector = "fault";
  b.provenance.client_id = "crash-loop";
  const auto series = static_cast<SeriesId>(1 + i % kSeries);
  const int round = i / kSeries;
  for (int j = 0; j < kPerBatch; ++j) {
    // Mostly ascending; every third round goes back in time inside the open buffer or an older,
    // already sealed range, so recovery sees overlapping sources too.
    TimestampNs ts = (round * kPerBatch + j) * 10;
    if (round % 3 == 2) ts -= 95;
    b.samples.push_back(Sample{series, ts, i * 1000.0 + j + 0.25, Quality{Quality::kGood}});
  }
  return b;
}

// Deletes kDeletedSeries with nothing in flight. Acknowledged: its earlier samples must never come
// back. Failed (the crash struck): they may or may not, so they are no longer required either.
void delete_series(HistorianImpl& h, Oracle& oracle) {
  const Status s = h.delete_series(kDeletedSeries);
  std::lock_guard lock(oracle.mu);
  if (s.is_ok())
    for (const auto& [key, bits] : oracle.submitted)
      if (key.first == kDeletedSeries) oracle.must_be_gone.insert(key);
  std::erase_if(oracle.acked, [](const Sample& x) { return x.series == kDeletedSeries; });
}

// Runs the workload until it ends or the Env crashes. Returns how many mutating calls it made.
std::uint64_t run_workload(HistorianImpl& h, FaultInjectionEnv& env, Oracle& oracle) {
  std::vector<std::future<void>> inflight;
  const std::uint64_t start = env.mutating_calls();
  for (int i = 0; i < kBatches && !env.crashed(); ++i) {
    SampleBatch b = batch_for(i);
    const std::vector<Sample> samples = b.samples;
    {
      std::lock_guard lock(oracle.mu);
      for (const auto& s : samples)
        oracle.submitted[{s.series, s.ts_ns}] = std::bit_cast<std::uint64_t>(s.value);
    }
    auto done = std::make_shared<std::promise<void>>();
    inflight.push_back(done->get_future());
    const Admission a = h.submit(std::move(b), [&oracle, samples, done](const Status& s) {
      if (s.is_ok()) {
        std::lock_guard lock(oracle.mu);
        oracle.acked.insert(oracle.acked.end(), samples.begin(), samples.end());
      }
      done->set_value();
    });
    if (a != Admission::kAccepted) {
      inflight.pop_back();
      break;
    }
    if (i % 3 == 2) {  // a few batches share a group commit, then wait
      for (auto& f : inflight) f.wait();
      inflight.clear();
    }
    if (i % 10 == 9) (void)h.flush_chunks(i % 20 == 19);
    if (i == kDeleteAt) delete_series(h, oracle);
  }
  for (auto& f : inflight) f.wait();
  return env.mutating_calls() - start;
}

// The workload never repeats a (series, ts), so each present sample must carry exactly the value
// submitted for it, and each acked one must be present.
void check_store(HistorianImpl& h, Oracle& oracle, const std::string& what) {
  std::map<std::pair<SeriesId, TimestampNs>, std::uint64_t> present;
  for (SeriesId s = 1; s <= kSeries; ++s)
    for (const Sample& x : h.range(s, -1'000'000, 1'000'000, 1 << 20))
      present[{x.series, x.ts_ns}] = std::bit_cast<std::uint64_t>(x.value);
  std::lock_guard lock(oracle.mu);
  std::size_t missing = 0;
  for (const Sample& a : oracle.acked) {
    const auto it = present.find({a.series, a.ts_ns});
    if (it == present.end()) {
      if (++missing <= 5)
        ADD_FAILURE() << what << ": acked sample lost: series " << a.series << " ts " << a.ts_ns;
      continue;
    }
    EXPECT_EQ(it->second, std::bit_cast<std::uint64_t>(a.value))
        << what << ": series " << a.series << " ts " << a.ts_ns;
  }
  EXPECT_EQ(missing, 0u) << what;
  for (const auto& key : oracle.must_be_gone)
    EXPECT_FALSE(present.contains(key)) << what << ": deleted sample of series " << key.first
                                        << " at ts " << key.second << " came back";
  for (const auto& [key, bits] : present) {
    const auto it = oracle.submitted.find(key);
    ASSERT_NE(it, oracle.submitted.end())
        << what << ": series " << key.first << " ts " << key.second << " was never submitted";
    EXPECT_EQ(bits, it->second) << what << ": series " << key.first << " ts " << key.second
                                << " holds a value that was never submitted";
  }
}

std::uint64_t crash_points_from_env() {
  const char* v = std::getenv("RESONANCE_FAULT_CRASH_POINTS");
  return v == nullptr ? 10 : std::strtoull(v, nullptr, 10);
}

TEST(HistorianFaultCrash, AcknowledgedSamplesSurvivePowerLossAtEveryPoint) {
  // Calibrate: how many mutating file-system calls the uncrashed workload makes.
  std::uint64_t total = 0;
  {
    ScratchDir dir;
    FaultInjectionEnv env;
    auto h = HistorianImpl::open(crash_options(dir.path()), env);
    ASSERT_TRUE(h) << h.error().to_string();
    Oracle oracle;
    total = run_workload(**h, env, oracle);
    // Every batch acked; the deleted series' first kDeleteAt/kSeries batches no longer count.
    EXPECT_EQ(oracle.acked.size(), std::size_t{kBatches - (kDeleteAt + 1) / kSeries} * kPerBatch);
    EXPECT_FALSE(oracle.must_be_gone.empty());
  }
  ASSERT_GT(total, 50u);
  const std::uint64_t wanted = crash_points_from_env();
  // Default: `wanted` points spread over the workload, alternating loss modes. 0: every point,
  // each in both modes.
  const bool every = wanted == 0 || wanted >= total;
  const std::uint64_t trials = every ? 2 * total : wanted;
  std::uint64_t trials_with_loss = 0;
  for (std::uint64_t p = 0; p < trials; ++p) {
    const std::uint64_t crash_at = every ? 1 + p / 2 : 1 + p * total / trials;
    const auto mode = p % 2 == 0 ? FaultInjectionEnv::LossMode::kDropUnsynced
                                 : FaultInjectionEnv::LossMode::kKeepRandomPrefix;
    const std::string what = "crash at call " + std::to_string(crash_at) + " of " +
                             std::to_string(total) +
                             (p % 2 == 0 ? " (drop unsynced)" : " (keep a random prefix)");
    ScratchDir dir;
    FaultInjectionEnv env;
    Oracle oracle;
    {
      auto h = HistorianImpl::open(crash_options(dir.path()), env);
      ASSERT_TRUE(h) << h.error().to_string();
      env.arm_crash_after(crash_at);
      run_workload(**h, env, oracle);
    }  // the historian goes down with the machine: close() finds every write failing
    const std::string undone = env.simulate_power_loss(mode, static_cast<std::uint32_t>(p + 1));
    trials_with_loss += !undone.empty();
    auto h = HistorianImpl::open(crash_options(dir.path()), env);
    ASSERT_TRUE(h) << what << ": reopen failed: " << h.error().to_string() << "; " << undone;
    check_store(**h, oracle, what + " [" + undone + "]");
    // The recovered store takes writes again, and a clean reopen sees the same data.
    ASSERT_TRUE(testing::submit_and_wait(**h, testing::make_batch(9, 0, 3))) << what;
    h->reset();
    auto again = HistorianImpl::open(crash_options(dir.path()), env);
    ASSERT_TRUE(again) << what << ": second reopen failed: " << again.error().to_string();
    check_store(**again, oracle, what + " (second reopen)");
    EXPECT_EQ((*again)->range(9, 0, 10, 10).size(), 3u) << what;
    if (::testing::Test::HasFailure()) break;  // one failing point says enough
  }
  // The loop must have exercised real losses, not only crashes after everything was synced.
  EXPECT_GT(trials_with_loss, 0u);
  std::printf(
      "%llu power-loss trials over %llu mutating calls, %llu of them undid unsynced state\n",
      static_cast<unsigned long long>(trials), static_cast<unsigned long long>(total),
      static_cast<unsigned long long>(trials_with_loss));
}

}  // namespace
}  // namespace resonance::historian
