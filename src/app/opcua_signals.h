#pragma once
// The OPC UA signals file: which server node feeds which information-model series
// (docs/opcua.md#signals-file). Kept apart from the node configuration because the configuration
// schema holds scalar keys only, while a machine maps tens to thousands of nodes.

#include <filesystem>
#include <string_view>
#include <vector>

#include "resonance/connectors/opcua/opcua_connector.h"
#include "resonance/core/status.h"

namespace resonance::app {

// Parses `[[signal]]` tables with node_id, series and optional unit. Every problem is reported
// with file:line:column and the key, all of them at once.
Result<std::vector<OpcuaSignalMapping>> parse_opcua_signals(std::string_view toml_text,
                                                            const std::string& source_name);
Result<std::vector<OpcuaSignalMapping>> load_opcua_signals(const std::filesystem::path& file);

}  // namespace resonance::app
