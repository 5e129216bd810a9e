// resonance policy explain|show (issue 7).

#include "commands.h"

namespace resonance::app {

void register_policy(CLI::App& /*app*/) {}

}  // namespace resonance::app
