// `resonance dataset create --from-historian` and `resonance dataset export` (issue 8).
#include "dataset_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <cmath>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

#include "commands.h"
#include "resonance/audit/log.h"
#include "resonance/audit/note.h"
#include "resonance/core/catalog.h"
#include "resonance/core/dir_lock.h"
#include "resonance/governance/gate.h"
#include "resonance/governance/labels.h"
#include "resonance/governance/policy.h"
#include "resonance/governance/records.h"
#include "resonance/historian/duration.h"
#include "resonance/historian/historian.h"
#include "resonance/infomodel/loader.h"
#include "resonance/models/dataset.h"
#include "resonance/models/frame_dataset.h"
#include "resonance/models/transform.h"
#include "resonance/models/window_dataset.h"

namespace resonance::app {

namespace {

namespace fs = std::filesystem;
using models::Dataset;
using models::DatasetStore;

void report(const Status& s, int code) {
  std::cerr << "error: " << s.message() << "\n";
  set_exit_code(code);
}

// A frame is built in memory: refuse a request whose grid alone would not fit comfortably.
constexpr std::int64_t kMaxGridPoints = 10'000'000;

Result<FrameRequest> frame_request(const HistorianDatasetOptions& o) {
  FrameRequest r;
  auto from = parse_timestamp(o.from);
  if (!from) return error(StatusCode::kInvalidArgument, fmt::format("--from '{}': {}", o.from, from.error().message()));
  auto to = parse_timestamp(o.to);
  if (!to) return error(StatusCode::kInvalidArgument, fmt::format("--to '{}': {}", o.to, to.error().message()));
  if (*to <= *from) {
    return error(StatusCode::kInvalidArgument, fmt::format("--to {} is not after --from {}", o.to, o.from));
  }
  const auto step = parse_duration_ns(o.step);
  if (!step || *step <= 0) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("--step '{}': expected a duration > 0 such as 500ms, 1s, 5m", o.step));
  }
  const auto staleness = o.max_staleness.empty() ? step : parse_duration_ns(o.max_staleness);
  if (!staleness || *staleness <= 0) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("--max-staleness '{}': expected a duration > 0 such as 1s, 5m", o.max_staleness));
  }
  if ((*to - *from) / *step > kMaxGridPoints) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("[--from, --to) at --step {} is {} grid points; at most {} per dataset (a larger step "
                             "or a shorter range)",
                             o.step, (*to - *from) / *step, kMaxGridPoints));
  }
  if (o.fill != "locf" && o.fill != "linear") {
    return error(StatusCode::kInvalidArgument, fmt::format("--fill '{}': expected locf or linear", o.fill));
  }
  r.from_ns = *from;
  r.to_ns = *to;
  r.step_ns = *step;
  r.max_staleness_ns = *staleness;
  r.fill = o.fill == "locf" ? FrameFill::kLocf : FrameFill::kLinear;
  return r;
}

}  // namespace

// --window: every input series read from the start of its window before the first grid point,
// Bad quality left out as live inference leaves it out, then window features per grid point
// (models::dataset_from_windows, the computation live inference shares).
void create_window_dataset(const HistorianDatasetOptions& o, const models::FrameSpec& frame, const fs::path& dir,
                           const std::string& store_dir) {
  const auto window = parse_duration_ns(o.window);
  if (!window || *window < 0)
    return report(Status(StatusCode::kInvalidArgument,
                         fmt::format("--window '{}': expected a duration such as 30s, 5m (0: the newest sample)", o.window)),
                  2);
  models::WindowDatasetSpec spec;
  spec.label = o.label;
  spec.label_staleness_ns = frame.request.max_staleness_ns;
  spec.from_ns = frame.request.from_ns;
  spec.to_ns = frame.request.to_ns;
  spec.step_ns = frame.request.step_ns;
  const std::vector<std::string> features = o.window_features.empty() ? std::vector<std::string>{"mean"} : o.window_features;
  for (const auto& path : o.series) {
    if (path == o.label) continue;
    for (const auto& f : features) {
      if (!models::is_window_feature(f))
        return report(Status(StatusCode::kInvalidArgument,
                             fmt::format("--window-features '{}': not a window feature (last, value, mean, std, slope, min, max)", f)),
                      2);
      spec.columns.push_back({path, f, *window});
    }
  }
  if (spec.columns.empty())
    return report(Status(StatusCode::kInvalidArgument, "--window: give at least one --series besides the label"), 2);
  HistorianOptions hopts;
  hopts.dir = dir / "historian";
  auto historian = open_historian(hopts);
  if (!historian) return report(historian.error(), 1);
  models::SeriesHistory history;
  for (std::size_t k = 0; k < frame.series_paths.size(); ++k) {
    const std::string& path = frame.series_paths[k];
    const std::int64_t reach = path == o.label ? spec.label_staleness_ns : *window;
    // The historian's range is [from, to): +1 takes the grid's last point's own samples too.
    constexpr std::size_t kMaxSamples = 50'000'000;
    const auto samples = (*historian)->range(frame.request.series[k], spec.from_ns - reach, spec.to_ns + 1, kMaxSamples);
    if (samples.size() == kMaxSamples) {
      (*historian)->close();
      return report(Status(StatusCode::kInvalidArgument,
                           fmt::format("--series '{}': more than {} samples in the range; narrow --from/--to", path,
                                       kMaxSamples)),
                    2);
    }
    auto& h = history[path];
    for (const auto& s : samples) {
      if (s.quality.severity() == Severity::kBad || !std::isfinite(s.value)) continue;  // as live inference
      h.ts_ns.push_back(s.ts_ns);
      h.values.push_back(s.value);
    }
  }
  (*historian)->close();
  std::size_t skipped = 0;
  auto ds = models::dataset_from_windows(spec, history, &skipped);
  if (!ds) return report(ds.error(), 2);
  auto id = DatasetStore(store_dir).put(*ds);
  if (!id) return report(id.error(), 1);
  std::cerr << fmt::format("{} rows × {} window features, label '{}' ({} grid points skipped: a window or the label "
                           "had no sample)\n",
                           ds->rows, ds->cols(), ds->label_name, skipped);
  std::cout << *id << "\n";
}

void create_dataset_from_historian(const HistorianDatasetOptions& o, const std::string& store_dir) {
  auto request = frame_request(o);
  if (!request) return report(request.error(), 2);
  const fs::path dir = o.data_dir;
  std::error_code ec;
  if (!fs::is_regular_file(dir / "catalog.sqlite", ec) || !fs::is_directory(dir / "historian", ec)) {
    return report(Status(StatusCode::kNotFound,
                         fmt::format("--from-historian '{}': not a node data directory (expected catalog.sqlite and "
                                     "historian/ in it: the node's node.data_dir)",
                                     o.data_dir)),
                  2);
  }
  // The historian has no read-only mode: opening it replays and may compact its WAL. So the CLI
  // takes the data directory's lock as a node does, and refuses while a node holds it.
  auto lock = DirLock::acquire(dir);
  if (!lock) {
    return report(Status(lock.error().code(),
                         fmt::format("--from-historian: {} (the historian is read under the node's lock)",
                                     lock.error().message())),
                  1);
  }
  auto catalog = SeriesCatalog::open(dir / "catalog.sqlite");
  if (!catalog) return report(catalog.error(), 1);

  models::FrameSpec spec;
  spec.series_paths = o.series;
  if (std::find(o.series.begin(), o.series.end(), o.label) == o.series.end()) spec.series_paths.push_back(o.label);
  spec.label = o.label;
  for (const auto& path : spec.series_paths) {
    const char* option = path == o.label ? "--label" : "--series";
    if (Status s = validate_series_path(path); !s) {
      return report(Status(s.code(), fmt::format("{} '{}': {}", option, path, s.message())), 2);
    }
    const auto info = (*catalog)->find(std::string_view(path));
    if (!info) {
      return report(Status(StatusCode::kNotFound, fmt::format("{} '{}': no such series in {} ({} series known)", option,
                                                              path, (dir / "catalog.sqlite").string(),
                                                              (*catalog)->list().size())),
                    2);
    }
    request->series.push_back(info->id);
  }
  spec.request = *request;
  if (!o.window.empty()) {
    if (!o.transform.empty())
      return report(Status(StatusCode::kInvalidArgument,
                           "--transform applies to an imported file or a frame dataset, not to --window (its columns are "
                           "window features already)"),
                    2);
    return create_window_dataset(o, spec, dir, store_dir);
  }
  std::optional<models::Transform> transform;
  if (!o.transform.empty()) {
    auto text = models::read_file_bytes(o.transform);
    if (!text) return report(text.error(), 2);
    auto t = models::Transform::parse(*text, o.transform);
    if (!t) return report(t.error(), 2);
    // A frame resamples the series on a grid; a window of grid rows is not a window of samples, as
    // live inference would read it.
    if (t->uses_windows())
      return report(Status(StatusCode::kInvalidArgument,
                           fmt::format("{}: a transform over a frame dataset cannot use window (the frame resamples the "
                                       "series on its grid); use --window for window features",
                                       o.transform)),
                    2);
    transform = std::move(*t);
  }

  HistorianOptions hopts;
  hopts.dir = dir / "historian";
  auto historian = open_historian(hopts);
  if (!historian) return report(historian.error(), 1);
  const Frame frame = (*historian)->frame(spec.request);
  (*historian)->close();

  std::size_t skipped = 0;
  auto ds = models::dataset_from_frame(frame, spec, &skipped);
  if (!ds) return report(ds.error(), 2);
  auto id = DatasetStore(store_dir).put(*ds);
  if (!id) return report(id.error(), 1);
  if (transform) {
    // The frame dataset is the parent; the transform computes from the frame's doubles.
    auto table = models::frame_table(frame, spec);
    if (!table) return report(table.error(), 2);
    std::vector<models::SourceRef> sources = ds->lineage.sources;
    sources.push_back({"dataset", *id, *id, 0, 0});
    models::TransformReport rep;
    auto derived = models::derive_dataset(*table, *transform, o.label, "", std::move(sources), &rep);
    if (!derived) return report(derived.error(), 2);
    auto derived_id = DatasetStore(store_dir).put(*derived);
    if (!derived_id) return report(derived_id.error(), 1);
    std::cerr << fmt::format("frame dataset {}: {} rows; {} rows × {} columns by transform {}{}\n", *id, ds->rows,
                             derived->rows, derived->cols(), transform->sha256(),
                             rep.skipped_rows == 0 ? std::string()
                                                   : fmt::format(", {} rows skipped, the first: row {}: {}",
                                                                 rep.skipped_rows, rep.first_skipped_row,
                                                                 rep.first_gap.message()));
    std::cout << *derived_id << "\n";
    return;
  }
  std::cerr << fmt::format("{} rows × {} features, label '{}' ({} of {} grid points skipped: a series had no value)\n",
                           ds->rows, ds->cols(), ds->label_name, skipped, frame.grid.size());
  std::cout << *id << "\n";
}

namespace {

struct ExportOptions {
  std::string id, destination, purpose, policy, out, audit_dir, audit_key, model_dir;
};

// Every series a dataset was built from, following parent datasets through the store (a derived
// dataset is labelled by the series under its parents too).
Status collect_series(const DatasetStore& store, const Dataset& ds, std::set<std::string>& series, int depth = 0) {
  if (depth > 32) return {StatusCode::kInvalidArgument, "dataset lineage: parent datasets nest more than 32 deep"};
  for (const auto& source : ds.lineage.sources) {
    if (source.kind == "series") {
      series.insert(source.name);
    } else if (source.kind == "dataset") {
      auto parent = store.get(source.name);
      if (!parent) {
        return {StatusCode::kNotFound,
                fmt::format("dataset lineage: parent dataset {} is not in {}: its labels cannot be derived ({})",
                            source.name, store.dir().string(), parent.error().message())};
      }
      if (Status s = collect_series(store, *parent, series, depth + 1); !s) return s;
    }
  }
  return {};
}

// Writes `bytes` to `path` so that it is either absent or complete: a temporary file in the same
// directory, synced, then renamed over the target.
Status write_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path tmp = path.string() + fmt::format(".partial-{}", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {StatusCode::kIoError, fmt::format("{}: cannot create: {}", tmp.string(), std::strerror(errno))};
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return {StatusCode::kIoError, fmt::format("{}: write failed: {}", tmp.string(), std::strerror(err))};
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return {StatusCode::kIoError, fmt::format("{}: cannot complete: {}", path.string(), std::strerror(err))};
  }
  return {};
}

// The decision goes into the audit log before any byte leaves: an export the log does not show
// must not happen.
Status append_decisions(const ExportOptions& o, const std::vector<governance::DecisionRecord>& records) {
  auto signer = audit::Signer::load(o.audit_key);
  if (!signer) return {signer.error().code(), fmt::format("--audit-key '{}': {}", o.audit_key, signer.error().message())};
  auto log = audit::Log::open(o.audit_dir, std::move(*signer));
  if (!log) return {log.error().code(), fmt::format("--audit-dir '{}': {}", o.audit_dir, log.error().message())};
  for (const auto& record : records) {
    auto index = (*log)->append({audit::EntryType::kPolicyDecision, record.at_ns, governance::to_json(record)});
    if (!index) return index.error();
  }
  auto checkpoint = (*log)->checkpoint();
  if (!checkpoint) return checkpoint.error();
  return {};
}

void export_dataset(const ExportOptions& o, const std::string& store_dir) {
  if (o.audit_dir.empty() != o.audit_key.empty()) {
    return report(Status(StatusCode::kInvalidArgument,
                         "--audit-dir and --audit-key go together (the log signs its checkpoints with the key)"),
                  2);
  }
  const DatasetStore store(store_dir);
  auto ds = store.get(o.id);
  if (!ds) return report(ds.error(), 2);
  const std::string id = models::dataset_id(*ds);
  auto policy = governance::load_policy_file(o.policy);
  if (!policy) return report(policy.error(), 2);
  infomodel::Model loaded_model;
  const infomodel::Model* model = &infomodel::builtin_model();
  if (!o.model_dir.empty()) {
    auto m = infomodel::load_model_dir(o.model_dir);
    if (!m) return report(m.error(), 2);
    loaded_model = std::move(*m);
    model = &loaded_model;
  }

  // Subjects: every input series with its own labels and scope, and the dataset itself with the
  // strictest of them (GB/T 43697 "就高从严"; no transformation lowers it here). A dataset from a
  // file has no labelled inputs and gets the default labels under its own scope.
  std::set<std::string> series;
  if (Status s = collect_series(store, *ds, series); !s) return report(s, 2);
  std::vector<governance::Subject> subjects;
  std::vector<governance::Labels> inputs;
  for (const auto& path : series) {
    subjects.push_back(governance::make_subject(*policy, model, path));
    inputs.push_back(subjects.back().labels);
  }
  governance::Subject dataset_subject{{}, "dataset:" + id};
  if (!inputs.empty()) {
    auto derived = governance::derive_labels(inputs, nullptr);
    if (!derived) return report(derived.error(), 2);
    dataset_subject.labels = derived->result;
  }
  subjects.push_back(std::move(dataset_subject));

  auto shared = std::make_shared<const governance::Policy>(std::move(*policy));
  governance::MemoryDecisionSink sink;
  governance::EgressGate gate(shared, sink);
  const governance::Decision decision = gate.decide(subjects, o.destination, o.purpose, unix_now_ns());
  if (!o.audit_dir.empty()) {
    if (Status s = append_decisions(o, sink.records()); !s) {
      return report(Status(s.code(), fmt::format("audit log: {}; nothing exported", s.message())), 1);
    }
  }
  const std::string labels = governance::describe(subjects.back().labels);
  if (!decision.allowed()) {
    std::cerr << fmt::format("error: export of dataset {} to '{}' for '{}' denied: {}: {}\n  dataset labels: {}\n", id,
                             o.destination, o.purpose, decision.rule, decision.reason, labels);
    set_exit_code(1);
    return;
  }
  const std::string bytes = models::encode_dataset(*ds);
  if (Status s = write_atomically(o.out, bytes); !s) return report(s, 1);
  std::cout << fmt::format("allowed ({}{}): dataset {} ({} series, labels: {}) written to {} ({} bytes) for '{}', "
                           "purpose '{}'\n",
                           decision.rule, decision.record.empty() ? "" : ", " + decision.record, id, series.size(),
                           labels, o.out, bytes.size(), o.destination, o.purpose);
}

}  // namespace

void register_dataset_export(CLI::App& dataset_command, const std::string& store_dir) {
  static ExportOptions o;
  auto* cmd = dataset_command.add_subcommand(
      "export", "Write a dataset out for a destination if the governance policy allows it "
                "(exit 0 written, 1 denied or not written, 2 bad input)");
  cmd->add_option("ID", o.id, "Dataset id (or a unique prefix of 8+ characters)")->required();
  cmd->add_option("--destination", o.destination, "Recipient, a destination id the policy declares")->required();
  cmd->add_option("--purpose", o.purpose, "Purpose of the transfer")->required();
  cmd->add_option("--policy", o.policy, "Policy file (TOML, docs/formats/policy.md)")->required();
  cmd->add_option("--out", o.out, "File to write the dataset to (canonical encoding, docs/formats/dataset.md)")->required();
  cmd->add_option("--audit-dir", o.audit_dir, "Append the decision to this transparency log (docs/audit.md)");
  cmd->add_option("--audit-key", o.audit_key, "The log's signing key (resonance audit keygen), with --audit-dir");
  cmd->add_option("--model", o.model_dir, "Information-model directory for series labels (default: built-in)");
  cmd->callback([&store_dir] { export_dataset(o, store_dir); });
}

}  // namespace resonance::app
