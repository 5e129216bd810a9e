#pragma once
// The peers the historian benchmark loads with the same workload in the same run. Each returns the
// same set of figures so the report can put them side by side; a figure a peer cannot give is
// NaN (printed as null) with the reason in `note`.

#include <cmath>
#include <cstdint>
#include <filesystem>
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
  double range_10k_p50_us = NAN, range_10k_p99_us = NAN;  // one series, all 10,000 samples
  double latest_p50_us = NAN, latest_p99_us = NAN;
  std::string note;
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

EngineResult bench_sqlite(const Workload& w, const std::filesystem::path& dir, int ticks_per_batch);
// InfluxDB 1.x HTTP API (line protocol) on 127.0.0.1:port; data_dir for the on-disk size.
EngineResult bench_influxdb(const Workload& w, int port, const std::filesystem::path& data_dir);
// VictoriaMetrics (Influx line protocol endpoint) on 127.0.0.1:port.
EngineResult bench_victoria_metrics(const Workload& w, int port, const std::filesystem::path& data_dir);

}  // namespace resonance::bench
