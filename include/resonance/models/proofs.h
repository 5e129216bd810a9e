#pragma once
// The real-data proofs (issue 8): each goes through the project's own path — import the files as
// published (table.h), create content-addressed datasets with lineage (dataset.h), train and
// evaluate with XGBoost (evaluate.h) — and returns the figures to print next to the published
// table in /work/shared/data/README.md (docs/models.md repeats it).

#include <filesystem>
#include <string>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/models/dataset.h"
#include "resonance/models/evaluate.h"
#include "resonance/models/transform.h"

namespace resonance::models {

// ---- NASA C-MAPSS (FD001) remaining useful life ------------------------------------------------

inline constexpr int kCmapssWindow = 30;     // cycles of history per feature window
inline constexpr double kCmapssCap = 125.0;  // piecewise-linear RUL target cap (cycles)

// The 26 columns of a C-MAPSS text file: unit, cycle, setting1..3, s1..s21.
std::vector<std::string> cmapss_column_names();
// Sensors whose standard deviation in `train` exceeds 0.01 (14 of 21 in FD001).
Result<std::vector<std::string>> cmapss_informative_sensors(const Table& train);

// Windowed features per (unit, cycle): the last value, mean, standard deviation and least-squares
// slope of each sensor over the last `window` cycles (fewer at the start of a unit), plus the
// cycle number. Training rows: every cycle, label min(cap, cycles left). Test rows
// (`test_truth` given): the last cycle of each unit, label its true RUL (raw, not capped).
struct CmapssFeatureOptions {
  std::vector<std::string> sensors;
  int window = kCmapssWindow;
  double cap = kCmapssCap;
  const std::vector<float>* test_truth = nullptr;
};
Result<Dataset> cmapss_features(const Table& table, const CmapssFeatureOptions& options, const Lineage& lineage);

struct CmapssProof {
  std::string train_dataset, test_dataset;  // ids in the store
  std::size_t train_rows = 0, test_units = 0, features = 0;
  Metrics capped;  // truth capped at kCmapssCap, as most papers evaluate
  Metrics raw;     // against the raw truth
  std::string model_json;  // the trained booster (XGBoost JSON)
  TrainParams params;
  double seconds = 0;
};
// `data_dir` holds train_FD001.txt, test_FD001.txt and RUL_FD001.txt as published.
Result<CmapssProof> run_cmapss_proof(const std::filesystem::path& data_dir, const std::filesystem::path& store_dir,
                                     int nthread, const ProgressFn& progress = {});

// ---- AI4I 2020 failure classification -----------------------------------------------------------

// Never inputs: the five failure-mode flags define the label ("Machine failure").
inline constexpr const char* kAi4iLeakingColumns[] = {"TWF", "HDF", "PWF", "OSF", "RNF"};

// The six raw inputs (Type coded H=0, L=1, M=2) plus the physics of the failure modes: temperature
// difference [K], mechanical power [W], strain = wear × torque [min·Nm], and strain over the
// overstrain limit of the product type (L 11,000, M 12,000, H 13,000 min·Nm per the dataset's
// description), the power margin inside the 3,500–9,000 W band and the heat-dissipation margin
// (8.6 K temperature difference, 1,380 rpm), computed in double precision from the imported
// table by the transform ai4i_physics_transform() (transform.h), the code live inference runs too.
// Lineage names the file, the raw dataset `raw_id` and the transform.
const Transform& ai4i_physics_transform();
Result<Dataset> ai4i_physics_features(const Table& table, std::string_view file_sha256, std::string_view raw_id);

struct Ai4iProof {
  std::string raw_dataset, dataset;
  std::vector<std::string> features;
  CvResult cv;
  TrainParams params;
  CvOptions cv_options;
  double seconds = 0;
};
// `csv` is ai4i2020.csv as published.
Result<Ai4iProof> run_ai4i_proof(const std::filesystem::path& csv, const std::filesystem::path& store_dir, int nthread,
                                 const ProgressFn& progress = {});

}  // namespace resonance::models
