// End-to-end live inference: simulated CNC machines publish spindle-load samples over MQTT-SN (UDP
// loopback, QoS 0, batch payloads) into the node's stack as `resonance serve` builds it — catalog,
// historian (fdatasync per group commit unless --durability none), pipeline with the catalog,
// information-model and governance stages, fan-out — with the InferenceScheduler as a listener
// running a threshold model per machine and writing its outputs back through the pipeline, and
// the inference log writer keeping every record in a JSON-lines file. The scheduler sees samples
// once the store accepted them, as the node wires it (--feed durable: after their own commit).
//
// Latency of a sample = the moment its model output is durable and reaches the fan-out (a probe
// listener) minus the moment the device sent the PUBLISH carrying it. Only the last sample of each
// PUBLISH is timed: its timestamp is the send time (odd, so the probe can tell), the others are
// earlier readings the device had buffered. Not included: the transparency log (the node appends
// inference.batch entries on the log writer's thread, off this path).

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "connectors/mqttsn/client.h"
#include "connectors/mqttsn/gateway.h"
#include "connectors/mqttsn/payload.h"
#include "resonance/historian/historian.h"
#include "resonance/infomodel/loader.h"
#include "resonance/infomodel/validation_stage.h"
#include "resonance/models/inference.h"
#include "resonance/models/inference_log.h"
#include "resonance/pipeline/ingest_pipeline.h"
#include "resonance/pipeline/quarantine.h"
#include "resonance/pipeline/stages.h"

namespace resonance {
namespace {

// Records the latency of timed output samples (odd timestamps) of the output series.
class Probe final : public DurableListener {
 public:
  std::string_view name() const override { return "probe"; }
  Admission on_durable(const SampleBatch& batch) override {
    const TimestampNs now = unix_now_ns();
    std::lock_guard lock(mu_);
    for (const auto& s : batch.samples) {
      if (s.series >= watched_.size() || !watched_[s.series] || (s.ts_ns & 1) == 0) continue;
      latencies_ns_.push_back(now - s.ts_ns);
    }
    return Admission::kAccepted;
  }
  void watch(SeriesId id) {
    std::lock_guard lock(mu_);
    if (watched_.size() <= id) watched_.resize(id + 1, false);
    watched_[id] = true;
  }
  std::vector<std::int64_t> take() {
    std::lock_guard lock(mu_);
    return std::move(latencies_ns_);
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return latencies_ns_.size();
  }

 private:
  std::mutex mu_;
  std::vector<bool> watched_;              // guarded by mu_; by series id
  std::vector<std::int64_t> latencies_ns_;  // guarded by mu_
};

double percentile_ms(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1e6;
}

}  // namespace
}  // namespace resonance

int main(int argc, char** argv) {
  using namespace resonance;
  CLI::App app{"Live inference end to end: MQTT-SN sample published -> model output stored"};
  std::filesystem::path dir = "/tmp/inference-e2e-bench";
  int machines = 100, batch = 100;
  double rate = 100'000, seconds = 5, limit = 50;
  std::string durability = "sync";
  std::int64_t group_commit_us = HistorianOptions{}.group_commit_interval_us;
  bool keep_log = true;
  std::filesystem::path log_file;
  int log_flush_ms = 200;
  app.add_option("--dir", dir, "Scratch folder (emptied first)");
  app.add_option("--machines", machines, "Simulated CNC machines, one MQTT-SN client and one model instance each");
  app.add_option("--rate", rate, "Offered samples per second over all machines");
  app.add_option("--seconds", seconds, "Duration of the offered load");
  app.add_option("--batch", batch, "Samples per PUBLISH (payload tag 0x02)");
  app.add_option("--durability", durability, "Historian durability: sync (the node's default) or none")
      ->check(CLI::IsMember({"sync", "none"}));
  app.add_option("--group-commit-us", group_commit_us,
                 "historian.group_commit_interval_us: the longest a pending record waits for its fdatasync");
  app.add_option("--limit", limit, "The threshold model's max on spindle_load (percent)");
  app.add_flag("!--no-inference-log", keep_log, "Do not keep the inference log file");
  app.add_option("--inference-log-file", log_file,
                 "Where the inference log goes (default <dir>/inference.jsonl; /dev/null: format, do not store)");
  app.add_option("--log-flush-ms", log_flush_ms, "The inference log writer's flush interval");
  std::string feed = "accepted";
  app.add_option("--feed", feed,
                 "When the scheduler sees a sample: accepted (as the node wires it: one group commit to a durable "
                 "output) or durable (after its own commit: two)")
      ->check(CLI::IsMember({"accepted", "durable"}));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  MetricsRegistry metrics;
  auto catalog = SeriesCatalog::open(dir / "catalog.sqlite");
  if (!catalog) return fmt::print(stderr, "{}\n", catalog.error().message()), 1;
  HistorianOptions h;
  h.dir = dir / "historian";
  h.durability = durability == "sync" ? Durability::kSync : Durability::kNone;
  h.group_commit_interval_us = group_commit_us;
  auto historian = open_historian(h);
  if (!historian) return fmt::print(stderr, "{}\n", historian.error().message()), 1;
  auto quarantine = Quarantine::open(dir / "quarantine.sqlite", metrics);
  if (!quarantine) return fmt::print(stderr, "{}\n", quarantine.error().message()), 1;
  IngestPipeline pipeline({}, **historian, metrics, std::move(*quarantine));
  pipeline.add_stage(make_validation_stage({}, **catalog, pipeline.quarantine(), metrics));
  pipeline.add_stage(infomodel::make_model_validation_stage(infomodel::builtin_model(), **catalog,
                                                            pipeline.quarantine(), metrics));
  pipeline.add_stage(make_governance_stage(metrics));

  std::unique_ptr<models::InferenceLogWriter> log;
  if (keep_log) {
    if (log_file.empty()) log_file = dir / "inference.jsonl";
    auto w = models::InferenceLogWriter::open(log_file, {}, 1'000'000, log_flush_ms);
    if (!w) return fmt::print(stderr, "{}\n", w.error().message()), 1;
    log = std::move(*w);
  }
  models::InferenceScheduler scheduler(
      infomodel::builtin_model(), **catalog, pipeline,
      [&log](std::vector<models::InferenceRecord>&& r) {
        if (log) log->push(std::move(r));
      });
  models::ModelManifest m;
  m.name = "load-limit";
  m.version = "1";
  m.interface_id = "anomaly_detection";
  m.backend = "threshold";
  m.task = "binary";
  m.inputs = {{"load", "cnc", "spindle_load", 0, 0, "last"}};
  m.outputs = {{"anomaly_score", infomodel::DataType::kDouble}, {"anomalous", infomodel::DataType::kBool}};
  m.params_json = fmt::format("{{\"max\": {}}}", limit);
  m.code_version = "bench";
  if (Status s = scheduler.deploy({m, {}}); !s) return fmt::print(stderr, "{}\n", s.message()), 1;
  Probe probe;
  if (feed == "accepted") pipeline.add_accepted_listener(scheduler);
  else pipeline.add_listener(scheduler);
  pipeline.add_listener(probe);
  pipeline.start();
  scheduler.start();

  mqttsn::GatewayOptions g;
  g.port = 0;
  g.max_clients = static_cast<std::size_t>(machines) + 16;
  g.quarantine = &pipeline.quarantine();
  mqttsn::Gateway gateway(g, pipeline, **catalog, metrics);
  if (Status s = gateway.start(); !s) return fmt::print(stderr, "{}\n", s.message()), 1;

  // Devices: connect, register, and pre-create the output series so the probe knows their ids.
  struct Device {
    std::unique_ptr<mqttsn::Client> client;
    std::uint16_t topic = 0;
    TimestampNs last_ts = 0;
  };
  std::vector<Device> devices(static_cast<std::size_t>(machines));
  for (int i = 0; i < machines; ++i) {
    mqttsn::ClientOptions o;
    o.port = gateway.bound_port();
    o.client_id = fmt::format("bench-cnc-{:03}", i);
    auto c = mqttsn::Client::connect(o);
    if (!c) return fmt::print(stderr, "connect: {}\n", c.error().message()), 1;
    const std::string equipment = fmt::format("plant1/bench/line1/cnc-{:03}", i);
    auto topic = (*c)->register_topic(equipment + "/spindle_load");
    if (!topic) return fmt::print(stderr, "register: {}\n", topic.error().message()), 1;
    auto out = (*catalog)->resolve(models::InferenceScheduler::output_path(equipment, "anomaly_detection", "anomalous"));
    if (!out) return fmt::print(stderr, "{}\n", out.error().message()), 1;
    probe.watch(*out);
    devices[static_cast<std::size_t>(i)] = {std::move(*c), *topic, 0};
  }

  // Paced sending: one PUBLISH of `batch` samples per device in turn. A machine's samples are
  // machines/rate seconds apart; the last of each PUBLISH is stamped with the send time.
  const double packets_per_s = rate / batch;
  const std::int64_t interval_ns = static_cast<std::int64_t>(1e9 * machines / rate);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> load(10, 90);
  std::vector<mqttsn::PayloadSample> samples(static_cast<std::size_t>(batch));
  std::uint64_t sent_samples = 0, send_errors = 0, packets = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  fmt::print("offering {:.0f} samples/s: {} machines, {} samples per PUBLISH ({:.0f} PUBLISH/s), {} s, durability {}, "
             "scheduler fed {} samples\n",
             rate, machines, batch, packets_per_s, seconds, durability, feed);
  for (std::size_t d = 0;; d = (d + 1) % devices.size()) {
    const auto due = start + std::chrono::duration<double>(static_cast<double>(packets) / packets_per_s);
    if (due >= end) break;
    std::this_thread::sleep_until(due);
    Device& dev = devices[d];
    const TimestampNs now = unix_now_ns() | 1;  // odd: the timed sample
    for (int k = 0; k < batch; ++k) {
      // Even and increasing for the buffered readings (the series must not go backwards).
      TimestampNs ts = std::max((now - (batch - 1 - k) * interval_ns) & ~TimestampNs{1}, (dev.last_ts + 2) & ~TimestampNs{1});
      if (k == batch - 1) ts = std::max(now, dev.last_ts + 1) | 1;
      dev.last_ts = ts;
      samples[static_cast<std::size_t>(k)] = {ts, std::round(load(rng) * 10) / 10, {}};
    }
    auto payload = mqttsn::encode_batch(samples);
    if (!payload || !dev.client->publish_qos0(dev.topic, *payload)) ++send_errors;
    else sent_samples += static_cast<std::uint64_t>(batch);
    ++packets;
  }
  const double sent_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Let the last outputs arrive (up to 5 s after the load stops).
  const std::uint64_t timed_expected = packets - send_errors;
  for (int i = 0; i < 100 && probe.count() < timed_expected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto stats = scheduler.stats();
  auto lat = probe.take();
  for (auto& d : devices) (void)d.client->disconnect();
  gateway.stop();
  scheduler.stop();
  (*historian)->close();
  pipeline.stop();
  if (log) (void)log->flush();
  const std::uint64_t stored = (*historian)->stats().samples_appended;

  const double p50 = percentile_ms(lat, 0.50), p99 = percentile_ms(lat, 0.99), p999 = percentile_ms(lat, 0.999),
               max_ms = percentile_ms(lat, 1.0);
  fmt::print("sent {} samples in {:.2f} s = {:.0f} samples/s ({} PUBLISH, {} send errors)\n", sent_samples, sent_s,
             static_cast<double>(sent_samples) / sent_s, packets, send_errors);
  fmt::print("stored {} samples (inputs and outputs); model runs {}, skipped windows {}, skipped samples {}\n", stored,
             stats.runs, stats.skipped_windows, stats.skipped_samples);
  fmt::print("outputs written {}, dropped {}, RetryLater {}, records unconfirmed {}; model run p50 {:.1f} µs p99 {:.1f} µs\n",
             stats.outputs_written, stats.dropped_outputs, stats.output_retries, stats.unconfirmed_records, static_cast<double>(stats.latency_p50_ns) / 1e3,
             static_cast<double>(stats.latency_p99_ns) / 1e3);
  fmt::print("end to end (PUBLISH sent -> output durable), {} timed samples of {} PUBLISHes: p50 {:.2f} ms, p99 {:.2f} "
             "ms, p99.9 {:.2f} ms, max {:.2f} ms (goal p99 <= 20 ms at 100,000 samples/s)\n",
             lat.size(), timed_expected, p50, p99, p999, max_ms);
  nlohmann::json j{{"bench", "inference_e2e"},
                   {"offered_samples_per_s", rate},
                   {"sent_samples_per_s", static_cast<double>(sent_samples) / sent_s},
                   {"machines", machines},
                   {"samples_per_publish", batch},
                   {"durability", durability},
                   {"feed", feed},
                   {"unconfirmed_records", stats.unconfirmed_records},
                   {"group_commit_interval_us", group_commit_us},
                   {"inference_log", keep_log ? log_file.string() : ""},
                   {"log_flush_ms", log_flush_ms},
                   {"runs", stats.runs},
                   {"skipped_samples", stats.skipped_samples},
                   {"outputs_dropped", stats.dropped_outputs},
                   {"timed", lat.size()},
                   {"timed_expected", timed_expected},
                   {"e2e_p50_ms", p50},
                   {"e2e_p99_ms", p99},
                   {"e2e_p999_ms", p999},
                   {"e2e_max_ms", max_ms},
                   {"run_p99_us", static_cast<double>(stats.latency_p99_ns) / 1e3}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
