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
      writer_({.max_pending = max_pending, .flush_interval_ms = flush_interval_ms},
              [this](std::vector<Entry>& batch) -> Status {
                auto r = log_.append_batch(batch);
                return r ? Status::ok() : Status(r.error());
              },
              [this, checkpoint_interval_ms, last = std::chrono::steady_clock::now()]() mutable {
                if (std::chrono::steady_clock::now() - last < std::chrono::milliseconds(checkpoint_interval_ms)) return;
                if (!log_.checkpoint()) writer_.count_error();
                last = std::chrono::steady_clock::now();
              }) {}

IngestListener::~IngestListener() {
  writer_.stop();  // appends what is pending
  (void)log_.checkpoint();
}

Admission IngestListener::on_durable(const SampleBatch& batch) {
  Entry entry = ingest_batch_entry(batch);  // before queueing: hashing the samples takes a while
  if (entry.body.size() + kEntryHeaderSize > kMaxEntrySize) {
    ++oversize_;  // only a pathological provenance (huge transformation list) gets here
    return Admission::kRejected;
  }
  // A full queue (a lasting append failure) turns batches away, counted.
  return writer_.push(std::move(entry)) ? Admission::kAccepted : Admission::kRetryLater;
}

Status IngestListener::flush() { return writer_.flush(); }

std::uint64_t IngestListener::append_errors() const { return writer_.write_errors(); }

std::uint64_t IngestListener::dropped() const { return writer_.dropped() + oversize_.load(); }

}  // namespace resonance::audit
