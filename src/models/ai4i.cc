// AI4I 2020 failure-classification proof, without leakage: the five failure-mode flags are
// excluded from the inputs when the dataset is created, and the check below refuses to go on if
// any of them is still there.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "resonance/models/proofs.h"
#include "resonance/models/transform.h"

namespace resonance::models {

namespace {

constexpr const char* kType = "Type";

// The physics of the failure modes as the dataset's description states them, as a transform
// (docs/formats/transform.md): the same code computes these columns offline here and live in the
// inference scheduler. Every value is a double computed from the file's decimal values in the order
// written (the failure rules compare with 8.6 K and 3,500 W exactly, and rows sit on those
// boundaries; a margin's sign survives the float cast). Type codes as dataset_from_table gives them
// (sorted: H=0, L=1, M=2).
constexpr std::string_view kAi4iPhysics = R"({
  "transform_version": 1,
  "inputs": [
    {"name": "Type", "type": "code", "codes": {"H": 0, "L": 1, "M": 2}},
    "Air temperature [K]", "Process temperature [K]", "Rotational speed [rpm]", "Torque [Nm]",
    "Tool wear [min]"
  ],
  "define": [
    {"name": "temperature difference [K]", "op": "difference",
     "args": ["Process temperature [K]", "Air temperature [K]"]},
    {"name": "torque x speed x 2pi", "op": "product",
     "args": ["Torque [Nm]", "Rotational speed [rpm]", 2, 3.141592653589793]},
    {"name": "power [W]", "op": "ratio", "args": ["torque x speed x 2pi", 60]},
    {"name": "strain [min Nm]", "op": "product", "args": ["Tool wear [min]", "Torque [Nm]"]},
    {"name": "overstrain limit", "op": "lookup", "args": ["Type"],
     "table": {"H": 13000, "L": 11000, "M": 12000}},
    {"name": "strain / type limit", "op": "ratio", "args": ["strain [min Nm]", "overstrain limit"]},
    {"name": "power above 3500 W", "op": "difference", "args": ["power [W]", 3500]},
    {"name": "power below 9000 W", "op": "difference", "args": [9000, "power [W]"]},
    {"name": "power margin [W]", "op": "min", "args": ["power above 3500 W", "power below 9000 W"]},
    {"name": "temperature difference below 8.6 K", "op": "difference",
     "args": [8.6, "temperature difference [K]"]},
    {"name": "speed below 1380 rpm", "op": "difference", "args": [1380, "Rotational speed [rpm]"]},
    {"name": "speed below 1380 rpm / 100", "op": "ratio", "args": ["speed below 1380 rpm", 100]},
    {"name": "heat dissipation margin", "op": "min",
     "args": ["temperature difference below 8.6 K", "speed below 1380 rpm / 100"]}
  ],
  "columns": [
    "Type", "Air temperature [K]", "Process temperature [K]", "Rotational speed [rpm]", "Torque [Nm]",
    "Tool wear [min]", "temperature difference [K]", "power [W]", "strain [min Nm]", "strain / type limit",
    "power margin [W]", "heat dissipation margin"
  ]
})";

}  // namespace

const Transform& ai4i_physics_transform() {
  static const Transform transform = *Transform::parse(kAi4iPhysics, "ai4i_physics");
  return transform;
}

Result<Dataset> ai4i_physics_features(const Table& table, std::string_view file_sha256, std::string_view raw_id) {
  auto type = table.column(kType);
  if (!type) return std::unexpected(type.error());
  if ((*type)->type != ColumnType::kText) {
    return error(StatusCode::kInvalidArgument, fmt::format("{}: column '{}' should hold L, M or H", table.source, kType));
  }
  TransformReport report;
  auto ds = derive_dataset(table, ai4i_physics_transform(), "Machine failure", "",
                           {{"file", std::filesystem::path(table.source).filename().string(), std::string(file_sha256), 0, 0},
                            {"dataset", std::string(raw_id), std::string(raw_id), 0, 0}},
                           &report);
  if (!ds) return ds;
  // Every row of the published file is computable (no division by a zero limit, every Type coded).
  if (report.skipped_rows > 0)
    return error(StatusCode::kInvalidArgument, fmt::format("{}: row {}: {}", table.source, report.first_skipped_row,
                                                           report.first_gap.message()));
  return ds;
}

Result<Ai4iProof> run_ai4i_proof(const std::filesystem::path& csv, const std::filesystem::path& store_dir, int nthread,
                                 const ProgressFn& progress) {
  const auto started = std::chrono::steady_clock::now();
  auto bytes = read_file_bytes(csv);
  if (!bytes) return std::unexpected(bytes.error());
  auto table = parse_table(*bytes, csv.string(), ReadOptions{});
  if (!table) return std::unexpected(table.error());

  DatasetSpec spec;
  spec.label = "Machine failure";
  spec.exclude = {"UDI", "Product ID"};
  for (const char* flag : kAi4iLeakingColumns) spec.exclude.emplace_back(flag);
  spec.categorical = {kType};
  auto raw = dataset_from_table(*table, spec, sha256_hex(*bytes));
  if (!raw) return std::unexpected(raw.error());
  DatasetStore store(store_dir / "datasets");
  auto raw_id = store.put(*raw);
  if (!raw_id) return std::unexpected(raw_id.error());
  // The raw import (six inputs, flags excluded) is stored first; the physics features are derived
  // from the same file, and their lineage names both.
  auto ds = ai4i_physics_features(*table, sha256_hex(*bytes), *raw_id);
  if (!ds) return std::unexpected(ds.error());
  for (const auto& name : ds->feature_names) {
    for (const char* flag : kAi4iLeakingColumns) {
      if (name == flag) return error(StatusCode::kInternal, fmt::format("leak: failure-mode flag '{}' is an input", flag));
    }
  }
  auto id = store.put(*ds);
  if (!id) return std::unexpected(id.error());
  auto stored = store.get(*id);
  if (!stored) return std::unexpected(stored.error());

  Ai4iProof proof;
  proof.raw_dataset = *raw_id;
  proof.dataset = *id;
  proof.features = stored->feature_names;
  proof.params.task = Task::kBinary;
  proof.params.rounds = 150;
  proof.params.max_depth = 2;
  proof.params.eta = 0.2;
  proof.params.tree_method = "exact";
  proof.params.nthread = nthread;
  proof.cv_options = {CvKind::kStratified, 5, 42};
  auto cv = cross_validate(*stored, proof.params, proof.cv_options, progress);
  if (!cv) return std::unexpected(cv.error());
  proof.cv = std::move(*cv);
  proof.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return proof;
}

}  // namespace resonance::models
