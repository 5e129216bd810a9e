// `resonance`: the one binary. Subcommands are thin: each parses its flags, builds what it needs
// through the composition root (node.h) and reports errors as "what and where" on stderr with a
// non-zero exit code.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "node_config.h"

int main(int argc, char** argv) {
  // Block the stop signals in every thread (threads inherit the mask); the main thread waits for
  // them with sigtimedwait, so shutdown runs in ordinary code, not in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto logger = spdlog::stderr_color_mt("resonance");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");

  CLI::App app{"Resonance: edge runtime for industrial AI (data -> model -> scenario, with evidence)",
               "resonance"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("resonance ") + RESONANCE_VERSION);

  resonance::app::register_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return resonance::app::exit_code();
}
