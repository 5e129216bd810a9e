#pragma once
// `resonance dataset create --from-historian` and `resonance dataset export` (issue 8): datasets
// from a node's historian, and datasets out of the node through the governance egress gate.
// Registered on the `dataset` command that model_command.cc builds.

#include <CLI/CLI.hpp>

#include <string>

namespace resonance::app {

// What `dataset create` needs to read a node's data directory instead of a file.
struct HistorianDatasetOptions {
  std::string data_dir;                 // the node's node.data_dir (catalog.sqlite, historian/)
  std::vector<std::string> series;      // input series paths, in column order
  std::string label;                    // the label series path
  std::string from, to;                 // RFC 3339 or integer ns; [from, to)
  std::string step = "1s";              // grid step (historian duration syntax)
  std::string max_staleness;            // default: the step
  std::string fill = "locf";            // locf | linear
  // Window features instead of grid values (window_dataset.h): each input series gives one column
  // per feature over (t − window, t]; the label is its newest value within max_staleness.
  std::string window;                   // empty: a frame dataset
  std::vector<std::string> window_features;  // default with --window: mean
  // A column transform (docs/formats/transform.md) over the frame's series, named by their paths:
  // the frame dataset is stored as the parent, the derived one is printed.
  std::string transform;
};

// Builds the dataset from the historian and puts it into `store_dir`; prints its id. Sets the exit
// code: 0 done, 1 the data directory is in use or unreadable, 2 bad arguments or no rows.
void create_dataset_from_historian(const HistorianDatasetOptions& options, const std::string& store_dir);

// Adds `export` to the `dataset` command; `store_dir` is the command's --store (read at run time).
void register_dataset_export(CLI::App& dataset_command, const std::string& store_dir);

}  // namespace resonance::app
