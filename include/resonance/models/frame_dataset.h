#pragma once
// Datasets from historian frames: series sampled on a common time grid (Historian::frame) become
// rows; one series is the label, the others are inputs. Lineage records every series path with
// the time range read, so the dataset names exactly where its rows came from.

#include <string>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/historian/historian.h"
#include "resonance/models/dataset.h"
#include "resonance/models/table.h"

namespace resonance::models {

struct FrameSpec {
  std::vector<std::string> series_paths;  // one per frame column, in request order
  std::string label;                      // one of series_paths
  FrameRequest request;                   // the request the frame answered (for the lineage)
};

// Rows are the grid points where every column holds an observation; points with any gap are
// skipped (and counted in `skipped_rows` when given). An empty result is an error that says why.
Result<Dataset> dataset_from_frame(const Frame& frame, const FrameSpec& spec, std::size_t* skipped_rows = nullptr);

// The same rows as a table of doubles, one number column per series (named by its path, the label
// included), for a column transform over series (`dataset create --from-historian … --transform`,
// transform.h): the transform computes from the frame's doubles, as live inference does from the
// signals' samples.
Result<Table> frame_table(const Frame& frame, const FrameSpec& spec, std::size_t* skipped_rows = nullptr);

}  // namespace resonance::models
