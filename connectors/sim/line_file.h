#pragma once
// Line files: a production line of simulated machines as TOML (format in docs/simulator.md,
// "Line files"; example in examples/lines/). Loading runs at start-up of `resonance sim --line`
// or `resonance demo --line`, never on the data path.

#include <filesystem>
#include <string>
#include <string_view>

#include "connectors/sim/sim_runner.h"
#include "resonance/core/status.h"

namespace resonance::sim {

// Parses a line file into `line` (which holds the defaults: gateway, rates, base seed from the
// command line). Fills line.device.site/area/line and line.equipment; every problem is reported
// at once, one per line, as "FILE:LINE:COLUMN: what". Checks: known fields only, a simulator for
// each category, equipment ids unique, valid MQTT-SN client ids, and resolving to their category
// through the information model's equipment_prefixes (so the model-validation stage accepts
// every series).
Status parse_line_file(std::string_view toml_text, const std::string& source_name, LineOptions& line);
Status load_line_file(const std::filesystem::path& path, LineOptions& line);

// The default `resonance demo` line: two CNC machining centres, an injection moulding machine, an
// AGV, a robot and a vision station (examples/lines/demo.toml is the same line as a file).
LineOptions default_demo_line(const LineOptions& defaults);

}  // namespace resonance::sim
