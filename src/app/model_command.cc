// resonance dataset … and resonance model … (issue 8).

#include "commands.h"

namespace resonance::app {

void register_models(CLI::App& /*app*/) {}

}  // namespace resonance::app
