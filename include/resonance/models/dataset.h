#pragma once
// Datasets: a feature matrix with labels (and optional groups), immutable and content-addressed.
// The id is the sha256 of the canonical encoding (docs/formats/dataset.md), which covers the
// data, the names and the lineage, so an id names exactly one dataset everywhere. A DatasetStore
// is a directory of `<id>.rds` files; a put never overwrites, a get re-hashes before returning.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/models/table.h"

namespace resonance::models {

// Where the rows came from: a file (by its sha256), a historian series over a time range, or a
// parent dataset that a transform derived this one from.
struct SourceRef {
  std::string kind;    // "file" | "series" | "dataset"
  std::string name;    // file name, series path, or parent dataset id
  std::string sha256;  // of the file's bytes or the parent's encoding; empty for series
  std::int64_t from_ns = 0, to_ns = 0;  // series time range [from, to)
};

struct Lineage {
  std::vector<SourceRef> sources;
  std::string transform;  // how rows were made from the sources ("columns", "cmapss_window30_v1", ...)
};

struct Dataset {
  std::vector<std::string> feature_names;
  std::string label_name;
  std::string group_name;                 // empty = no groups
  std::size_t rows = 0;
  std::vector<float> features;            // row-major, rows × feature_names.size()
  std::vector<float> labels;              // one per row
  std::vector<std::int64_t> groups;       // one per row when group_name is set
  Lineage lineage;

  std::size_t cols() const { return feature_names.size(); }
  const float* row(std::size_t r) const { return features.data() + r * cols(); }
  // Checks sizes and that every value is finite; the message names the row and column.
  Status validate() const;
};

// What `dataset create` takes from an imported table.
struct DatasetSpec {
  std::string label;                       // required, a number column
  std::string group;                       // optional, a number column (e.g. the unit id)
  std::vector<std::string> features;       // empty = every number column not label/group/excluded
  std::vector<std::string> exclude;        // never used as inputs (e.g. leaking flags, ids)
  std::vector<std::string> categorical;    // text columns encoded as codes 0..n-1 in sorted order
};

// Builds a dataset from `table`; `file_sha256` (of the imported bytes) goes into the lineage.
Result<Dataset> dataset_from_table(const Table& table, const DatasetSpec& spec, std::string_view file_sha256);

// The canonical encoding and its inverse (which rejects any byte that is not canonical).
std::string encode_dataset(const Dataset& dataset);
Result<Dataset> decode_dataset(std::string_view bytes, std::string_view source);
std::string dataset_id(const Dataset& dataset);  // sha256 hex of encode_dataset

// Lower-case hex sha256.
std::string sha256_hex(std::string_view bytes);

class DatasetStore {
 public:
  explicit DatasetStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  // Writes the dataset unless it is already there; returns its id either way.
  Result<std::string> put(const Dataset& dataset);
  // Reads and verifies (the hash must equal the id). Accepts a unique id prefix of 8+ characters.
  Result<Dataset> get(std::string_view id) const;
  Result<std::string> resolve(std::string_view id_or_prefix) const;
  std::vector<std::string> list() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace resonance::models
