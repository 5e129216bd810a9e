#pragma once
// Subcommand registration. Each `register_*` adds one subcommand whose callback sets the exit
// code returned by exit_code().

#include <CLI/CLI.hpp>

namespace resonance::app {

void register_commands(CLI::App& app);
void register_conformance(CLI::App& app);  // conformance_command.cc
void register_infomodel(CLI::App& app);  // infomodel_command.cc
int exit_code();
void set_exit_code(int code);

// Waits until SIGINT/SIGTERM arrives (blocked in main) or `duration_s` passes (0 = forever).
// Returns the signal number, or 0 on timeout.
int wait_for_stop(double duration_s);

}  // namespace resonance::app
