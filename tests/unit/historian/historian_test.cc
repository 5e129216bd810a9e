// The historian through its public contract: admission, group commit, callbacks, queries.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <mutex>

#include "historian/historian_impl.h"
#include "test_util.h"

namespace resonance::historian {
namespace {

using namespace std::chrono_literals;
using testing::bit_equal;
using testing::CountingEnv;
using testing::fast_options;
using testing::make_batch;
using testing::ScratchDir;
using testing::submit_and_wait;

std::unique_ptr<Historian> open_ok(const HistorianOptions& o) {
  auto h = resonance::open_historian(o);
  EXPECT_TRUE(h) << h.error().to_string();
  return h ? std::move(*h) : nullptr;
}

TEST(Historian, RoundTripThroughQueries) {
  ScratchDir dir;
  auto h = open_ok(fast_options(dir.path()));
  ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 1000, 10, 0.5)));
  ASSERT_TRUE(submit_and_wait(*h, make_batch(2, 1000, 3, 7.0)));
  EXPECT_EQ(h->latest(1)->ts_ns, 1009);
  EXPECT_EQ(h->latest(1)->value, 9.5);
  EXPECT_EQ(h->range(1, 1002, 1005, 100).size(), 3u);
  EXPECT_EQ(h->range(2, 0, 5000, 100).size(), 3u);
  const auto st = h->stats();
  EXPECT_EQ(st.batches_appended, 2u);
  EXPECT_EQ(st.samples_appended, 13u);
  EXPECT_EQ(st.head_samples, 13u);
  EXPECT_EQ(st.series, 2u);
  EXPECT_GE(st.group_commits, 1u);
  EXPECT_GT(st.bytes_synced, 0u);
  EXPECT_FALSE(st.read_only);
}

TEST(Historian, NanPayloadAndNegativeZeroSurviveReopen) {
  ScratchDir dir;
  const double nan_payload = std::bit_cast<double>(std::uint64_t{0x7FF4'0000'0000'1234});  // signalling NaN
  const double neg_nan = std::bit_cast<double>(std::uint64_t{0xFFF8'0000'0000'00AB});
  SampleBatch b = make_batch(5, 100, 3);
  b.samples[0].value = nan_payload;
  b.samples[1].value = -0.0;
  b.samples[2].value = neg_nan;
  const SampleBatch expect = b;
  {
    auto h = open_ok(fast_options(dir.path()));
    ASSERT_TRUE(submit_and_wait(*h, std::move(b)));
    const auto live = h->range(5, 0, 1000, 10);
    ASSERT_EQ(live.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(bit_equal(live[i], expect.samples[i])) << i;
  }
  auto h = open_ok(fast_options(dir.path()));
  const auto got = h->range(5, 0, 1000, 10);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bit_equal(got[i], expect.samples[i])) << i;
  EXPECT_TRUE(std::signbit(got[1].value));
}

TEST(Historian, CallbacksFireAfterTheSyncInSubmitOrder) {
  ScratchDir dir;
  CountingEnv env;
  HistorianOptions o = fast_options(dir.path());
  o.durability = Durability::kSync;
  o.group_commit_interval_us = 10'000'000;  // only close() flushes: the pending state is observable
  o.group_commit_bytes = 1 << 30;
  auto opened = open_historian(o, env);
  ASSERT_TRUE(opened);
  Historian& h = **opened;

  std::mutex mu;
  std::vector<int> order;
  std::vector<int> syncs_seen;
  std::vector<bool> visible_in_head;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(h.submit(make_batch(1, i * 10, 1),
                       [&, i](const Status& s) {
                         EXPECT_TRUE(s) << s.to_string();
                         std::lock_guard lock(mu);
                         order.push_back(i);
                         syncs_seen.push_back(env.syncs.load());
                         visible_in_head.push_back(!h.range(1, i * 10, i * 10 + 1, 1).empty());
                       }),
              Admission::kAccepted);
  }
  // Nothing is durable yet, so nothing is visible and no callback has fired.
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(order.empty());
  }
  EXPECT_FALSE(h.latest(1).has_value());
  h.close();  // flushes what is pending
  ASSERT_EQ(order.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
    EXPECT_GE(syncs_seen[static_cast<std::size_t>(i)], 1) << "callback before fdatasync";
    EXPECT_TRUE(visible_in_head[static_cast<std::size_t>(i)]) << "callback before head insert";
  }
  EXPECT_EQ(h.stats().group_commits, 1u);  // one group for all twenty
}

TEST(Historian, IntervalTriggersTheFlushWithoutClose) {
  ScratchDir dir;
  HistorianOptions o = fast_options(dir.path());
  o.group_commit_interval_us = 20'000;
  auto h = open_ok(o);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 0, 1)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 15ms);
}

TEST(Historian, SizeTriggersTheFlushBeforeTheInterval) {
  ScratchDir dir;
  HistorianOptions o = fast_options(dir.path());
  o.group_commit_interval_us = 10'000'000;  // 10 s: only the size threshold can fire
  o.group_commit_bytes = 1024;
  auto h = open_ok(o);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 0, 100)));  // > 1 KiB encoded
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(Historian, ConcurrentSubmittersLoseNothing) {
  ScratchDir dir;
  HistorianOptions o = fast_options(dir.path());
  o.max_pending_bytes = 64 << 10;  // small, so RetryLater happens and is retried
  auto h = open_ok(o);
  constexpr int kThreads = 4, kBatches = 200, kPerBatch = 10;
  std::atomic<int> acked{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        for (;;) {
          const auto a = h->submit(make_batch(static_cast<SeriesId>(t + 1), b * kPerBatch, kPerBatch),
                                   [&](const Status& s) { (s ? acked : failed).fetch_add(1); });
          if (a == Admission::kAccepted) break;
          ASSERT_EQ(a, Admission::kRetryLater);
          std::this_thread::sleep_for(100us);
        }
        if (b % 50 == 0) (void)h->latest(static_cast<SeriesId>(t + 1));  // readers alongside the flusher
      }
    });
  }
  for (auto& th : threads) th.join();
  h->close();
  EXPECT_EQ(acked.load(), kThreads * kBatches);
  EXPECT_EQ(failed.load(), 0);
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(h->range(static_cast<SeriesId>(t + 1), 0, 1 << 30, 1 << 20).size(),
              static_cast<std::size_t>(kBatches * kPerBatch));
  EXPECT_EQ(h->stats().batches_appended, static_cast<std::uint64_t>(kThreads * kBatches));
}

TEST(Historian, EmptyBatchIsRejected) {
  ScratchDir dir;
  auto h = open_ok(fast_options(dir.path()));
  bool fired = false;
  EXPECT_EQ(h->submit(SampleBatch{}, [&](const Status&) { fired = true; }), Admission::kRejected);
  h->close();
  EXPECT_FALSE(fired);
  EXPECT_EQ(h->stats().rejected, 1u);
}

TEST(Historian, PendingBytesBoundAnswersRetryLater) {
  ScratchDir dir;
  HistorianOptions o = fast_options(dir.path());
  o.group_commit_interval_us = 10'000'000;
  o.group_commit_bytes = 1 << 30;
  o.max_pending_bytes = 4096;
  auto h = open_ok(o);
  int accepted = 0;
  Admission a = Admission::kAccepted;
  while ((a = h->submit(make_batch(1, accepted * 10, 10), {})) == Admission::kAccepted) ++accepted;
  EXPECT_EQ(a, Admission::kRetryLater);
  EXPECT_GT(accepted, 5);
  EXPECT_EQ(h->stats().retry_later, 1u);
  // A batch that could never fit is rejected, not deferred forever.
  EXPECT_EQ(h->submit(make_batch(1, 0, 1000), {}), Admission::kRejected);
  h->close();
  EXPECT_EQ(h->stats().head_samples, static_cast<std::uint64_t>(accepted * 10));
}

TEST(Historian, HeadSampleBoundAnswersRetryLater) {
  ScratchDir dir;
  HistorianOptions o = fast_options(dir.path());
  o.max_head_samples = 25;
  auto h = open_ok(o);
  ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 0, 10)));
  ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 10, 10)));
  EXPECT_EQ(h->submit(make_batch(1, 20, 10), {}), Admission::kRetryLater);
  EXPECT_EQ(h->submit(make_batch(1, 20, 26), {}), Admission::kRejected);
  EXPECT_EQ(h->stats().retry_later, 1u);
}

TEST(Historian, SubmitAfterCloseIsRetryLater) {
  ScratchDir dir;
  auto h = open_ok(fast_options(dir.path()));
  h->close();
  h->close();  // idempotent
  EXPECT_EQ(h->submit(make_batch(1, 0, 1), {}), Admission::kRetryLater);
}

TEST(Historian, RetransmittedBatchIsStoredOnce) {
  ScratchDir dir;
  auto h = open_ok(fast_options(dir.path()));
  ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 0, 5, 1.0)));
  ASSERT_TRUE(submit_and_wait(*h, make_batch(1, 0, 5, 2.0)));  // same timestamps, new values
  EXPECT_EQ(h->stats().head_samples, 5u);
  EXPECT_EQ(h->latest(1)->value, 6.0);
  h.reset();
  h = open_ok(fast_options(dir.path()));  // replay must reach the same state
  EXPECT_EQ(h->stats().head_samples, 5u);
  EXPECT_EQ(h->range(1, 0, 10, 10)[0].value, 2.0);
}

TEST(Historian, SyncFailureMakesTheStoreReadOnly) {
  ScratchDir dir;
  CountingEnv env;
  HistorianOptions o = fast_options(dir.path());
  o.durability = Durability::kSync;
  auto opened = open_historian(o, env);
  ASSERT_TRUE(opened);
  Historian& h = **opened;
  ASSERT_TRUE(submit_and_wait(h, make_batch(1, 0, 1)));
  env.fail_sync = true;
  const Status s = submit_and_wait(h, make_batch(1, 1, 1));
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("read-only"), std::string::npos) << s.message();
  env.fail_sync = false;  // even if the disk "recovers", no retry: the pages may be gone
  EXPECT_EQ(h.submit(make_batch(1, 2, 1), {}), Admission::kRetryLater);
  const auto st = h.stats();
  EXPECT_TRUE(st.read_only);
  EXPECT_NE(st.last_error.find("Input/output error"), std::string::npos) << st.last_error;
  EXPECT_EQ(h.range(1, 0, 10, 10).size(), 1u);  // the failed batch never became visible
  const int syncs = env.syncs.load();
  h.close();
  EXPECT_EQ(env.syncs.load(), syncs);
}

TEST(Historian, WriteFailureFailsEveryPendingCallback) {
  ScratchDir dir;
  CountingEnv env;
  HistorianOptions o = fast_options(dir.path());
  o.group_commit_interval_us = 50'000;
  auto opened = open_historian(o, env);
  ASSERT_TRUE(opened);
  env.fail_append = true;
  std::atomic<int> errors{0};
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ((*opened)->submit(make_batch(1, i, 1), [&](const Status& s) { errors += s ? 0 : 1; }),
              Admission::kAccepted);
  (*opened)->close();
  EXPECT_EQ(errors.load(), 5);
  EXPECT_TRUE((*opened)->stats().read_only);
}

TEST(Historian, InvalidOptionsAreRefused) {
  HistorianOptions o;
  EXPECT_EQ(resonance::open_historian(o).error().code(), StatusCode::kInvalidArgument);
  ScratchDir dir;
  o.dir = dir.path();
  o.wal_segment_bytes = 10;
  EXPECT_EQ(resonance::open_historian(o).error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace resonance::historian
