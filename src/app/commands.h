#pragma once
// Subcommand registration. Each `register_*` adds one subcommand whose callback sets the exit
// code returned by exit_code().

#include <CLI/CLI.hpp>

namespace resonance::app {

void register_commands(CLI::App& app);
void register_conformance(CLI::App& app);  // conformance_command.cc
void register_infomodel(CLI::App& app);  // infomodel_command.cc
void register_audit(CLI::App& app);  // audit_command.cc: resonance audit verify|prove|consistency
void register_policy(CLI::App& app);  // policy_command.cc: resonance policy explain|show|check
void register_models(CLI::App& app);  // model_command.cc: resonance dataset …, resonance model …
void register_backfill(CLI::App& app);  // backfill_command.cc: resonance backfill --data-dir --csv
int exit_code();
void set_exit_code(int code);

// Waits until SIGINT/SIGTERM arrives (blocked in main) or `duration_s` passes (0 = forever).
// Returns the signal number, or 0 on timeout.
int wait_for_stop(double duration_s);

}  // namespace resonance::app
