// resonance audit verify|prove|consistency (issue 7).

#include "commands.h"

namespace resonance::app {

void register_audit(CLI::App& /*app*/) {}

}  // namespace resonance::app
