#pragma once
// The peers the historian benchmark loads with the same workload in the same run. Each returns the
// same set of figures so the report can put them side by side; a figure a peer cannot give is
// NaN (printed as null) with the reason in `note`.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>
#include <utility>
#include <string>
#include <vector>

#include "workload.h"

namespace resonance::bench {

struct EngineResult {
  std::string engine;
  std::string durability;            // what an acknowledgement means for this engine
  double ingest_samples_per_s = NAN;
  double ack_p50_ms = NAN, ack_p99_ms = NAN;
  double bytes_per_sample = NAN;     // on disk after ingest (see note)
  double chunk_bytes_per_sample = NAN;  // Resonance: the chunk files alone, once every sample is in them
  double range_10k_p50_us = NAN, range_10k_p99_us = NAN;  // one series, all 10,000 samples
  double latest_p50_us = NAN, latest_p99_us = NAN;
  // Every sample of every signal into 10-second buckets, the whole pass (median of the runs).
  double buckets_all_ms = NAN;
  double buckets_one_thread_ms = NAN;  // Resonance only: the same on one thread
  std::string buckets_how;             // which aggregates, how many threads / workers
  // 100 signals x 10,000 rows aligned on the 100 Hz grid (Resonance only: the peers have no frame).
  double frame_p50_ms = NAN, frame_p99_ms = NAN;
  double frame_max_ms = NAN;  // the slowest of the frame_count calls
  int frame_count = 0;
  // Through the engine's HTTP API on loopback (Resonance: GET /api/v1/query, limit 10,000, JSON).
  // Timed to the last byte of the response; the goal is judged on this figure, as the peers'
  // HTTP range figures are (none of them includes the client's JSON parse).
  double api_range_10k_p50_us = NAN, api_range_10k_p99_us = NAN;
  // The same requests timed until nlohmann::json has parsed the body (what a C++ client sees).
  double api_range_10k_parsed_p50_us = NAN, api_range_10k_parsed_p99_us = NAN;
  // Resonance: the same with format=binary (docs/formats/points-binary.md), received whole, and
  // until read_points_binary has checked and copied out the columns. The API goal is judged on it.
  double api_range_10k_binary_p50_us = NAN, api_range_10k_binary_p99_us = NAN;
  double api_range_10k_binary_decoded_p50_us = NAN, api_range_10k_binary_decoded_p99_us = NAN;
  double api_latest_p50_us = NAN, api_latest_p99_us = NAN;
  std::string note;
  // Figures a check of this run found wrong (a short read, a failed batch, a non-200 reply): the
  // goal report counts them as not met whatever their value.
  std::set<std::string, std::less<>> invalid;
  void fail(std::string_view figure, std::string_view why) {
    invalid.emplace(figure);
    note += why;
  }
};

struct Percentiles {
  double p50, p99;
};
Percentiles percentiles(std::vector<double> values);
std::uint64_t directory_bytes(const std::filesystem::path& dir);
// The size once it has stopped changing for `quiet` (background flushes and compactions done), or
// after `max_wait`; `waited_s` tells how long it took.
std::uint64_t settled_directory_bytes(const std::filesystem::path& dir, double quiet_s, double max_wait_s,
                                      double* waited_s);

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port; throws on any transport error (a peer
// that fails mid-run makes the whole comparison void, better to say so loudly).
class HttpConnection {
 public:
  explicit HttpConnection(int port);
  ~HttpConnection();
  // (status, body)
  std::pair<int, std::string> request(bool post, const std::string& target, std::string body = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string url_encode(const std::string& s);
// Series ids (1-based) for n queries, the same sequence for every engine.
std::vector<int> query_series(const Workload& w, int n);

EngineResult bench_sqlite(const Workload& w, const std::filesystem::path& dir, int ticks_per_batch);
// InfluxDB 1.x HTTP API (line protocol) on 127.0.0.1:port; data_dir for the on-disk size.
EngineResult bench_influxdb(const Workload& w, int port, const std::filesystem::path& data_dir);
// VictoriaMetrics (Influx line protocol endpoint) on 127.0.0.1:port.
EngineResult bench_victoria_metrics(const Workload& w, int port, const std::filesystem::path& data_dir);
// PostgreSQL through libpq: COPY ... FROM STDIN, one COPY (its own transaction, synchronous
// commit) per batch of `ticks_per_batch` ticks. NaN figures and a note when built without libpq.
EngineResult bench_postgres(const Workload& w, const std::string& conninfo, int ticks_per_batch);

}  // namespace resonance::bench
