#pragma once
// Live inference (docs/models.md "Live inference"): deployed models run on windows of live data
// as it becomes durable, and their outputs go back into the pipeline as series.
//
//   pipeline fan-out ──on_durable──► InferenceScheduler (filters samples of bound series into a
//                                    bounded hand-off; never blocks, never allocates per sample
//                                    beyond the copy)
//                                      │ worker thread: ring buffer per (model, equipment, input),
//                                      │ every step: window → feature row → backend → outputs
//                                      ├──► BatchConsumer::submit (the pipeline): output series
//                                      │    <site>/<area>/<line>/<equipment>/ai.<interface>.<output>
//                                      └──► InferenceRecordSink (audit log, inference log file)
//
// A model is bound to every equipment whose series match its inputs (category and signal from the
// information model); each equipment gets its own windows and its own backend state.

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "resonance/core/catalog.h"
#include "resonance/core/sample.h"
#include "resonance/core/status.h"
#include "resonance/infomodel/model.h"
#include "resonance/models/manifest.h"
#include "resonance/models/window_features.h"
#include "resonance/pipeline/pipeline.h"

namespace resonance::models {

// One run of one model on one window: what the transparency log and the inference log keep.
struct InferenceRecord {
  std::string model;
  std::string version;
  std::string equipment;          // "site/area/line/equipment" the window came from
  TimestampNs window_from_ns = 0; // oldest timestamp the window may hold (to − longest window_s)
  TimestampNs window_to_ns = 0;   // the newest sample, which triggered the run
  std::uint64_t window_samples = 0;
  std::string input_sha256;       // of canonical_window_encoding (docs/formats/inference-log.md)
  std::vector<double> outputs;    // in the manifest's output order
  std::int64_t latency_ns = 0;    // feature row + backend, on the worker
};

// Canonical bytes of a window (docs/formats/inference-log.md): per input in manifest order,
// u32 LE sample count, then per sample i64 LE ts_ns and the f64 LE bits of the value.
std::string canonical_window_encoding(std::span<const WindowInput> inputs);

// A fixed-capacity ring of (ts, value) pairs: the newest `capacity` samples of one input series.
class WindowRing {
 public:
  explicit WindowRing(std::size_t capacity);
  void push(TimestampNs ts_ns, double value);  // overwrites the oldest when full
  // The samples with ts > to − window_ns and ts ≤ to, oldest first; window_ns = 0: the newest
  // sample at or before `to` only.
  void window(TimestampNs to_ns, std::int64_t window_ns, WindowInput& out) const;
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return ts_.size(); }
  TimestampNs newest_ts() const;

 private:
  std::vector<TimestampNs> ts_;
  std::vector<double> values_;
  std::size_t head_ = 0;  // next slot to write
  std::size_t size_ = 0;
};

// Runs one model on feature windows. Not thread-safe: one instance per (model, equipment), used
// only by the scheduler's worker.
class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  // One value per manifest output, or an error (counted; the window is skipped). May return
  // fewer values than outputs when the backend has nothing to say yet (a trend that never
  // reaches its level): those outputs are not written for this window.
  virtual Result<std::vector<double>> run(std::span<const WindowInput> inputs) = 0;
  // The same on a feature row the manifest's transform computed from the windows (derived inputs,
  // transform.h): one value per manifest input. Backends that need the raw window (linear_trend)
  // do not take rows and are refused at deployment.
  virtual Result<std::vector<double>> run_row(std::span<const double> row);
};
// Whether a backend takes feature rows (run_row): every backend but linear_trend.
bool backend_takes_rows(std::string_view backend);

// Creates the backend a manifest names, reading model files from `dir` (checked against their
// sha256) and statistical parameters from lineage.params. Errors say what is missing.
using BackendFactory = std::function<Result<std::unique_ptr<InferenceBackend>>()>;
Result<BackendFactory> make_backend_factory(const ModelManifest& manifest, const std::filesystem::path& dir);

struct Deployment {
  ModelManifest manifest;
  std::filesystem::path dir;  // where the manifest's files are
};

// Receives records in batches from the scheduler's worker. Must not block for long: the node's
// sink hands them to the audit writer and the inference log.
using InferenceRecordSink = std::function<void(std::vector<InferenceRecord>&&)>;

// A live version switch (InferenceScheduler::swap), as the worker applied it: every record handed
// to the sink before it was run by `from_version`, every one after by `version`.
struct ModelSwitch {
  std::string model;
  std::string from_version;
  std::string version;
  TimestampNs at_ns = 0;  // wall clock when the worker switched
};
// Called on the worker right after the switch, after the old version's records went to the
// InferenceRecordSink; may be empty.
using ModelSwitchSink = std::function<void(const ModelSwitch&)>;

struct InferenceOptions {
  std::size_t max_pending_samples = 1'000'000;  // hand-off bound; beyond it samples are skipped
  std::size_t max_window_samples = 65'536;      // ring capacity cap per input
  std::size_t max_pending_output_batches = 1024;
  int output_retry_ms = 5;                      // wait between attempts after RetryLater
  int max_output_attempts = 200;                // then the output batch is dropped and counted
  int record_flush_ms = 200;                    // records go to the sink at least this often
  double default_rate_hz = 1.0;                 // ring sizing when the signal declares no rate
};

struct InferenceStats {
  std::uint64_t runs = 0;
  std::uint64_t skipped_windows = 0;   // an input had no sample in its window, or the backend failed
  std::uint64_t skipped_samples = 0;   // hand-off full: samples never seen by any model
  std::uint64_t outputs_written = 0;   // output samples accepted by the pipeline
  std::uint64_t dropped_outputs = 0;   // output samples given up after retries, or rejected
  std::uint64_t output_retries = 0;    // RetryLater answers
  std::uint64_t swaps = 0;             // versions switched live (swap())
  std::uint64_t refused_swaps = 0;     // versions swap() refused (the old one kept running)
  std::uint64_t unconfirmed_records = 0;  // records not logged: no durable output covers their inputs
  std::int64_t latency_p50_ns = 0;     // of the last 4,096 runs
  std::int64_t latency_p99_ns = 0;
};

// Register it with IngestPipeline::add_accepted_listener (the node does): models then run on
// samples as soon as the store accepted them, and a window's record is released to the sink only
// once an output batch written after it is durable (which proves the window's inputs durable).
// As a DurableListener it sees samples one group commit later; the records rule is the same.
class InferenceScheduler final : public DurableListener, public AcceptedListener {
 public:
  InferenceScheduler(const infomodel::Model& model, SeriesCatalog& catalog, BatchConsumer& outputs,
                     InferenceRecordSink records, InferenceOptions options = {}, ModelSwitchSink switches = {});
  ~InferenceScheduler() override;  // stop()s
  InferenceScheduler(const InferenceScheduler&) = delete;
  InferenceScheduler& operator=(const InferenceScheduler&) = delete;

  // Before start(): validates the manifest against its contract, that every input names a
  // concrete signal with a live feature — or, for derived inputs, that the manifest's transform
  // defines them and maps every raw input they read to a concrete signal — and loads the backend
  // once to prove it loads.
  Status deploy(Deployment deployment);
  // Replaces the running version of a deployed model (same name) by `deployment`, live: checked
  // and loaded as deploy() does (files against their sha256, manifest against the contract) on
  // the calling thread, then switched by the worker between two windows — every window is run
  // whole by one version, its record and outputs name that version. The new version must read
  // the same input signals (category/signal, in order) and implement the same interface; windows,
  // features, parameters, outputs and backend may differ. Ring contents and step cadence carry
  // over, so the new version's first window is as full as the old one's last. A refused version
  // changes nothing (counted in InferenceStats::refused_swaps). Returns once the worker applied it
  // (or at once before start()). Any thread; one swap at a time.
  Status swap(Deployment deployment);
  // The version of `model` the worker runs now; empty when not deployed. Any thread.
  std::string running_version(std::string_view model) const;
  void start();
  // Runs what is pending, hands the last records to the sink, gives up on unsent outputs
  // (counted), and joins the worker. Idempotent.
  void stop();

  std::string_view name() const override { return "inference"; }
  // Copy the samples of bound series into the hand-off. Never block (a short mutex); any thread.
  Admission on_durable(const SampleBatch& batch) override;
  Admission on_accepted(const SampleBatch& batch) override;

  InferenceStats stats() const;
  // The series a deployed model writes on one equipment, in manifest output order; empty for a
  // model that is not deployed. Any thread.
  std::vector<std::string> output_series(std::string_view model, std::string_view equipment) const;
  // The output series path for one equipment ("site/area/line/equipment") and output.
  static std::string output_path(std::string_view equipment, std::string_view interface_id,
                                 std::string_view output);

 private:
  Admission feed(const SampleBatch& batch);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace resonance::models
