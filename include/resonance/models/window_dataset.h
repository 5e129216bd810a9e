#pragma once
// Datasets of window features from a node's history (`resonance dataset create --from-historian
// --window D --window-features …`): each row is a time t on a grid, each input column one window feature
// (window_features.h) of one series over (t − window, t], the label the label series' newest value
// at t. Because the columns are computed by window_feature on windows selected by the live rule,
// a model trained on such a dataset runs live on the same numbers (live_inputs).

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/infomodel/model.h"
#include "resonance/models/dataset.h"
#include "resonance/models/manifest.h"
#include "resonance/models/window_features.h"

namespace resonance::models {

struct WindowDatasetSpec {
  std::vector<WindowColumn> columns;  // the inputs, in column order
  std::string label;                  // label series path
  std::int64_t label_staleness_ns =
      0;  // the label at t: its newest sample with t − staleness < ts ≤ t
  TimestampNs from_ns = 0, to_ns = 0;  // rows at from, from + step, … < to
  std::int64_t step_ns = 0;
};

// The samples of every series the spec names (inputs and label), by path, in time order, Bad
// quality already left out (live inference never feeds it either).
using SeriesHistory = std::map<std::string, WindowInput>;

// One row per grid time at which every input window and the label hold a sample; the others are
// skipped (counted in `skipped_rows`). Lineage: every series with the time range read, and the
// transform "historian_window step_ns=… label_staleness_ns=…". Errors name the series or the
// empty result's reason.
Result<Dataset> dataset_from_windows(const WindowDatasetSpec& spec, const SeriesHistory& history,
                                     std::size_t* skipped_rows = nullptr);

// The feature rows a windowed dataset would hold at `times` (nullopt where a window is empty): the
// offline side of a live run, for checking a live output against the same windows in history.
Result<std::vector<std::optional<std::vector<double>>>> window_rows(
    std::span<const WindowColumn> columns, const SeriesHistory& history,
    std::span<const TimestampNs> times);

// The manifest inputs of a model trained on `dataset`, when its columns are window features of
// series (a dataset_from_windows result): per column its feature, window and the grid step, and
// the information-model category and signal its series path resolves to. nullopt for any other
// dataset (its columns stay `derived`). An error names a column whose series the information model
// does not know.
Result<std::optional<std::vector<ManifestInput>>> live_inputs(const Dataset& dataset,
                                                              const infomodel::Model& model);

}  // namespace resonance::models
