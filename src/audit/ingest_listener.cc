#include "resonance/audit/ingest_listener.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "resonance/audit/hash.h"

namespace resonance::audit {

namespace {

// Samples as 24 little-endian bytes each: series u32, ts_ns i64, value f64 bits, quality u32.
Hash samples_digest(const std::vector<Sample>& samples) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(samples.size() * 24);
  auto put = [&bytes](std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  for (const auto& s : samples) {
    std::uint64_t value_bits;
    std::memcpy(&value_bits, &s.value, 8);
    put(s.series, 4);
    put(static_cast<std::uint64_t>(s.ts_ns), 8);
    put(value_bits, 8);
    put(s.quality.code, 4);
  }
  return sha256(bytes);
}

constexpr std::size_t kMaxSeriesListed = 256;  // keeps the entry far below 64 KiB

}  // namespace

Entry ingest_batch_entry(const SampleBatch& batch) {
  std::vector<SeriesId> series;
  TimestampNs from = 0, to = 0;
  for (const auto& s : batch.samples) {
    series.push_back(s.series);
    from = series.size() == 1 ? s.ts_ns : std::min(from, s.ts_ns);
    to = series.size() == 1 ? s.ts_ns : std::max(to, s.ts_ns);
  }
  std::sort(series.begin(), series.end());
  series.erase(std::unique(series.begin(), series.end()), series.end());
  nlohmann::json body{
      {"connector", batch.provenance.connector},
      {"device", batch.provenance.client_id},
      {"receive_ns", batch.provenance.receive_ts_ns},
      {"transformations", batch.provenance.transformations},
      {"samples", batch.samples.size()},
      {"from_ns", from},
      {"to_ns", to},
      {"series_count", series.size()},
      {"digest", "sha256:" + hex(samples_digest(batch.samples))},
  };
  if (series.size() > kMaxSeriesListed) series.resize(kMaxSeriesListed);
  body["series"] = series;
  // nlohmann::json keeps object keys sorted, so dump() is one canonical text for one batch.
  return Entry{EntryType::kIngestBatch, batch.provenance.receive_ts_ns, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

IngestListener::IngestListener(Log& log, std::size_t max_pending, int flush_interval_ms, int checkpoint_interval_ms)
    : log_(log),
      max_pending_(max_pending),
      flush_interval_ms_(flush_interval_ms),
      checkpoint_interval_ms_(checkpoint_interval_ms),
      writer_([this] { run(); }) {}

IngestListener::~IngestListener() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  (void)flush();
  (void)log_.checkpoint();
}

Admission IngestListener::on_durable(const SampleBatch& batch) {
  Entry entry = ingest_batch_entry(batch);  // outside the lock: hashing the samples takes a while
  std::lock_guard lock(mu_);
  if (entry.body.size() + kEntryHeaderSize > kMaxEntrySize) {
    ++dropped_;  // only a pathological provenance (huge transformation list) gets here
    return Admission::kRejected;
  }
  if (pending_.size() >= max_pending_) {
    ++dropped_;
    return Admission::kRetryLater;
  }
  pending_.push_back(std::move(entry));
  return Admission::kAccepted;
}

Status IngestListener::flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::vector<Entry> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return Status::ok();
  auto r = log_.append_batch(batch);
  if (!r) {
    // Put the entries back in front (they are older than what arrived meanwhile), so a
    // transient failure loses nothing; a lasting one fills the queue, and on_durable counts what
    // it then turns away.
    std::lock_guard lock(mu_);
    ++append_errors_;
    batch.insert(batch.end(), std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()));
    pending_ = std::move(batch);
    return r.error();
  }
  return Status::ok();
}

void IngestListener::run() {
  auto last_checkpoint = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(flush_interval_ms_), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    (void)flush();  // counted in append_errors_
    if (std::chrono::steady_clock::now() - last_checkpoint >= std::chrono::milliseconds(checkpoint_interval_ms_)) {
      if (!log_.checkpoint()) {
        std::lock_guard guard(mu_);
        ++append_errors_;
      }
      last_checkpoint = std::chrono::steady_clock::now();
    }
    lock.lock();
  }
}

std::uint64_t IngestListener::append_errors() const {
  std::lock_guard lock(mu_);
  return append_errors_;
}

std::uint64_t IngestListener::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace resonance::audit
