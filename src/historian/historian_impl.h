#pragma once
// The historian engine: group-committed WAL in front of the in-memory head.
//
// Threads: any number of submitters and readers, plus a WAL flusher and an applier. A batch goes
//   submit() -> encoded into `filling_` (under mu_) -> the flusher swaps `filling_` out, writes and
//   syncs it without mu_ while new batches fill the other buffer -> hands the synced flight to the
//   applier and starts on the next one -> the applier inserts it into the head -> callbacks.
// The next flight's write and fdatasync overlap a flight's head insert and callbacks; at most one
// synced flight waits for the applier. Flights are applied in log order.
// Lock order: mu_ before Head's lock (submit reads the head size, which is an atomic anyway);
// never the reverse; apply_mu_ is never held with another. Callbacks run on the applier with no
// lock held, so they may call submit().

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "historian/chunk_store.h"
#include "historian/env.h"
#include "historian/head.h"
#include "historian/wal_writer.h"
#include "resonance/core/time.h"
#include "resonance/historian/historian.h"

namespace resonance::historian {

// Everything one series holds over a time range: chunk-file chunks, sealed head chunks, the head's
// open samples (HistorianImpl::sources).
struct SeriesSources {
  std::vector<ChunkRef> files;
  std::vector<std::shared_ptr<const SealedChunk>> sealed;
  SampleRun open;
};
// One of them with its time span and rank: a chunk-file chunk (file), a sealed head chunk (head),
// or, both null, the open samples.
struct TimedSource {
  const ChunkView* file;
  const SealedChunk* head;
  std::uint64_t rank;
  TimestampNs lo, hi;
};
// The sources ordered by their first timestamp.
std::vector<TimedSource> in_time_order(const SeriesSources& src);
// Whether two sources of an ordered list overlap (late data, a chunk both in the head and in a
// file): reads then need the ranked, last-write-wins merge.
bool any_overlap(std::span<const TimedSource> ordered);

// Like resonance::open_historian, with the file system injected (tests pass a fault-injecting Env).
// `env` must outlive the historian.
Result<std::unique_ptr<Historian>> open_historian(const HistorianOptions& options, Env& env);

class HistorianImpl final : public Historian {
 public:
  static Result<std::unique_ptr<HistorianImpl>> open(const HistorianOptions& options, Env& env);
  ~HistorianImpl() override;
  HistorianImpl(const HistorianImpl&) = delete;
  HistorianImpl& operator=(const HistorianImpl&) = delete;

  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override;
  std::optional<Sample> latest(SeriesId series) const override;
  std::vector<Sample> range(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                            std::size_t limit) const override;
  HistorianStats stats() const override;
  std::vector<AggregateBucket> aggregate(SeriesId series, TimestampNs from_ns, TimestampNs to_ns,
                                         std::int64_t step_ns) const override;
  // frame_read.cc: each series' chunks and head samples streamed into its column (frame_fill.h),
  // no Sample vectors; overlapping sources go through range().
  Frame frame(const FrameRequest& request) const override;
  // Tombstone in <dir>/chunks/TOMBSTONES first (durable), then the head and the chunk index forget
  // the series. Serialised with flush_chunks() so a chunk taken from the head before the call is
  // not written back after it.
  Status delete_series(SeriesId series) override;
  // backfill.cc: sorted partition-major (then series, then time) so the late path seals whole
  // chunks, submitted as WAL records of kBackfillBatchSamples, waiting out RetryLater.
  Result<BackfillReport> backfill(std::vector<Sample>&& samples, std::string_view source) override;
  static constexpr std::size_t kBackfillBatchSamples = 8192;

  // compaction.cc: folds each partition with at least compaction_min_files files (all but the
  // store's newest partition unless include_newest) into one file, paced to
  // compaction_bytes_per_s. Called by the compaction thread; tests and the backfill command call
  // it directly. Serialised by compact_mu_; takes flush_mu_ only for each partition's final swap.
  Result<CompactionReport> compact(bool include_newest);

  // Writes every sealed chunk (and, with seal_open, every open buffer) into chunk files, advances
  // the checkpoint and deletes the WAL segments it covers. Called by the chunk flusher thread;
  // tests and measurements call it directly. Serialised by flush_mu_.
  Status flush_chunks(bool seal_open);
  std::uint64_t chunk_file_bytes() const { return store_->bytes(); }
  // Must not be called from a DurableCallback (the applier cannot join itself); if it is, it only
  // marks the store closing and the destructor finishes the job.
  void close() override;

 private:
  // One series' sources over [from, to): the head first, then the store, so a chunk moving from
  // the head to a file in between is seen twice (an overlap, deduplicated) rather than not at all.
  SeriesSources sources(SeriesId series, TimestampNs from_ns, TimestampNs to_ns) const;
  struct PendingBatch {
    SampleBatch batch;  // kept for the head insert after the sync
    DurableCallback on_durable;
    std::uint64_t sequence = 0;
  };
  // One group commit: the encoded records and what to do once they are durable.
  struct CommitBuffer {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint32_t> record_sizes;
    std::vector<PendingBatch> batches;
    std::size_t samples = 0;
    MonoTime oldest{};  // when the first record went in
    bool empty() const { return batches.empty(); }
    void clear();       // keeps capacity: the two buffers are reused for the store's lifetime
  };

  explicit HistorianImpl(const HistorianOptions& options);
  void flusher_loop();
  void applier_loop();
  void chunk_flusher_loop();
  void compaction_loop();
  // Keeps the head's spare chunk columns (ColumnPool) topped up, off the acknowledgement path.
  void spare_loop();
  // mu_ held: true (counted, the chunk flusher woken) when n more samples would take the head past
  // max_head_bytes.
  bool over_memory_bound(std::size_t n);
  // Waits until `bytes` more fit under compaction_bytes_per_s since `started`; false once closing.
  bool pace_compaction(MonoTime started, std::uint64_t& paced_bytes, std::size_t bytes);

  const HistorianOptions options_;
  Head head_;                        // has its own lock; written by the applier only
  std::unique_ptr<ChunkStore> store_;  // has its own lock
  std::unique_ptr<WalWriter> wal_;   // flusher thread only (recovery runs before it starts)

  mutable std::mutex mu_;
  std::condition_variable flusher_cv_;        // signalled on first record, size threshold, close
  CommitBuffer filling_;                      // guarded by mu_
  std::size_t inflight_bytes_ = 0;            // guarded by mu_: flights not yet in the head
  std::size_t inflight_samples_ = 0;          // guarded by mu_
  std::uint64_t next_sequence_ = 1;           // guarded by mu_
  Status failure_;                            // guarded by mu_: not ok = read-only for good
  bool closing_ = false;                      // guarded by mu_
  HistorianStats counters_;                   // guarded by mu_ (head gauges come from head_)

  std::mutex close_mu_;  // serialises close() callers
  std::thread flusher_;

  // A synced (or failed) flight on its way from the flusher to the applier.
  std::mutex apply_mu_;
  std::condition_variable apply_cv_;  // a flight handed over, the slot taken, the flusher done
  CommitBuffer handoff_;              // guarded by apply_mu_
  Status handoff_status_;             // guarded by apply_mu_: ok, or why the flight is not durable
  bool handoff_full_ = false;         // guarded by apply_mu_
  bool writer_done_ = false;          // guarded by apply_mu_: the flusher has returned
  std::thread applier_;

  std::mutex flush_mu_;  // serialises flush_chunks()
  mutable std::mutex chunk_mu_;  // guards chunk_closing_, chunk_error_, chunk counters
  std::condition_variable chunk_cv_;
  bool chunk_closing_ = false;
  std::string chunk_error_;  // last chunk flush failure (data stays in the head and the WAL)
  std::uint64_t chunk_files_written_ = 0;
  std::uint64_t wal_segments_deleted_ = 0;
  std::uint64_t chunk_files_expired_ = 0;
  std::uint64_t series_deleted_ = 0;
  std::thread chunk_flusher_;
  // Set by submit when max_head_bytes refuses a batch: the chunk flusher then seals and writes
  // every buffer at once and frees the empty ones, instead of waiting for its interval.
  std::atomic<bool> memory_pressure_{false};
  std::uint64_t memory_retry_later_ = 0;  // guarded by mu_
  std::uint64_t backfill_samples_ = 0;    // guarded by mu_

  std::mutex spare_mu_;  // guards spare_closing_ and spare_wanted_
  std::condition_variable spare_cv_;  // the WAL applier signals it when the head wants spares
  bool spare_closing_ = false;
  bool spare_wanted_ = false;  // an insert left the pool short since the preparer last looked
  std::thread spare_preparer_;

  std::mutex compact_mu_;  // serialises compact()
  mutable std::mutex compaction_mu_;  // guards the members below
  std::condition_variable compaction_cv_;  // wakes the compaction thread (and its pacing) on close
  bool compaction_closing_ = false;
  std::uint64_t compactions_ = 0;
  std::uint64_t compaction_bytes_written_ = 0;
  std::string compaction_error_;
  std::thread compactor_;
};

}  // namespace resonance::historian
