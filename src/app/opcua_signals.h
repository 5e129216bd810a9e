#pragma once
// The OPC UA signals file: which server node feeds which information-model series
// (docs/opcua.md#signals-file). Kept apart from the node configuration because the configuration
// schema holds scalar keys only, while a machine maps tens to thousands of nodes.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/connectors/opcua/opcua_connector.h"
#include "resonance/core/status.h"
#include "resonance/infomodel/model.h"

namespace resonance::app {

struct OpcuaMappings {
  std::vector<OpcuaSignalMapping> signals;    // [[signal]] tables
  std::vector<OpcuaMachineMapping> machines;  // [[machine]] tables; categories point into the model
};

// Parses `[namespaces]`, `[[signal]]` (node_id or browse_path + start, series, unit) and
// `[[machine]]` (profile, equipment, instance) tables. Every problem is reported with
// file:line:column and the key, all of them at once. `model` gives each machine's category and
// must outlive the result.
Result<OpcuaMappings> parse_opcua_signals(std::string_view toml_text,
                                          const std::string& source_name,
                                          const infomodel::Model& model);
Result<OpcuaMappings> load_opcua_signals(const std::filesystem::path& file,
                                         const infomodel::Model& model);

// The URI of the built-in namespace prefix `ua`.
inline constexpr std::string_view kUaNamespaceUri = "http://opcfoundation.org/UA/";

// A browse path as written in the signals file, "prefix:Name/prefix:Name", with the prefixes
// declared in [namespaces] (plus `ua`). '&' escapes the next character ('&/' is a slash inside a
// name, '&&' an ampersand). The error says which step is wrong and why.
Result<std::vector<OpcuaBrowseName>> parse_browse_path(
    std::string_view text, const std::map<std::string, std::string, std::less<>>& prefixes);

}  // namespace resonance::app
