#pragma once
// `resonance backfill` without the command line: loads a CSV file (backfill_csv.h) into the store
// of a node's data directory while no node runs on it. Kept here rather than in src/app so the
// historian's tests cover it whole.

#include <filesystem>
#include <string>

#include "resonance/core/status.h"
#include "resonance/historian/historian.h"

namespace resonance::historian {

struct BackfillJob {
  std::filesystem::path data_dir;  // the node's node.data_dir: LOCK, catalog.sqlite, historian/
  std::filesystem::path csv;
  std::string series;              // for a file without a series column
  // Store options (HistorianOptions.dir is set to data_dir/historian). They should match the
  // node's [historian] section, above all partition.
  HistorianOptions options;
  bool compact = true;             // fold the partitions the backfill touched before returning
};

struct BackfillJobReport {
  BackfillReport loaded;
  std::uint64_t series_created = 0;  // paths the catalog did not know
  CompactionReport compaction;
};

// Takes the data directory's lock first and refuses (kFailedPrecondition, naming the directory and
// the holder's pid) while a node holds it; a running node's store cannot be written from outside.
// Parses the whole file before anything is written, so a malformed line stores nothing. Then
// resolves the paths (creating new series in the catalog), backfills durably, writes every buffer
// to chunk files and, with `compact`, compacts.
Result<BackfillJobReport> run_backfill_job(const BackfillJob& job);

}  // namespace resonance::historian
