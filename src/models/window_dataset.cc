// Window-feature datasets from history (window_dataset.h).

#include "resonance/models/window_dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace resonance::models {

namespace {

constexpr std::string_view kTransform = "historian_window";

Result<const WindowInput*> series_of(const SeriesHistory& history, const std::string& path) {
  const auto it = history.find(path);
  if (it == history.end())
    return error(StatusCode::kInvalidArgument,
                 fmt::format("series '{}': no history was read for it", path));
  return &it->second;
}

// "key=123" inside the lineage transform text.
std::optional<std::int64_t> transform_param(std::string_view transform, std::string_view key) {
  const std::string needle = fmt::format(" {}=", key);
  const auto at = transform.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  const char* begin = transform.data() + at + needle.size();
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(begin, transform.data() + transform.size(), v);
  if (ec != std::errc() || end == begin) return std::nullopt;
  return v;
}

}  // namespace

Result<std::vector<std::optional<std::vector<double>>>> window_rows(
    std::span<const WindowColumn> columns, const SeriesHistory& history,
    std::span<const TimestampNs> times) {
  std::vector<const WindowInput*> series;
  for (const auto& c : columns) {
    auto s = series_of(history, c.series);
    if (!s) return error(s.error());
    if (!is_window_feature(c.feature))
      return error(StatusCode::kInvalidArgument,
                   fmt::format("column '{}': '{}' is not a window feature (last, value, "
                               "mean, std, slope, min, max)",
                               window_column_name(c), c.feature));
    series.push_back(*s);
  }
  std::vector<std::optional<std::vector<double>>> rows;
  rows.reserve(times.size());
  WindowInput window;
  for (const TimestampNs t : times) {
    std::vector<double> row;
    row.reserve(columns.size());
    for (std::size_t k = 0; k < columns.size(); ++k) {
      select_window(*series[k], t, columns[k].window_ns, window);
      auto v = window_feature(columns[k].feature, window);
      if (!v) break;  // an empty window: no row at t, as live inference skips the window
      row.push_back(*v);
    }
    if (row.size() == columns.size())
      rows.emplace_back(std::move(row));
    else
      rows.emplace_back(std::nullopt);
  }
  return rows;
}

Result<Dataset> dataset_from_windows(const WindowDatasetSpec& spec, const SeriesHistory& history,
                                     std::size_t* skipped_rows) {
  if (spec.columns.empty())
    return error(StatusCode::kInvalidArgument, "a window dataset needs at least one input column");
  if (spec.step_ns <= 0 || spec.to_ns <= spec.from_ns)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("window dataset grid: step {} ns over [{}, {}) ns has no point",
                             spec.step_ns, spec.from_ns, spec.to_ns));
  auto label = series_of(history, spec.label);
  if (!label) return error(label.error());
  std::vector<TimestampNs> grid;
  for (TimestampNs t = spec.from_ns; t < spec.to_ns; t += spec.step_ns) grid.push_back(t);
  auto rows = window_rows(spec.columns, history, grid);
  if (!rows) return error(rows.error());

  Dataset ds;
  ds.label_name = spec.label;
  for (const auto& c : spec.columns) ds.feature_names.push_back(window_column_name(c));
  std::size_t skipped = 0;
  WindowInput window;
  for (std::size_t r = 0; r < grid.size(); ++r) {
    select_window(**label, grid[r], spec.label_staleness_ns, window);
    auto y = window_feature("last", window);
    if (!(*rows)[r] || !y) {
      ++skipped;
      continue;
    }
    for (double v : *(*rows)[r]) ds.features.push_back(static_cast<float>(v));
    ds.labels.push_back(static_cast<float>(*y));
    ++ds.rows;
  }
  if (skipped_rows != nullptr) *skipped_rows = skipped;
  if (ds.rows == 0)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("empty dataset: at none of the {} grid points in [{}, {}) ns does "
                             "every input window and "
                             "the label hold a sample",
                             grid.size(), spec.from_ns, spec.to_ns));
  // What was read: each input series from its window before the first point, the label within its
  // staleness.
  std::map<std::string, std::int64_t> reach;
  for (const auto& c : spec.columns) reach[c.series] = std::max(reach[c.series], c.window_ns);
  reach[spec.label] = std::max(reach[spec.label], spec.label_staleness_ns);
  for (const auto& [path, window_ns] : reach)
    ds.lineage.sources.push_back({"series", path, "", spec.from_ns - window_ns, spec.to_ns});
  ds.lineage.transform = fmt::format("{} step_ns={} label_staleness_ns={}", kTransform,
                                     spec.step_ns, spec.label_staleness_ns);
  if (Status s = ds.validate(); !s) return std::unexpected(s);
  return ds;
}

Result<std::optional<std::vector<ManifestInput>>> live_inputs(const Dataset& dataset,
                                                              const infomodel::Model& model) {
  const std::string& transform = dataset.lineage.transform;
  if (!transform.starts_with(kTransform) || transform.size() == kTransform.size() ||
      transform[kTransform.size()] != ' ')
    return std::optional<std::vector<ManifestInput>>{};
  const auto step_ns = transform_param(transform, "step_ns");
  std::vector<ManifestInput> inputs;
  for (const auto& name : dataset.feature_names) {
    const auto column = parse_window_column(name);
    if (!column)
      return error(
          StatusCode::kInvalidArgument,
          fmt::format(
              "dataset column '{}': a {} dataset's column is '<series>:<feature>:<window>ns'", name,
              kTransform));
    auto ref = infomodel::lookup_path(model, column->series);
    if (!ref)
      return error(ref.error().code(),
                   fmt::format("dataset column '{}': {}", name, ref.error().message()));
    inputs.push_back({name, ref->category->id, ref->signal->name,
                      static_cast<double>(column->window_ns) / 1e9,
                      static_cast<double>(step_ns.value_or(0)) / 1e9, column->feature});
  }
  return std::optional<std::vector<ManifestInput>>(std::move(inputs));
}

}  // namespace resonance::models
