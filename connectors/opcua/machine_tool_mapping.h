#pragma once
// The connector's machine-tool browse: which variables of one OPC 40501-1 MachineToolType
// instance feed which signals of an information-model category. The paths come from the model's
// `opc40501` mappings (the same texts `resonance conformance opcua` checks); this file adds only
// what the texts cannot say: which instance of a placeholder is meant, which variable stands in
// for an optional one, and how 40501 enumerations translate into ours.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/opcua/machine_tool.h"
#include "resonance/infomodel/model.h"

namespace resonance::opcua {

struct MachineSignalMapping {
  const infomodel::Signal* signal = nullptr;
  std::optional<NodeId> node;  // the variable, when mapped
  std::string
      path;  // below the instance, placeholders filled in: "Monitoring/Channel1/ChannelState"
  std::string why_not;  // when not mapped: what was missing or why 40501 has no such variable
  // Server value → our value for enumerations (ChannelState Active → execution_state running);
  // empty: the value as it is. A server value not listed is not stored.
  std::vector<std::pair<double, double>> value_map;
};

// One entry per signal of `category` (in model order), mapped or with why_not. Errors only when
// the server could not be asked.
Result<std::vector<MachineSignalMapping>> map_machine_tool(BrowseWalker& walker,
                                                           const MachineToolInstance& instance,
                                                           const infomodel::Category& category,
                                                           std::uint16_t machine_tool_ns);

}  // namespace resonance::opcua
