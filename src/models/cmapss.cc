// C-MAPSS FD001 remaining-useful-life proof: windowed sensor features, capped RUL target.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include "resonance/models/proofs.h"

namespace resonance::models {

std::vector<std::string> cmapss_column_names() {
  std::vector<std::string> names = {"unit", "cycle", "setting1", "setting2", "setting3"};
  for (int s = 1; s <= 21; ++s) names.push_back(fmt::format("s{}", s));
  return names;
}

Result<std::vector<std::string>> cmapss_informative_sensors(const Table& train) {
  std::vector<std::string> sensors;
  for (int s = 1; s <= 21; ++s) {
    const auto name = fmt::format("s{}", s);
    auto col = train.number_column(name);
    if (!col) return std::unexpected(col.error());
    const auto& v = (*col)->numbers;
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean);
    if (std::sqrt(var / static_cast<double>(v.size())) > 0.01) sensors.push_back(name);
  }
  return sensors;
}

Result<Dataset> cmapss_features(const Table& table, const CmapssFeatureOptions& opt, const Lineage& lineage) {
  auto unit_col = table.number_column("unit");
  if (!unit_col) return std::unexpected(unit_col.error());
  auto cycle_col = table.number_column("cycle");
  if (!cycle_col) return std::unexpected(cycle_col.error());
  std::vector<const std::vector<double>*> sensors;
  for (const auto& name : opt.sensors) {
    auto c = table.number_column(name);
    if (!c) return std::unexpected(c.error());
    sensors.push_back(&(*c)->numbers);
  }
  if (opt.window < 1) return error(StatusCode::kInvalidArgument, "window must be at least one cycle");
  const auto& unit = (*unit_col)->numbers;
  const auto& cycle = (*cycle_col)->numbers;

  // Rows of each unit in cycle order (the files are sorted, but nothing here relies on it).
  std::map<std::int64_t, std::vector<std::size_t>> by_unit;
  for (std::size_t r = 0; r < table.rows; ++r) by_unit[static_cast<std::int64_t>(unit[r])].push_back(r);
  if (opt.test_truth != nullptr && opt.test_truth->size() != by_unit.size()) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}: {} units but {} true RUL values", table.source, by_unit.size(), opt.test_truth->size()));
  }

  Dataset ds;
  ds.label_name = "rul";
  ds.group_name = "unit";
  ds.feature_names.push_back("cycle");
  for (const auto& s : opt.sensors) {
    for (const char* stat : {"last", "mean", "std", "slope"}) ds.feature_names.push_back(fmt::format("{}_{}", s, stat));
  }
  ds.lineage = lineage;
  std::size_t unit_index = 0;
  for (auto& [u, rows] : by_unit) {
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) { return cycle[a] < cycle[b]; });
    const double last_cycle = cycle[rows.back()];
    const std::size_t first_out = opt.test_truth != nullptr ? rows.size() - 1 : 0;
    for (std::size_t j = first_out; j < rows.size(); ++j) {
      const std::size_t begin = j + 1 >= static_cast<std::size_t>(opt.window) ? j + 1 - static_cast<std::size_t>(opt.window) : 0;
      const double n = static_cast<double>(j + 1 - begin);
      ds.features.push_back(static_cast<float>(cycle[rows[j]]));
      // Least squares against the cycle: slope = Σ(t−t̄)(x−x̄) / Σ(t−t̄)².
      double t_mean = 0;
      for (std::size_t i = begin; i <= j; ++i) t_mean += cycle[rows[i]];
      t_mean /= n;
      double t_var = 0;
      for (std::size_t i = begin; i <= j; ++i) t_var += (cycle[rows[i]] - t_mean) * (cycle[rows[i]] - t_mean);
      for (const auto* values : sensors) {
        double mean = 0;
        for (std::size_t i = begin; i <= j; ++i) mean += (*values)[rows[i]];
        mean /= n;
        double var = 0, cov = 0;
        for (std::size_t i = begin; i <= j; ++i) {
          const double d = (*values)[rows[i]] - mean;
          var += d * d;
          cov += (cycle[rows[i]] - t_mean) * d;
        }
        ds.features.push_back(static_cast<float>((*values)[rows[j]]));
        ds.features.push_back(static_cast<float>(mean));
        ds.features.push_back(static_cast<float>(std::sqrt(var / n)));
        ds.features.push_back(static_cast<float>(t_var > 0 ? cov / t_var : 0.0));
      }
      const float label = opt.test_truth != nullptr
                              ? (*opt.test_truth)[unit_index]
                              : static_cast<float>(std::min(opt.cap, last_cycle - cycle[rows[j]]));
      ds.labels.push_back(label);
      ds.groups.push_back(u);
      ++ds.rows;
    }
    ++unit_index;
  }
  if (Status s = ds.validate(); !s) return error(s.code(), fmt::format("{}: {}", table.source, s.message()));
  return ds;
}

Result<CmapssProof> run_cmapss_proof(const std::filesystem::path& data_dir, const std::filesystem::path& store_dir,
                                     int nthread, const ProgressFn& progress) {
  const auto started = std::chrono::steady_clock::now();
  ReadOptions text;
  text.format = TextFormat::kWhitespace;
  text.header = false;
  text.names = cmapss_column_names();
  for (const auto& n : text.names) text.types[n] = ColumnType::kNumber;

  struct Imported {
    Table table;
    std::string sha256;
  };
  auto import = [&](const char* name) -> Result<Imported> {
    auto bytes = read_file_bytes(data_dir / name);
    if (!bytes) return std::unexpected(bytes.error());
    auto table = parse_table(*bytes, (data_dir / name).string(), text);
    if (!table) return std::unexpected(table.error());
    return Imported{std::move(*table), sha256_hex(*bytes)};
  };
  auto train = import("train_FD001.txt");
  if (!train) return std::unexpected(train.error());
  auto test = import("test_FD001.txt");
  if (!test) return std::unexpected(test.error());
  ReadOptions rul_options;
  rul_options.format = TextFormat::kWhitespace;
  rul_options.header = false;
  rul_options.names = {"rul"};
  rul_options.types["rul"] = ColumnType::kNumber;
  auto rul_bytes = read_file_bytes(data_dir / "RUL_FD001.txt");
  if (!rul_bytes) return std::unexpected(rul_bytes.error());
  auto rul = parse_table(*rul_bytes, (data_dir / "RUL_FD001.txt").string(), rul_options);
  if (!rul) return std::unexpected(rul.error());
  std::vector<float> truth;
  for (double v : rul->columns[0].numbers) truth.push_back(static_cast<float>(v));

  auto sensors = cmapss_informative_sensors(train->table);
  if (!sensors) return std::unexpected(sensors.error());
  CmapssFeatureOptions opt;
  opt.sensors = *sensors;
  std::string sensor_list;
  for (const auto& s : *sensors) sensor_list += (sensor_list.empty() ? "" : ",") + s;
  const std::string transform =
      fmt::format("cmapss_window_v1 window={} cap={} sensors={}", opt.window, opt.cap, sensor_list);

  Lineage train_lineage{{{"file", "train_FD001.txt", train->sha256, 0, 0}}, transform};
  auto train_ds = cmapss_features(train->table, opt, train_lineage);
  if (!train_ds) return std::unexpected(train_ds.error());
  opt.test_truth = &truth;
  Lineage test_lineage{{{"file", "test_FD001.txt", test->sha256, 0, 0}, {"file", "RUL_FD001.txt", sha256_hex(*rul_bytes), 0, 0}},
                       transform + " last_cycle_only truth=raw"};
  auto test_ds = cmapss_features(test->table, opt, test_lineage);
  if (!test_ds) return std::unexpected(test_ds.error());

  DatasetStore store(store_dir / "datasets");
  CmapssProof proof;
  auto train_id = store.put(*train_ds);
  if (!train_id) return std::unexpected(train_id.error());
  auto test_id = store.put(*test_ds);
  if (!test_id) return std::unexpected(test_id.error());
  proof.train_dataset = *train_id;
  proof.test_dataset = *test_id;

  // Train from the stored (and re-verified) datasets, so the proof covers the store too.
  auto stored_train = store.get(*train_id);
  if (!stored_train) return std::unexpected(stored_train.error());
  auto stored_test = store.get(*test_id);
  if (!stored_test) return std::unexpected(stored_test.error());

  proof.params.task = Task::kRegression;
  proof.params.rounds = 400;
  proof.params.max_depth = 4;
  proof.params.eta = 0.05;
  proof.params.nthread = nthread;
  auto model = XgbModel::train({stored_train->features.data(), stored_train->rows, stored_train->cols()},
                               stored_train->labels, proof.params, progress);
  if (!model) return std::unexpected(model.error());
  auto predicted = model->predict({stored_test->features.data(), stored_test->rows, stored_test->cols()});
  if (!predicted) return std::unexpected(predicted.error());
  for (float& p : *predicted) p = std::clamp(p, 0.0f, static_cast<float>(kCmapssCap));
  std::vector<float> capped = stored_test->labels;
  for (float& t : capped) t = std::min(t, static_cast<float>(kCmapssCap));
  proof.capped = evaluate_predictions(Task::kRegression, *predicted, capped);
  proof.raw = evaluate_predictions(Task::kRegression, *predicted, stored_test->labels);
  proof.train_rows = stored_train->rows;
  proof.test_units = stored_test->rows;
  proof.features = stored_train->cols();
  auto saved = model->save();
  if (!saved) return std::unexpected(saved.error());
  proof.model_json = std::move(*saved);
  proof.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return proof;
}

}  // namespace resonance::models
