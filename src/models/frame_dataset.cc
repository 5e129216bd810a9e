#include "resonance/models/frame_dataset.h"

#include <fmt/format.h>

#include <algorithm>

namespace resonance::models {

Result<Dataset> dataset_from_frame(const Frame& frame, const FrameSpec& spec, std::size_t* skipped_rows) {
  if (frame.columns != spec.series_paths.size()) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("frame has {} columns but {} series paths were given", frame.columns, spec.series_paths.size()));
  }
  if (frame.values.size() != frame.grid.size() * frame.columns || frame.valid.size() != frame.values.size()) {
    return error(StatusCode::kInternal, "frame values do not match its grid and columns");
  }
  const auto label_it = std::find(spec.series_paths.begin(), spec.series_paths.end(), spec.label);
  if (label_it == spec.series_paths.end()) {
    return error(StatusCode::kInvalidArgument, fmt::format("label series '{}' is not one of the frame's series", spec.label));
  }
  if (frame.columns < 2) return error(StatusCode::kInvalidArgument, "a frame dataset needs the label and at least one input series");
  const std::size_t label_col = static_cast<std::size_t>(label_it - spec.series_paths.begin());

  Dataset ds;
  ds.label_name = spec.label;
  for (std::size_t c = 0; c < frame.columns; ++c) {
    if (c != label_col) ds.feature_names.push_back(spec.series_paths[c]);
  }
  std::size_t skipped = 0;
  for (std::size_t r = 0; r < frame.grid.size(); ++r) {
    const std::size_t base = r * frame.columns;
    const bool complete = std::all_of(frame.valid.begin() + static_cast<std::ptrdiff_t>(base),
                                      frame.valid.begin() + static_cast<std::ptrdiff_t>(base + frame.columns),
                                      [](std::uint8_t v) { return v != 0; });
    if (!complete) {
      ++skipped;
      continue;
    }
    for (std::size_t c = 0; c < frame.columns; ++c) {
      if (c != label_col) ds.features.push_back(static_cast<float>(frame.values[base + c]));
    }
    ds.labels.push_back(static_cast<float>(frame.values[base + label_col]));
    ++ds.rows;
  }
  if (skipped_rows != nullptr) *skipped_rows = skipped;
  if (ds.rows == 0) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("empty dataset: none of the {} grid points in [{}, {}) ns has a value in every series",
                             frame.grid.size(), spec.request.from_ns, spec.request.to_ns));
  }
  for (const auto& path : spec.series_paths) {
    ds.lineage.sources.push_back({"series", path, "", spec.request.from_ns, spec.request.to_ns});
  }
  ds.lineage.transform = fmt::format("historian_frame step_ns={} fill={} max_staleness_ns={}", spec.request.step_ns,
                                     spec.request.fill == FrameFill::kLocf ? "locf" : "linear",
                                     spec.request.max_staleness_ns);
  if (Status s = ds.validate(); !s) return std::unexpected(s);
  return ds;
}

Result<Table> frame_table(const Frame& frame, const FrameSpec& spec, std::size_t* skipped_rows) {
  if (frame.columns != spec.series_paths.size() || frame.values.size() != frame.grid.size() * frame.columns ||
      frame.valid.size() != frame.values.size())
    return error(StatusCode::kInternal, "frame values do not match its grid and series");
  Table table;
  table.source = fmt::format("historian frame [{}, {}) ns", spec.request.from_ns, spec.request.to_ns);
  for (const auto& path : spec.series_paths) table.columns.push_back({path, ColumnType::kNumber, {}, {}});
  std::size_t skipped = 0;
  for (std::size_t r = 0; r < frame.grid.size(); ++r) {
    const std::size_t base = r * frame.columns;
    if (!std::all_of(frame.valid.begin() + static_cast<std::ptrdiff_t>(base),
                     frame.valid.begin() + static_cast<std::ptrdiff_t>(base + frame.columns),
                     [](std::uint8_t v) { return v != 0; })) {
      ++skipped;
      continue;
    }
    for (std::size_t c = 0; c < frame.columns; ++c) table.columns[c].numbers.push_back(frame.values[base + c]);
    ++table.rows;
  }
  if (skipped_rows != nullptr) *skipped_rows = skipped;
  if (table.rows == 0)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("empty dataset: none of the {} grid points in [{}, {}) ns has a value in every series",
                             frame.grid.size(), spec.request.from_ns, spec.request.to_ns));
  return table;
}

}  // namespace resonance::models
