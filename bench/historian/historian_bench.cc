// historian_bench: durable ingest, size on disk and reads of the reference workload (issue 4),
// for Resonance's historian and, in the same run on the same data, the peers the script started.
// Prints a table, then one JSON line with every figure. Run through `scripts/bench historian`.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "peers.h"
#include "resonance/historian/historian.h"

using namespace resonance;
using namespace resonance::bench;
using Clock = std::chrono::steady_clock;

namespace {

EngineResult bench_resonance(const Workload& w, const std::filesystem::path& dir, int ticks_per_batch,
                             std::size_t max_in_flight) {
  EngineResult r{"resonance", "fdatasync before acknowledgement (durability = sync, group commit)"};
  HistorianOptions o;
  o.dir = dir;
  o.durability = Durability::kSync;
  o.max_pending_bytes = std::size_t{512} << 20;
  o.max_head_samples = static_cast<std::size_t>(w.signals) * w.samples_per_signal * 2;
  o.seal_idle_ms = 1000;  // seal the last partial chunk of each series soon after ingest ends
  auto opened = open_historian(o);
  if (!opened) {
    r.note = opened.error().to_string();
    return r;
  }
  auto& h = **opened;
  // Generate first: the figure is the engine's, not the generator's.
  std::vector<std::vector<Sample>> batches;
  for (int tick = 0; tick < w.samples_per_signal; tick += ticks_per_batch)
    batches.push_back(workload_batch(w, tick, ticks_per_batch));
  std::mutex mu;
  std::vector<double> ack_ms;
  ack_ms.reserve(batches.size());
  std::atomic<std::size_t> durable{0};
  std::atomic<std::size_t> failed{0};
  std::uint64_t retries = 0;
  std::size_t batches_submitted = 0;
  const auto start = Clock::now();
  for (auto& samples : batches) {
    // A writer keeps a bounded number of batches in flight, as a connector would; unbounded
    // submission would only measure queueing.
    while (batches_submitted - durable.load() - failed.load() >= max_in_flight)
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    ++batches_submitted;
    for (;;) {
      SampleBatch batch;
      batch.samples = samples;  // copy: a RetryLater leaves nothing taken, so we may resubmit
      batch.provenance.connector = "bench";
      const auto t = Clock::now();
      const Admission a = h.submit(std::move(batch), [&, t](const Status& s) {
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
        {
          std::lock_guard lock(mu);
          ack_ms.push_back(ms);
        }
        (s.is_ok() ? durable : failed).fetch_add(1);
      });
      if (a == Admission::kAccepted) break;
      ++retries;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  while (durable.load() + failed.load() < batches.size()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.ingest_samples_per_s = static_cast<double>(w.signals) * w.samples_per_signal / seconds;
  const auto ack = percentiles(ack_ms);
  r.ack_p50_ms = ack.p50;
  r.ack_p99_ms = ack.p99;
  // Let the background flusher move sealed chunks into chunk files and delete covered WAL
  // segments, so reads below hit chunk files and the size is the settled one.
  double settle_s = 0;
  settled_directory_bytes(dir, 3.0, 120.0, &settle_s);
  const auto stats = h.stats();
  std::vector<double> us;
  std::mt19937 rng(7);
  const TimestampNs end_ns = w.t0_ns + w.samples_per_signal * w.step_ns;
  for (int q = 0; q < 1000; ++q) {
    const auto id = static_cast<SeriesId>(rng() % static_cast<unsigned>(w.signals) + 1);
    const auto t = Clock::now();
    const auto points = h.range(id, w.t0_ns, end_ns, 1'000'000);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (points.size() != static_cast<std::size_t>(w.samples_per_signal)) r.note += "range size mismatch; ";
  }
  auto p = percentiles(us);
  r.range_10k_p50_us = p.p50;
  r.range_10k_p99_us = p.p99;
  us.clear();
  for (int q = 0; q < 100'000; ++q) {
    const auto id = static_cast<SeriesId>(rng() % static_cast<unsigned>(w.signals) + 1);
    const auto t = Clock::now();
    const auto v = h.latest(id);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (!v) r.note += "latest missing; ";
  }
  p = percentiles(us);
  r.latest_p50_us = p.p50;
  r.latest_p99_us = p.p99;
  h.close();
  r.bytes_per_sample = static_cast<double>(directory_bytes(dir)) / (static_cast<double>(w.signals) * w.samples_per_signal);
  r.note += fmt::format("in-process batch API, {} ticks x {} signals per batch, at most {} batches in "
                        "flight, {} group commits, {} RetryLater; size = everything under the store's "
                        "directory (WAL, chunk files, checkpoint) once unchanged for 3 s ({:.0f} s after "
                        "ingest; {} chunk files, {:.3f} B/sample in chunk files alone); reads after that",
                        ticks_per_batch, w.signals, max_in_flight, stats.group_commits, retries, settle_s,
                        stats.chunk_files,
                        static_cast<double>(stats.chunk_bytes) / (static_cast<double>(w.signals) * w.samples_per_signal));
  if (failed.load()) r.note += fmt::format("; {} batches FAILED", failed.load());
  return r;
}

std::string fixed(double v, int digits) { return std::isnan(v) ? "-" : fmt::format("{:.{}f}", v, digits); }
nlohmann::json num(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

}  // namespace

int main(int argc, char** argv) {
  Workload w;
  int ticks_per_batch = 10;
  std::size_t max_in_flight = 16;
  std::string dir = "/tmp/resonance-bench-historian";
  int influx_port = 0, vm_port = 0;
  std::string influx_data, vm_data;
  bool skip_sqlite = false;
  CLI::App app{"Historian benchmark: Resonance and peers on the same workload, same run"};
  app.add_option("--signals", w.signals, "Signals")->capture_default_str();
  app.add_option("--samples", w.samples_per_signal, "Samples per signal (100 Hz)")->capture_default_str();
  app.add_option("--batch-ticks", ticks_per_batch, "Ticks per submitted batch")->capture_default_str();
  app.add_option("--max-in-flight", max_in_flight, "Resonance: batches in flight at once")->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (emptied first)")->capture_default_str();
  app.add_option("--influx-port", influx_port, "InfluxDB 1.x HTTP port on 127.0.0.1 (0 = skip)");
  app.add_option("--influx-data", influx_data, "InfluxDB data directory (for its size)");
  app.add_option("--vm-port", vm_port, "VictoriaMetrics HTTP port on 127.0.0.1 (0 = skip)");
  app.add_option("--vm-data", vm_data, "VictoriaMetrics storage directory (for its size)");
  app.add_flag("--skip-sqlite", skip_sqlite, "Do not run the SQLite peer");
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::printf("workload: %d signals x %d samples at 100 Hz (%.1f M samples)\n", w.signals,
              w.samples_per_signal, w.signals * static_cast<double>(w.samples_per_signal) / 1e6);
  std::vector<EngineResult> results;
  auto run = [&](const char* name, auto&& fn) {
    std::printf("running %s ...\n", name);
    std::fflush(stdout);
    try {
      results.push_back(fn());
    } catch (const std::exception& e) {
      EngineResult r{name, ""};
      r.note = std::string("FAILED: ") + e.what();
      results.push_back(r);
    }
  };
  run("resonance", [&] { return bench_resonance(w, std::filesystem::path(dir) / "resonance", ticks_per_batch,
                                                        max_in_flight); });
  if (!skip_sqlite) run("sqlite", [&] { return bench_sqlite(w, std::filesystem::path(dir) / "sqlite", ticks_per_batch); });
  if (influx_port) run("influxdb", [&] { return bench_influxdb(w, influx_port, influx_data); });
  if (vm_port) run("victoria-metrics", [&] { return bench_victoria_metrics(w, vm_port, vm_data); });

  std::printf("\n%-24s %14s %9s %9s %9s %12s %12s %11s %11s\n", "engine", "ingest/s", "ack p50", "ack p99",
              "B/sample", "range p50", "range p99", "latest p50", "latest p99");
  std::printf("%-24s %14s %9s %9s %9s %12s %12s %11s %11s\n", "", "(samples)", "(ms)", "(ms)", "", "(us, 10k)",
              "(us, 10k)", "(us)", "(us)");
  nlohmann::json engines = nlohmann::json::array();
  for (const auto& r : results) {
    std::printf("%-24s %14s %9s %9s %9s %12s %12s %11s %11s\n", r.engine.c_str(),
                fixed(r.ingest_samples_per_s, 0).c_str(), fixed(r.ack_p50_ms, 2).c_str(),
                fixed(r.ack_p99_ms, 2).c_str(), fixed(r.bytes_per_sample, 2).c_str(),
                fixed(r.range_10k_p50_us, 0).c_str(), fixed(r.range_10k_p99_us, 0).c_str(),
                fixed(r.latest_p50_us, 2).c_str(), fixed(r.latest_p99_us, 2).c_str());
    engines.push_back({{"engine", r.engine}, {"durability", r.durability},
                       {"ingest_samples_per_s", num(r.ingest_samples_per_s)}, {"ack_p50_ms", num(r.ack_p50_ms)},
                       {"ack_p99_ms", num(r.ack_p99_ms)}, {"bytes_per_sample", num(r.bytes_per_sample)},
                       {"range_10k_p50_us", num(r.range_10k_p50_us)}, {"range_10k_p99_us", num(r.range_10k_p99_us)},
                       {"latest_p50_us", num(r.latest_p50_us)}, {"latest_p99_us", num(r.latest_p99_us)},
                       {"note", r.note}});
  }
  for (const auto& r : results) std::printf("  %s: %s; %s\n", r.engine.c_str(), r.durability.c_str(), r.note.c_str());
  std::filesystem::remove_all(dir);
  nlohmann::json out = {{"bench", "historian"},
                        {"workload", {{"signals", w.signals}, {"samples_per_signal", w.samples_per_signal},
                                      {"rate_hz", 100}, {"batch_ticks", ticks_per_batch},
                                      {"max_in_flight", max_in_flight}}},
                        {"engines", engines}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
