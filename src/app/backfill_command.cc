// `resonance backfill --data-dir DIR --csv FILE`: history (an export of another system, an older
// data logger) into a node's store while the node is stopped. The work is
// historian::run_backfill_job; this file is the command line around it.

#include <iostream>
#include <string>

#include "commands.h"
#include "historian/backfill_job.h"
#include "node_config.h"

namespace resonance::app {

void register_backfill(CLI::App& app) {
  auto* cmd = app.add_subcommand("backfill",
                                 "Load history from a CSV file into a stopped node's store (docs/historian.md)");
  static std::string data_dir, csv, series, config_file;
  static bool no_compact = false;
  cmd->add_option("--data-dir", data_dir, "The node's node.data_dir")->required();
  cmd->add_option("--csv", csv, "series,ts,value[,quality] or ts,value[,quality] (docs/formats/backfill-csv.md)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--series", series, "The series of a file without a series column (site/area/line/equipment/signal)");
  cmd->add_option("-c,--config", config_file, "The node's TOML configuration, for its [historian] options")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--no-compact", no_compact, "Leave the touched partitions to the node's compaction thread");
  cmd->callback([] {
    historian::BackfillJob job;
    job.data_dir = data_dir;
    job.csv = csv;
    job.series = series;
    job.compact = !no_compact;
    if (!config_file.empty()) {
      auto config = load_config(node_schema(), config_file);
      if (!config) {
        std::cerr << "error: " << config.error().message() << "\n";
        set_exit_code(2);
        return;
      }
      auto options = historian_options(to_node_config(*config));
      if (!options) {
        std::cerr << "error: " << options.error().message() << "\n";
        set_exit_code(2);
        return;
      }
      job.options = std::move(*options);
    }
    auto report = historian::run_backfill_job(job);
    if (!report) {
      std::cerr << "error: " << report.error().message() << "\n";
      set_exit_code(report.error().code() == StatusCode::kInvalidArgument ? 2 : 1);
      return;
    }
    std::cout << "backfilled " << report->loaded.samples << " samples of " << report->loaded.series
              << " series (" << report->series_created << " new) in " << report->loaded.partitions
              << " partitions, durable; compacted " << report->compaction.partitions << " partitions ("
              << report->compaction.files_in << " files, " << report->compaction.bytes_in << " -> "
              << report->compaction.bytes_out << " bytes)\n";
  });
}

}  // namespace resonance::app
