// The live inference scheduler: a listener that copies the samples of bound series as the store
// accepts them (AcceptedListener, on the connectors' threads) or once they are durable
// (DurableListener, on the fan-out thread), and one worker thread that owns every window, backend,
// output hand-off and the release of inference records.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <iterator>
#include <limits>
#include <map>
#include <optional>

#include "resonance/models/dataset.h"
#include "resonance/models/inference.h"
#include "resonance/models/transform.h"

namespace resonance::models {

namespace {

constexpr std::size_t kLatencyReservoir = 4096;

struct BoundInput {
  std::size_t deployment;
  std::size_t input;
};

// What one series feeds. Created on the fan-out thread, immutable afterwards, kept in a deque (so
// the worker may hold pointers to it: they are published through the hand-off's mutex).
struct SeriesBinding {
  std::string equipment;  // "site/area/line/equipment"
  std::vector<BoundInput> inputs;
};

struct PendingSample {
  const SeriesBinding* binding;
  TimestampNs ts_ns;
  double value;
};

// One deployed model on one equipment: its windows and its backend state. Worker thread only.
struct Instance {
  std::vector<WindowRing> rings;
  std::unique_ptr<InferenceBackend> backend;
  bool ran = false;
  TimestampNs last_run_ns = 0;  // the newest trigger time
  // A triggered run waits until every input has a sample at or after its time (see on_sample).
  bool pending = false;
  TimestampNs pending_ns = 0;
  std::vector<SeriesId> output_ids;  // resolved on first use; 0 = could not be resolved
};

// A live signal a model reads: one ring per (instance, source). Without a transform each manifest
// input is its own source; with one, each raw input of the transform (derived inputs are computed
// from the sources' windows).
struct Source {
  std::string category, signal;
  bool operator==(const Source&) const = default;
};

struct DeployedModel {
  Deployment deployment;
  BackendFactory factory;
  const infomodel::AiInterface* contract = nullptr;
  std::vector<Source> sources;
  std::shared_ptr<const Transform> transform;  // derived inputs; null: window features per input
  std::vector<std::int64_t> window_ns;  // per source
  std::vector<std::size_t> capacity;    // ring size per source
  std::int64_t step_ns = 0;             // smallest step over the inputs; 0 = every sample
  std::int64_t longest_window_ns = 0;
  std::map<std::string, Instance> instances;  // by equipment; worker thread only
  std::vector<Sample> outputs;                 // of the current worker round
  std::string client_id;                       // name@version, the outputs' provenance
};

struct OutputBatch {
  SampleBatch batch;
  int attempts = 0;
};

std::string equipment_of(std::string_view path) {
  const auto last = path.rfind('/');
  return std::string(last == std::string_view::npos ? path : path.substr(0, last));
}

}  // namespace

struct InferenceScheduler::Impl {
  Impl(const infomodel::Model& m, SeriesCatalog& c, BatchConsumer& o, InferenceRecordSink r, InferenceOptions opt,
       ModelSwitchSink sw)
      : model(m), catalog(c), consumer(o), sink(std::move(r)), switch_sink(std::move(sw)), options(opt) {}

  const infomodel::Model& model;
  SeriesCatalog& catalog;
  BatchConsumer& consumer;
  InferenceRecordSink sink;
  ModelSwitchSink switch_sink;
  const InferenceOptions options;
  // The set of models is fixed after start(); an element is replaced only by the worker
  // (apply_swap), under deploy_mu. The worker reads without the lock (it is the only writer);
  // every other thread reads under it.
  std::vector<DeployedModel> models;
  mutable std::mutex deploy_mu;

  // A checked version waiting for the worker (swap()). Guarded by mu.
  struct StagedSwap {
    std::size_t index;
    DeployedModel model;
  };
  std::optional<StagedSwap> staged;
  std::uint64_t swaps_applied = 0;  // guarded by mu
  std::condition_variable swapped;
  std::mutex swap_call_mu;  // one swap() at a time

  // The feed: any thread that hands samples over (several connectors may submit at once).
  std::mutex feed_mu;
  std::unordered_map<SeriesId, const SeriesBinding*> bindings;  // guarded by feed_mu; null: not bound
  std::deque<SeriesBinding> binding_store;                      // guarded by feed_mu; append only
  std::vector<PendingSample> scratch;                           // guarded by feed_mu

  std::mutex mu;
  std::condition_variable wake;
  std::vector<PendingSample> pending;  // guarded by mu
  bool stopping = false;               // guarded by mu
  std::thread worker;

  // Worker thread only.
  std::deque<OutputBatch> unsent;
  std::vector<InferenceRecord> records;  // released: for the sink

  // Record release. The models run on accepted samples, which are not yet durable; a window's
  // record goes to the sink only once an output batch accepted after the window ran is durable.
  // That batch sits later in the historian's log than every sample the window read (each was
  // accepted before the window ran), and the log becomes durable in order, so its durability
  // proves theirs: a record never names an input a crash could lose. Callbacks arrive on the
  // store's thread, possibly after this scheduler is gone (hence the shared state).
  struct Confirmations {
    std::mutex mu;
    std::condition_variable changed;
    std::map<std::uint64_t, bool> resolved;  // guarded by mu; output batch -> durable, until folded
    void resolve(std::uint64_t seq, bool durable) {
      {
        std::lock_guard lock(mu);
        resolved.emplace(seq, durable);
      }
      changed.notify_all();
    }
  };
  struct HeldRecords {
    std::uint64_t covering_seq;  // the output batch whose durability releases them
    bool failed = false;         // that batch will never be durable
    std::vector<InferenceRecord> records;
  };
  std::shared_ptr<Confirmations> confirmations = std::make_shared<Confirmations>();
  std::uint64_t output_seq = 0;     // the last sequence number given to an output batch
  std::uint64_t confirmed_seq = 0;  // every batch up to here is resolved
  std::deque<HeldRecords> held;     // in covering_seq order
  std::vector<InferenceRecord> unattached;  // run since the last accepted output batch
  std::vector<WindowInput> windows;
  std::vector<double> row;
  Transform::Scratch transform_scratch;

  std::atomic<std::uint64_t> runs{0}, skipped_windows{0}, skipped_samples{0}, outputs_written{0},
      dropped_outputs{0}, output_retries{0}, swaps{0}, refused_swaps{0}, nonfinite_rows{0},
      unconfirmed_records{0};
  mutable std::mutex latency_mu;
  std::vector<std::int64_t> latencies;  // guarded by latency_mu; a ring of the last runs
  std::size_t latency_next = 0;         // guarded by latency_mu

  // Under feed_mu.
  const SeriesBinding* bind(SeriesId id) {
    if (auto it = bindings.find(id); it != bindings.end()) return it->second;
    const SeriesBinding* result = nullptr;
    if (auto info = catalog.find(id)) {
      if (auto ref = infomodel::lookup_path(model, info->path)) {
        std::lock_guard deployed(deploy_mu);  // the worker may be replacing a model
        SeriesBinding b;
        for (std::size_t d = 0; d < models.size(); ++d) {
          const auto& sources = models[d].sources;
          for (std::size_t k = 0; k < sources.size(); ++k)
            if (sources[k].category == ref->category->id && sources[k].signal == ref->signal->name)
              b.inputs.push_back({d, k});
        }
        if (!b.inputs.empty()) {
          b.equipment = equipment_of(info->path);
          binding_store.push_back(std::move(b));
          result = &binding_store.back();
        }
      }
    }
    // A series id the catalog does not know yet is asked again next time; others are final.
    if (result != nullptr || catalog.contains(id)) bindings.emplace(id, result);
    return result;
  }

  Instance& instance(DeployedModel& m, const std::string& equipment) {
    auto it = m.instances.find(equipment);
    if (it != m.instances.end()) return it->second;
    return m.instances.emplace(equipment, make_instance(m, equipment)).first->second;
  }

  Instance make_instance(DeployedModel& m, const std::string& equipment) {
    Instance inst;
    for (std::size_t cap : m.capacity) inst.rings.emplace_back(cap);
    if (auto backend = m.factory()) inst.backend = std::move(*backend);
    else spdlog::error("inference: model '{}' on '{}': {}", m.deployment.manifest.name, equipment, backend.error().message());
    inst.output_ids.assign(m.deployment.manifest.outputs.size(), 0);
    for (std::size_t j = 0; j < inst.output_ids.size(); ++j) {
      const auto& out = m.deployment.manifest.outputs[j];
      std::string unit;
      for (const auto& c : m.contract->outputs)
        if (c.name == out.name) unit = c.unit;
      auto id = catalog.resolve(output_path(equipment, m.deployment.manifest.interface_id, out.name), unit);
      if (id) inst.output_ids[j] = *id;
      else spdlog::error("inference: model '{}': output series: {}", m.deployment.manifest.name, id.error().message());
    }
    return inst;
  }

  // Worker thread, between two rounds: the old version's records go to the sink first (once their
  // outputs are durable: a commit or two), then the new version takes over every equipment with
  // the old one's samples and step cadence.
  void apply_swap(StagedSwap&& staged_swap) {
    DeployedModel& old = models[staged_swap.index];
    DeployedModel& next = staged_swap.model;
    await_confirmations(std::chrono::seconds(2));
    if (!records.empty()) {
      sink(std::move(records));
      records.clear();
    }
    for (auto& [equipment, was] : old.instances) {
      Instance inst = make_instance(next, equipment);
      for (std::size_t k = 0; k < inst.rings.size() && k < was.rings.size(); ++k) {
        if (was.rings[k].size() == 0) continue;
        WindowInput all;
        was.rings[k].window(was.rings[k].newest_ts(), std::numeric_limits<std::int64_t>::max() / 2, all);
        for (std::size_t i = 0; i < all.ts_ns.size(); ++i) inst.rings[k].push(all.ts_ns[i], all.values[i]);
      }
      inst.ran = was.ran;
      inst.last_run_ns = was.last_run_ns;
      inst.pending = was.pending;
      inst.pending_ns = was.pending_ns;
      next.instances.emplace(equipment, std::move(inst));
    }
    ModelSwitch event{next.deployment.manifest.name, old.deployment.manifest.version,
                      next.deployment.manifest.version, unix_now_ns()};
    {
      std::lock_guard deployed(deploy_mu);
      old = std::move(next);
    }
    swaps.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("inference: {} now runs version {} (was {}), live", event.model, event.version, event.from_version);
    if (switch_sink) switch_sink(event);
  }

  void record_latency(std::int64_t ns) {
    std::lock_guard lock(latency_mu);
    if (latencies.size() < kLatencyReservoir) latencies.push_back(ns);
    else latencies[latency_next] = ns;
    latency_next = (latency_next + 1) % kLatencyReservoir;
  }

  // After a sample of the instance's inputs went into its ring. A sample whose time is a step past
  // the last trigger triggers a run at its time; the run waits until every input has reached that
  // time, because the samples of one instant arrive one series after another (a device publishes
  // each signal on its own topic) and the window must hold all of them — as a window read back
  // from the historian does (select_window). A run still waiting when the next one triggers runs
  // then with what it has (an input that stopped must not stop the model).
  void on_sample(DeployedModel& m, const std::string& equipment, Instance& inst, TimestampNs ts) {
    const bool due = !inst.ran || (m.step_ns == 0 ? ts > inst.last_run_ns : ts >= inst.last_run_ns + m.step_ns);
    if (due) {
      if (inst.pending) run_window(m, equipment, inst, inst.pending_ns);
      inst.ran = true;
      inst.last_run_ns = ts;
      inst.pending = true;
      inst.pending_ns = ts;
    }
    if (!inst.pending) return;
    for (const auto& ring : inst.rings)
      if (ring.size() == 0 || ring.newest_ts() < inst.pending_ns) return;
    inst.pending = false;
    run_window(m, equipment, inst, inst.pending_ns);
  }

  // At stop: the runs still waiting for an input run with what they have.
  void run_pending() {
    for (auto& m : models)
      for (auto& [equipment, inst] : m.instances)
        if (inst.pending) {
          inst.pending = false;
          run_window(m, equipment, inst, inst.pending_ns);
        }
  }

  void run_window(DeployedModel& m, const std::string& equipment, Instance& inst, TimestampNs ts) {
    if (!inst.backend) {
      skipped_windows.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto& manifest = m.deployment.manifest;
    windows.resize(inst.rings.size());
    std::uint64_t samples = 0;
    for (std::size_t k = 0; k < inst.rings.size(); ++k) {
      inst.rings[k].window(ts, m.window_ns[k], windows[k]);
      if (windows[k].values.empty()) {  // an input has not been seen in its window yet
        skipped_windows.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      samples += windows[k].values.size();
    }
    const auto start = std::chrono::steady_clock::now();
    Result<std::vector<double>> result = std::vector<double>{};
    if (m.transform) {
      // Derived inputs: the transform computes the row from the windows, as it did offline.
      row.resize(manifest.inputs.size());
      if (!m.transform->evaluate(windows, ts, row, transform_scratch)) {
        // The reason is formatted only for the window that is logged (one in 1,000): a stopped
        // spindle can make every window a division by zero.
        if (nonfinite_rows.fetch_add(1, std::memory_order_relaxed) % 1000 == 0) {
          TransformGap gap;
          (void)m.transform->evaluate(windows, ts, row, transform_scratch, &gap);
          spdlog::warn("inference: model '{}' on '{}': window at {} skipped: {}", manifest.name, equipment, ts,
                       gap.message());
        }
        skipped_windows.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      result = inst.backend->run_row(row);
    } else {
      result = inst.backend->run(windows);
    }
    const std::int64_t latency_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    if (!result) {
      if (skipped_windows.fetch_add(1, std::memory_order_relaxed) % 1000 == 0)
        spdlog::warn("inference: model '{}' on '{}': {}", manifest.name, equipment, result.error().message());
      return;
    }
    runs.fetch_add(1, std::memory_order_relaxed);
    record_latency(latency_ns);
    InferenceRecord rec;
    rec.model = manifest.name;
    rec.version = manifest.version;
    rec.equipment = equipment;
    rec.window_to_ns = ts;
    rec.window_from_ns = ts - m.longest_window_ns;
    rec.window_samples = samples;
    rec.input_sha256 = sha256_hex(canonical_window_encoding(windows));
    rec.latency_ns = latency_ns;
    const std::size_t n = std::min(result->size(), manifest.outputs.size());
    for (std::size_t j = 0; j < n; ++j) {
      rec.outputs.push_back((*result)[j]);
      if (inst.output_ids[j] != 0) m.outputs.push_back(Sample{inst.output_ids[j], ts, (*result)[j], Quality{}});
    }
    unattached.push_back(std::move(rec));
  }

  void process(const std::vector<PendingSample>& batch, bool final_round) {
    for (const auto& s : batch) {
      // Every input of a model that this series feeds takes the sample before the model runs
      // (a model may compute two features from one series). Inputs are grouped by model.
      const auto& inputs = s.binding->inputs;
      for (std::size_t i = 0; i < inputs.size();) {
        auto& m = models[inputs[i].deployment];
        Instance& inst = instance(m, s.binding->equipment);
        for (const std::size_t d = inputs[i].deployment; i < inputs.size() && inputs[i].deployment == d; ++i)
          inst.rings[inputs[i].input].push(s.ts_ns, s.value);
        on_sample(m, s.binding->equipment, inst, s.ts_ns);
      }
    }
    if (final_round) run_pending();
    for (auto& m : models) {
      if (m.outputs.empty()) continue;
      OutputBatch out;
      out.batch.samples = std::move(m.outputs);
      m.outputs.clear();
      out.batch.provenance = Provenance{"inference", m.client_id, unix_now_ns(), {}};
      if (unsent.size() >= options.max_pending_output_batches) {
        dropped_outputs.fetch_add(out.batch.samples.size(), std::memory_order_relaxed);
        continue;
      }
      unsent.push_back(std::move(out));
    }
  }

  // Hands output batches to the pipeline in order; on RetryLater keeps them for the next round.
  void send_outputs(bool final_round) {
    while (!unsent.empty()) {
      OutputBatch& front = unsent.front();
      SampleBatch copy = front.batch;  // a refused submit may have run stages on its argument
      const std::size_t n = copy.samples.size();
      const std::uint64_t seq = ++output_seq;
      const Admission a = consumer.submit(
          std::move(copy), [c = confirmations, seq](const Status& status) { c->resolve(seq, status.is_ok()); });
      if (a == Admission::kAccepted) {
        outputs_written.fetch_add(n, std::memory_order_relaxed);
        unsent.pop_front();
        if (!unattached.empty()) {
          held.push_back({seq, false, std::move(unattached)});
          unattached.clear();
        }
        continue;
      }
      confirmations->resolve(seq, false);  // not taken: no callback will come, nothing waits on it
      if (a == Admission::kRetryLater) {
        output_retries.fetch_add(1, std::memory_order_relaxed);
        if (++front.attempts < options.max_output_attempts && !final_round) return;
      }
      dropped_outputs.fetch_add(n, std::memory_order_relaxed);  // rejected, or retried long enough
      unsent.pop_front();
    }
  }

  // Folds the resolved output batches into confirmed_seq and moves the records they cover to
  // `records` (durable) or drops them, counted (their covering batch failed: the store could not
  // make it durable, so the inputs may be lost too).
  void release_confirmed() {
    {
      std::lock_guard lock(confirmations->mu);
      auto& resolved = confirmations->resolved;
      for (auto it = resolved.begin(); it != resolved.end() && it->first == confirmed_seq + 1; it = resolved.erase(it)) {
        ++confirmed_seq;
        if (!it->second)
          for (auto& h : held)
            if (h.covering_seq == confirmed_seq) h.failed = true;
      }
    }
    while (!held.empty() && held.front().covering_seq <= confirmed_seq) {
      HeldRecords& h = held.front();
      if (h.failed) {
        if (unconfirmed_records.fetch_add(h.records.size(), std::memory_order_relaxed) == 0)
          spdlog::warn("inference: {} records dropped: their outputs never became durable", h.records.size());
      } else {
        std::move(h.records.begin(), h.records.end(), std::back_inserter(records));
      }
      held.pop_front();
    }
  }

  // Waits (bounded) until every held record's output batch is resolved, then releases them.
  void await_confirmations(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    release_confirmed();
    while (!held.empty() && std::chrono::steady_clock::now() < deadline) {
      {
        std::unique_lock lock(confirmations->mu);
        confirmations->changed.wait_for(lock, std::chrono::milliseconds(10),
                                        [&] { return confirmations->resolved.contains(held.back().covering_seq); });
      }
      release_confirmed();
    }
  }

  // At stop: records that no durable output batch covers are not logged; counted and said.
  void drop_unconfirmed() {
    std::size_t n = unattached.size();
    for (const auto& h : held) n += h.records.size();
    unattached.clear();
    held.clear();
    if (n == 0) return;
    unconfirmed_records.fetch_add(n, std::memory_order_relaxed);
    spdlog::warn("inference: {} records not logged at stop: no durable output batch covers their inputs", n);
  }

  void run() {
    auto last_flush = std::chrono::steady_clock::now();
    std::vector<PendingSample> batch;
    while (true) {
      bool stop_now;
      std::optional<StagedSwap> swap_now;
      {
        std::unique_lock lock(mu);
        const auto wait = std::chrono::milliseconds(unsent.empty() ? options.record_flush_ms : options.output_retry_ms);
        wake.wait_for(lock, wait, [this] { return stopping || !pending.empty() || staged.has_value(); });
        batch.swap(pending);
        stop_now = stopping;
        swap_now.swap(staged);
      }
      process(batch, stop_now);
      batch.clear();
      send_outputs(stop_now);
      // After the round, so no window is run half by one version: samples handed over before
      // swap() was called run on the old version, those after it returns on the new one.
      if (swap_now) {
        apply_swap(std::move(*swap_now));
        {
          std::lock_guard lock(mu);
          ++swaps_applied;
        }
        swapped.notify_all();
      }
      if (stop_now) {
        await_confirmations(std::chrono::seconds(5));
        drop_unconfirmed();
      } else {
        release_confirmed();
      }
      const auto now = std::chrono::steady_clock::now();
      if (!records.empty() && (stop_now || records.size() >= 4096 ||
                               now - last_flush >= std::chrono::milliseconds(options.record_flush_ms))) {
        sink(std::move(records));
        records.clear();
        last_flush = now;
      }
      if (stop_now) {
        std::lock_guard lock(mu);
        if (pending.empty()) break;
      }
    }
  }
};

InferenceScheduler::InferenceScheduler(const infomodel::Model& model, SeriesCatalog& catalog, BatchConsumer& outputs,
                                       InferenceRecordSink records, InferenceOptions options,
                                       ModelSwitchSink switches)
    : impl_(std::make_unique<Impl>(model, catalog, outputs, std::move(records), options, std::move(switches))) {}

InferenceScheduler::~InferenceScheduler() { stop(); }

std::string InferenceScheduler::output_path(std::string_view equipment, std::string_view interface_id,
                                            std::string_view output) {
  return fmt::format("{}/ai.{}.{}", equipment, interface_id, output);
}

namespace {

// Everything deploy() and swap() check about one version on its own, and its loaded backend.
Result<DeployedModel> prepare(Deployment d, const infomodel::Model& model, const InferenceOptions& options,
                              const std::string& source) {
  const ModelManifest& m = d.manifest;
  if (Status s = validate_manifest(m, model, source); !s) return error(s);
  if (m.inputs.empty()) return error(StatusCode::kInvalidArgument, source + ": no inputs");
  DeployedModel dm;
  dm.contract = model.find_ai_interface(m.interface_id);
  auto add_source = [&](const std::string& category, const std::string& name, std::int64_t window_ns,
                        const std::string& what) -> Status {
    const auto* cat = model.find_category(category);
    const auto* signal = cat ? cat->find_signal(name) : nullptr;
    if (signal == nullptr)
      return {StatusCode::kInvalidArgument,
              fmt::format("{}: {}: {}/{} is not a signal of the information model (live inputs name one concrete "
                          "signal)",
                          source, what, category, name)};
    dm.sources.push_back({category, name});
    dm.window_ns.push_back(window_ns);
    dm.longest_window_ns = std::max(dm.longest_window_ns, window_ns);
    const double rate = signal->rate_hz > 0 ? signal->rate_hz : options.default_rate_hz;
    // Twice the nominal rate, so a device sampling faster than declared still fills the window.
    const double wanted = std::ceil(static_cast<double>(window_ns) / 1e9 * rate * 2) + 2;
    dm.capacity.push_back(static_cast<std::size_t>(std::min(wanted, static_cast<double>(options.max_window_samples))));
    return {};
  };
  for (std::size_t k = 0; k < m.inputs.size(); ++k) {
    const std::int64_t step_ns = static_cast<std::int64_t>(std::llround(m.inputs[k].step_s * 1e9));
    dm.step_ns = k == 0 ? step_ns : std::min(dm.step_ns, step_ns);
  }
  if (m.transform) {
    auto t = Transform::parse(m.transform->spec_json, source + ": transform.spec");
    if (!t) return error(t.error());
    dm.transform = std::make_shared<const Transform>(std::move(*t));
    const auto& spec = dm.transform->spec();
    if (!backend_takes_rows(m.backend))
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: backend {} reads a raw window, not derived inputs", source, m.backend));
    if (m.inputs.size() != spec.columns.size())
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: {} inputs, but the transform computes {} columns (the model's inputs are the "
                               "transform's columns, in order)",
                               source, m.inputs.size(), spec.columns.size()));
    auto mapped = [&](const std::string& raw) {
      return std::ranges::find(m.transform->signals, raw, &ManifestSignal::input) != m.transform->signals.end();
    };
    for (std::size_t k = 0; k < m.inputs.size(); ++k) {
      if (m.inputs[k].name != spec.columns[k])
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}: inputs[{}] '{}': the transform's column {} is '{}' (the model's inputs are the "
                                 "transform's columns, in order)",
                                 source, k, m.inputs[k].name, k, spec.columns[k]));
      for (const auto& raw : dm.transform->column_inputs(k))
        if (!mapped(raw))
          return error(StatusCode::kInvalidArgument,
                       fmt::format("{}: inputs[{}] '{}': computed from the raw input '{}', which maps to no live "
                                   "signal; retrain with `resonance model train … --map '{}=CATEGORY/SIGNAL'` "
                                   "(docs/models.md \"Derived inputs live\")",
                                   source, k, m.inputs[k].name, raw, raw));
    }
    for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
      const auto& raw = spec.inputs[i].name;
      const auto it = std::ranges::find(m.transform->signals, raw, &ManifestSignal::input);
      if (it == m.transform->signals.end())
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}: transform input '{}' maps to no live signal and no input reads it; drop it "
                                 "from the transform or map it (model train --map '{}=CATEGORY/SIGNAL')",
                                 source, raw, raw));
      if (Status s = add_source(it->category, it->signal, dm.transform->input_windows_ns()[i],
                                fmt::format("transform.signals '{}'", raw));
          !s)
        return error(s);
    }
  } else {
    for (std::size_t k = 0; k < m.inputs.size(); ++k) {
      const auto& in = m.inputs[k];
      if (in.feature == "derived")
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}: inputs[{}] '{}': a 'derived' column was computed by a training transform the "
                                 "manifest does not record, so a live window cannot recompute it; derive the columns "
                                 "with a transform (dataset create FILE --transform T.json, docs/formats/transform.md) "
                                 "and train with --map COLUMN=CATEGORY/SIGNAL for its raw inputs, or train on a window "
                                 "dataset (dataset create --from-historian --window D --window-features …)",
                                 source, k, in.name));
      if (Status s = add_source(in.category, in.signal, static_cast<std::int64_t>(std::llround(in.window_s * 1e9)),
                                fmt::format("inputs[{}] '{}'", k, in.name));
          !s)
        return error(s);
      if (auto probe = window_feature(in.feature, WindowInput{{0}, {0.0}}); !probe)
        return error(StatusCode::kInvalidArgument,
                     fmt::format("{}: inputs[{}] '{}': {}", source, k, in.name, probe.error().message()));
    }
  }
  // Every listed file against its sha256, whatever the backend reads, then the backend loaded
  // once: a version that cannot run is refused here, not on its first window.
  if (Status s = verify_manifest_files(m, d.dir); !s) return error(s.code(), fmt::format("{}: {}", source, s.message()));
  auto factory = make_backend_factory(m, d.dir);
  if (!factory) return error(factory.error().code(), fmt::format("{}: {}", source, factory.error().message()));
  if (auto probe = (*factory)(); !probe)
    return error(probe.error().code(), fmt::format("{}: {}", source, probe.error().message()));
  dm.factory = std::move(*factory);
  dm.client_id = fmt::format("{}@{}", m.name, m.version);
  dm.deployment = std::move(d);
  return dm;
}

}  // namespace

Status InferenceScheduler::deploy(Deployment d) {
  const ModelManifest& m = d.manifest;
  const std::string source = fmt::format("model '{}' version {}", m.name, m.version);
  if (impl_->worker.joinable())
    return {StatusCode::kFailedPrecondition, source + ": deploy before the scheduler starts"};
  for (const auto& other : impl_->models) {
    const auto& om = other.deployment.manifest;
    if (om.name == m.name)
      return {StatusCode::kAlreadyExists, fmt::format("{}: a version of '{}' is already deployed", source, m.name)};
    // Outputs are series per equipment and interface: two models of one interface on one
    // category would write the same series.
    if (om.interface_id == m.interface_id)
      for (const auto& a : om.inputs)
        for (const auto& b : m.inputs)
          if (a.category == b.category)
            return {StatusCode::kAlreadyExists,
                    fmt::format("{}: model '{}' already implements interface '{}' for category '{}' (its outputs "
                                "would be the same series)",
                                source, om.name, m.interface_id, a.category)};
  }
  auto dm = prepare(std::move(d), impl_->model, impl_->options, source);
  if (!dm) return dm.error();
  spdlog::info("inference: deployed {} ({} backend, interface {}, {} input(s), step {} ms)", dm->client_id,
               dm->deployment.manifest.backend, dm->deployment.manifest.interface_id, dm->window_ns.size(),
               dm->step_ns / 1'000'000);
  std::lock_guard deployed(impl_->deploy_mu);
  impl_->models.push_back(std::move(*dm));
  return {};
}

Status InferenceScheduler::swap(Deployment d) {
  auto& impl = *impl_;
  std::lock_guard one_at_a_time(impl.swap_call_mu);
  const std::string source = fmt::format("model '{}' version {}", d.manifest.name, d.manifest.version);
  auto refuse = [&impl](StatusCode code, std::string message) {
    impl.refused_swaps.fetch_add(1, std::memory_order_relaxed);
    return Status(code, std::move(message));
  };
  std::size_t index = 0;
  std::vector<Source> running_sources;
  std::string running_version;
  {
    // Only this call (serialised above) and the worker applying it change models; the worker
    // is idle with respect to swaps here, so what is read stays true until the staging below.
    std::lock_guard deployed(impl.deploy_mu);
    auto it = std::find_if(impl.models.begin(), impl.models.end(),
                           [&](const DeployedModel& m) { return m.deployment.manifest.name == d.manifest.name; });
    if (it == impl.models.end())
      return refuse(StatusCode::kNotFound, fmt::format("{}: no version of '{}' is deployed to replace",
                                                       source, d.manifest.name));
    index = static_cast<std::size_t>(it - impl.models.begin());
    const ModelManifest& running = it->deployment.manifest;
    if (running.version == d.manifest.version && it->deployment.dir == d.dir) return {};  // already running
    if (running.interface_id != d.manifest.interface_id)
      return refuse(StatusCode::kInvalidArgument,
                    fmt::format("{}: implements interface '{}', the running version {} '{}' (its outputs are "
                                "those series); deploy it under another name",
                                source, d.manifest.interface_id, running.version, running.interface_id));
    running_sources = it->sources;
    running_version = running.version;
  }
  auto dm = prepare(std::move(d), impl.model, impl.options, source);
  if (!dm) return refuse(dm.error().code(), dm.error().message());
  // Series are bound to (model, source) on the fan-out thread once; another set of signals needs
  // new bindings, which only a start gives.
  if (dm->sources != running_sources) {
    auto list = [](const std::vector<Source>& sources) {
      std::string out;
      for (const auto& in : sources) out += fmt::format("{}{}/{}", out.empty() ? "" : ", ", in.category, in.signal);
      return out;
    };
    return refuse(StatusCode::kInvalidArgument,
                  fmt::format("{}: reads [{}], the running version {} reads [{}]; a live switch keeps the input "
                              "signals (restart the node to deploy it)",
                              source, list(dm->sources), running_version, list(running_sources)));
  }
  if (!impl.worker.joinable()) {
    // Not started: no window to protect.
    std::lock_guard deployed(impl.deploy_mu);
    impl.models[index] = std::move(*dm);
    impl.swaps.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  std::unique_lock lock(impl.mu);
  if (impl.stopping) return refuse(StatusCode::kUnavailable, source + ": the scheduler is stopping");
  const std::uint64_t target = impl.swaps_applied + 1;
  impl.staged.emplace(Impl::StagedSwap{index, std::move(*dm)});
  impl.wake.notify_one();
  impl.swapped.wait(lock, [&] { return impl.swaps_applied >= target || !impl.staged.has_value(); });
  if (impl.swaps_applied < target)
    return refuse(StatusCode::kUnavailable, source + ": the scheduler stopped before the switch");
  return {};
}

std::string InferenceScheduler::running_version(std::string_view model) const {
  std::lock_guard deployed(impl_->deploy_mu);
  for (const auto& m : impl_->models)
    if (m.deployment.manifest.name == model) return m.deployment.manifest.version;
  return {};
}

void InferenceScheduler::start() {
  if (impl_->worker.joinable()) return;
  impl_->worker = std::thread([this] { impl_->run(); });
}

void InferenceScheduler::stop() {
  if (!impl_->worker.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->worker.join();
}

Admission InferenceScheduler::on_durable(const SampleBatch& batch) { return feed(batch); }
Admission InferenceScheduler::on_accepted(const SampleBatch& batch) { return feed(batch); }

Admission InferenceScheduler::feed(const SampleBatch& batch) {
  auto& impl = *impl_;
  std::lock_guard feeding(impl.feed_mu);
  impl.scratch.clear();
  for (const auto& s : batch.samples) {
    if (s.quality.severity() == Severity::kBad || !std::isfinite(s.value)) continue;  // not a measurement
    if (const SeriesBinding* b = impl.bind(s.series)) impl.scratch.push_back({b, s.ts_ns, s.value});
  }
  if (impl.scratch.empty()) return Admission::kAccepted;
  {
    std::lock_guard lock(impl.mu);
    if (impl.stopping || impl.pending.size() + impl.scratch.size() > impl.options.max_pending_samples) {
      impl.skipped_samples.fetch_add(impl.scratch.size(), std::memory_order_relaxed);
      return Admission::kRetryLater;
    }
    impl.pending.insert(impl.pending.end(), impl.scratch.begin(), impl.scratch.end());
  }
  impl.wake.notify_one();
  return Admission::kAccepted;
}

std::vector<std::string> InferenceScheduler::output_series(std::string_view model, std::string_view equipment) const {
  std::vector<std::string> out;
  std::lock_guard deployed(impl_->deploy_mu);
  for (const auto& m : impl_->models) {
    const auto& manifest = m.deployment.manifest;
    if (manifest.name != model) continue;
    for (const auto& o : manifest.outputs) out.push_back(output_path(equipment, manifest.interface_id, o.name));
  }
  return out;
}

InferenceStats InferenceScheduler::stats() const {
  const auto& impl = *impl_;
  InferenceStats s;
  s.runs = impl.runs.load();
  s.skipped_windows = impl.skipped_windows.load();
  s.skipped_samples = impl.skipped_samples.load();
  s.outputs_written = impl.outputs_written.load();
  s.dropped_outputs = impl.dropped_outputs.load();
  s.output_retries = impl.output_retries.load();
  s.swaps = impl.swaps.load();
  s.refused_swaps = impl.refused_swaps.load();
  s.unconfirmed_records = impl.unconfirmed_records.load();
  std::vector<std::int64_t> lat;
  {
    std::lock_guard lock(impl.latency_mu);
    lat = impl.latencies;
  }
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    s.latency_p50_ns = lat[lat.size() / 2];
    s.latency_p99_ns = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  }
  return s;
}

}  // namespace resonance::models
