#pragma once
// Column transforms (docs/formats/transform.md): a small, declarative, versioned description of how
// a dataset's derived columns are computed from named raw inputs — arithmetic of inputs and
// constants, a code lookup, window features — and the one implementation that computes them.
// Offline (`dataset create FILE --transform T.json`, the AI4I proof) it runs on the imported
// table's double values; live (the inference scheduler) on the windows of the signals the model's
// manifest maps each raw input to. Both call Transform::evaluate on windows selected by the same
// rule (select_window), so a row computed offline and the same samples live give the same doubles.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/infomodel/model.h"
#include "resonance/models/dataset.h"
#include "resonance/models/manifest.h"
#include "resonance/models/table.h"
#include "resonance/models/window_features.h"

namespace resonance::models {

// A raw input: a number (a measurement) or a code (a category sent as a number, e.g. product type
// H=0, L=1, M=2; offline a text column is coded by `codes`, live the signal carries the code).
struct TransformInput {
  std::string name;
  bool is_code = false;
  std::vector<std::pair<std::string, double>> codes;  // label → code, sorted by label
};

// One argument: a named input or definition, or a constant.
struct TransformArg {
  std::string name;  // empty: the constant
  double constant = 0;
};

struct TransformStep {
  std::string name;
  std::string op;  // sum | difference | product | ratio | min | max | linear | lookup | window
  std::vector<TransformArg> args;
  double scale = 1, offset = 0;                       // linear: x × scale + offset
  std::vector<std::pair<std::string, double>> table;  // lookup: code label → value, sorted by label
  std::string feature;                                // window: a window feature (window_features.h)
  double window_s = 0;                                // window: (t − window_s, t]
};

struct TransformSpec {
  std::int64_t version = 1;
  std::vector<TransformInput> inputs;
  std::vector<TransformStep> define;
  std::vector<std::string> columns;  // the dataset's feature columns, in order: inputs or definitions
  // Offline only, for windows: the table column giving each row's time (× unit_s = seconds) and the
  // column grouping rows into separate histories (an engine, a machine). Live: sample time and
  // equipment.
  std::string time_column;
  double time_unit_s = 1.0;
  std::string group_column;
};

// Why a row (offline) or a window (live) gave no value: the first step whose result was not finite.
struct TransformGap {
  std::string column;  // the output column that is not finite
  std::string step;    // the definition where it became so
  std::string cause;   // "division by zero", "code 7 is not in the table", …
  std::string message() const;
};

class Transform {
 public:
  // Parses and checks a transform; errors name the source and the JSON path ("t.json: define[2]
  // 'power': args[1]: no input or definition 'Torqe' (…)"): unknown names, types (a code in
  // arithmetic, a window over a definition), cycles, duplicate names, unknown keys.
  static Result<Transform> parse(std::string_view json, std::string_view source);

  const TransformSpec& spec() const { return spec_; }
  // One-line JSON with keys in a fixed order; parse(canonical_json()) gives the same transform.
  const std::string& canonical_json() const { return canonical_; }
  // Lower-case hex SHA-256 of canonical_json().
  const std::string& sha256() const { return sha256_; }
  // The longest window each input is read over (ns), in input order; 0 = its newest sample only.
  std::span<const std::int64_t> input_windows_ns() const { return input_window_ns_; }
  bool uses_windows() const;
  // Whether column `c` is a raw input passed through, and the raw inputs a column is computed from.
  bool column_is_input(std::size_t c) const;
  std::vector<std::string> column_inputs(std::size_t c) const;

  struct Scratch {
    std::vector<double> values;
    WindowInput window;
  };
  // The columns at time `t` from one window per input (in input order, oldest first, selected with
  // input_windows_ns() by select_window or WindowRing::window): an input's value is the newest
  // sample of its window, a window step selects its own (t − window_s, t] from it. Every value is
  // a double computed in the order the spec gives (sum and product from left to right). Returns
  // false and fills `gap` when a column is not finite (division by zero, an unknown code, an empty
  // window, an overflow): the row or window is then skipped and counted.
  bool evaluate(std::span<const WindowInput> windows, TimestampNs t, std::span<double> columns,
                Scratch& scratch, TransformGap* gap = nullptr) const;

 private:
  struct Node {  // an input (index < inputs) or a definition, with resolved arguments
    std::vector<int> args;  // node indices; -1 = the constant at the same position
  };
  TransformSpec spec_;
  std::string canonical_;
  std::string sha256_;
  std::vector<std::int64_t> input_window_ns_;
  std::vector<Node> nodes_;
  std::vector<int> order_;    // definitions (node indices) in evaluation order
  std::vector<int> columns_;  // node index per column
};

// The lineage text of a dataset a transform made ("transform_v1 sha256=<hex> <canonical json>"),
// and the transform a lineage records (nullopt: the dataset was made some other way; an error: the
// text is damaged or its hash does not match).
std::string transform_lineage(const Transform& transform);
Result<std::optional<Transform>> transform_of(const Lineage& lineage);

// Rows a transform could not compute: how many, and why the first was skipped.
struct TransformReport {
  std::size_t skipped_rows = 0;
  std::size_t first_skipped_row = 0;  // 1-based data row of the table
  TransformGap first_gap;
};

// The transform's columns for every row of an imported table, as doubles (row-major), with the
// table row each came from; rows whose columns are not all finite are skipped and counted. Errors
// name the table, the input and the row (a missing column, a text column read as a number, a label
// no code has).
struct DerivedRows {
  std::vector<double> values;      // rows.size() × columns
  std::vector<std::size_t> rows;   // 0-based table row of each
  TransformReport report;
};
Result<DerivedRows> derive_rows(const Table& table, const Transform& transform);

// The dataset a transform derives from an imported table: the transform's columns (computed from
// the table's doubles), the label and optional group column, one row per table row whose columns
// are all finite (the others are skipped and counted in `report`). Lineage: `sources` (the file,
// the parent dataset) and transform_lineage. Errors name the table, the input and the row (a
// missing column, a text column read as a number, a label no code has).
Result<Dataset> derive_dataset(const Table& table, const Transform& transform, std::string_view label,
                               std::string_view group, std::vector<SourceRef> sources,
                               TransformReport* report = nullptr);

// The live signals of a transform whose raw inputs are series paths (a frame dataset's columns):
// each path resolved through the information model to its category and signal, in input order. An
// error names the first input that is not a series path of a known signal.
Result<std::vector<ManifestSignal>> series_signals(const Transform& transform, const infomodel::Model& model);

}  // namespace resonance::models
