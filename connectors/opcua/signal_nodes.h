#pragma once
// Finds the nodes of configured signals on the server a client is connected to, on every connect
// that creates the subscription (node ids and namespace indexes may change with a server
// restart): namespace URIs through one NamespaceArray read, browse paths through
// TranslateBrowsePathsToNodeIds in batches. A signal that cannot be found does not stop the
// others; the caller logs and counts it.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "connectors/opcua/client.h"
#include "resonance/connectors/opcua/opcua_connector.h"

namespace resonance::opcua {

struct SignalNode {
  std::optional<NodeId> node;
  std::string why_not;  // when not found: the path or node id, and the server's status
};

// One entry per signal, in order. An error only when the server could not be asked.
Result<std::vector<SignalNode>> find_signal_nodes(Client& client,
                                                  std::span<const OpcuaSignalMapping> signals,
                                                  std::size_t paths_per_request = 100);

// "nsu=<uri>;<rest>" with the index of <uri> in `namespaces`, or a plain node id.
Result<NodeId> node_id_on_server(std::string_view text, const std::vector<std::string>& namespaces);

}  // namespace resonance::opcua
