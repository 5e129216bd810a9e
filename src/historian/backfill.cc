// Historian::backfill: history loaded through the same WAL, head and late path as live writes, so
// it inherits their durability, ordering (last write wins) and crash recovery instead of a second
// write path with rules of its own. What it adds is order: samples are sorted partition-major, so
// each series' late buffer fills one old partition after the other and seals whole chunks, and each
// chunk flush writes few partitions.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_set>

#include <fmt/core.h>

#include "historian/historian_impl.h"
#include "historian/reads.h"

namespace resonance {

Result<BackfillReport> Historian::backfill(std::vector<Sample>&& samples, std::string_view source) {
  return error(StatusCode::kFailedPrecondition,
               fmt::format("historian: this store cannot backfill ({} samples from {} not loaded)", samples.size(),
                           source));
}

}  // namespace resonance

namespace resonance::historian {

namespace {
// The batches in flight: their callbacks run on the WAL applier thread, in log order.
struct Outstanding {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t pending = 0;         // guarded by mu
  Status first_error = Status::ok();  // guarded by mu
  std::uint64_t durable_samples = 0;  // guarded by mu

  void done(const Status& s, std::size_t n) {
    std::lock_guard lock(mu);
    if (!s.is_ok() && first_error.is_ok()) first_error = s;
    if (s.is_ok()) durable_samples += n;
    --pending;
    cv.notify_all();
  }
};
}  // namespace

Result<BackfillReport> HistorianImpl::backfill(std::vector<Sample>&& samples, std::string_view source) {
  BackfillReport report;
  if (samples.empty()) return report;
  // Stable: among equal (series, ts) the one later in the input is inserted later and wins.
  std::stable_sort(samples.begin(), samples.end(), [this](const Sample& a, const Sample& b) {
    const std::int64_t pa = head_.partition_of(a.ts_ns), pb = head_.partition_of(b.ts_ns);
    if (pa != pb) return pa < pb;
    if (a.series != b.series) return a.series < b.series;
    return a.ts_ns < b.ts_ns;
  });
  {
    std::unordered_set<SeriesId> series;
    std::int64_t last_partition = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      series.insert(samples[i].series);
      const std::int64_t p = head_.partition_of(samples[i].ts_ns);
      if (i == 0 || p != last_partition) ++report.partitions;
      last_partition = p;
    }
    report.series = series.size();
  }

  auto outstanding = std::make_shared<Outstanding>();
  auto wait_all = [&outstanding] {
    std::unique_lock lock(outstanding->mu);
    outstanding->cv.wait(lock, [&] { return outstanding->pending == 0; });
    return outstanding->first_error;
  };
  // Small enough for any sane bound; a configuration too tight for it is refused below.
  const std::size_t per_batch =
      std::max<std::size_t>(1, std::min({kBackfillBatchSamples, options_.max_head_samples / 4,
                                         options_.max_head_bytes / (4 * Head::kBytesPerBufferedSample)}));
  const TimestampNs received = unix_now_ns();
  for (std::size_t at = 0; at < samples.size(); at += per_batch) {
    const std::size_t n = std::min(per_batch, samples.size() - at);
    SampleBatch batch;
    batch.provenance.connector = "backfill";
    batch.provenance.client_id = std::string(source);
    batch.provenance.receive_ts_ns = received;
    batch.samples.assign(samples.begin() + static_cast<std::ptrdiff_t>(at),
                         samples.begin() + static_cast<std::ptrdiff_t>(at + n));
    {
      std::lock_guard lock(outstanding->mu);
      ++outstanding->pending;
    }
    for (;;) {
      // submit() moves the batch only when it accepts it.
      const Admission a = submit(std::move(batch), [outstanding, n](const Status& s) { outstanding->done(s, n); });
      if (a == Admission::kAccepted) break;
      Status why = Status::ok();
      if (a == Admission::kRejected) {
        why = Status(StatusCode::kInvalidArgument,
                     fmt::format("historian: backfill batch of {} samples refused by the store's bounds "
                                 "(max_pending_bytes, max_head_samples, max_head_bytes)",
                                 n));
      } else {
        std::lock_guard lock(mu_);
        if (closing_) why = Status(StatusCode::kUnavailable, "historian: closed during backfill");
        else if (!failure_.is_ok()) why = failure_;
      }
      if (!why.is_ok()) {
        {
          std::lock_guard lock(outstanding->mu);
          --outstanding->pending;
        }
        (void)wait_all();
        return error(why.code(),
                     fmt::format("{} ({} of {} samples submitted before it)", why.message(), at, samples.size()));
      }
      // RetryLater: the bounds free up as commits complete and the chunk flusher drains the head.
      ++report.retries;
      std::unique_lock lock(outstanding->mu);
      outstanding->cv.wait_for(lock, std::chrono::milliseconds(2));
    }
    ++report.batches;
  }
  if (Status s = wait_all(); !s) return error(std::move(s));
  report.samples = samples.size();
  std::lock_guard lock(mu_);
  backfill_samples_ += report.samples;
  return report;
}

}  // namespace resonance::historian
