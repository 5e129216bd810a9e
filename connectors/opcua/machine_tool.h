#pragma once
// What the client knows of OPC 40501-1 (Machine Tools) address spaces, shared by the conformance
// check (machine_tool_conformance.h) and the connector's machine-tool browse
// (machine_tool_mapping.h): the companion namespaces, where MachineToolType instances live,
// walking browse paths below them, and reading our information model's `opc40501` mapping texts
// as such paths.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/opcua/client.h"

namespace resonance::opcua {

inline constexpr std::string_view kMachineToolNamespace =
    "http://opcfoundation.org/UA/MachineTool/";
inline constexpr std::string_view kMachineryNamespace = "http://opcfoundation.org/UA/Machinery/";
// The namespaces whose browse names a MachineToolType instance is made of.
inline constexpr std::string_view kCompanionNamespaces[] = {
    "http://opcfoundation.org/UA/DI/", kMachineryNamespace, "http://opcfoundation.org/UA/IA/",
    kMachineToolNamespace};
inline constexpr std::uint32_t kObjectsFolder = 85;

// The companion namespaces as this server numbers them.
struct CompanionNamespaces {
  std::vector<std::string> missing;    // URIs the server does not have
  std::vector<std::uint16_t> indexes;  // those it has, and 0 (the UA namespace)
  std::uint16_t machine_tool = 0;      // 0: the MachineTool namespace is missing
};
Result<CompanionNamespaces> companion_namespaces(Client& client);

struct MachineToolInstance {
  std::string name;  // browse name, e.g. "CNC1"
  NodeId node;
};
// Objects organized by Objects or by Machinery's Objects/Machines whose type definition is
// MachineToolType of the MachineTool namespace (index `machine_tool_ns`), in browse order.
Result<std::vector<MachineToolInstance>> find_machine_tools(Client& client,
                                                            std::uint16_t machine_tool_ns);

// The BrowseName attribute of a node; empty when the server sends something else.
Result<std::string> browse_name_of(Client& client, const NodeId& node);

// Follows browse names down hierarchical references. A name matches a child in one of
// `namespaces` (or any namespace when the list is empty), so a vendor object that happens to be
// called "Monitoring" is not taken for the standard one.
class BrowseWalker {
 public:
  BrowseWalker(Client& client, std::vector<std::uint16_t> namespaces)
      : client_(client), namespaces_(std::move(namespaces)) {}

  Result<std::optional<ReferenceDescription>> child(const NodeId& node, std::string_view name);
  // "Production/ActiveProgram/Name" below `start`; nullopt when a step is missing. The empty
  // path is `start` itself (its node class unknown).
  Result<std::optional<ReferenceDescription>> path(const NodeId& start, std::string_view path);
  // The children of `node` whose type definition is `type_name` of namespace `type_ns`
  // (instances of a placeholder such as <Channel>), in browse order.
  Result<std::vector<ReferenceDescription>> children_of_type(const NodeId& node,
                                                             std::string_view type_name,
                                                             std::uint16_t type_ns);
  Client& client() { return client_; }

 private:
  Client& client_;
  std::vector<std::uint16_t> namespaces_;
};

// An `opc40501` mapping text of the information model read as a browse path below the instance.
// The path ends at the first space, colon or parenthesis; the rest explains it. A placeholder
// (<Job>, <Channel>, <Tool>) stands for instances of a type:
// "Production/ProductionPlan/<Job>/PartsCompleted (RunsCompleted …)" →
// {"Production/ProductionPlan", "<Job>", "PartsCompleted"}.
struct Opc40501Target {
  std::string before;       // the path up to the placeholder, or all of it
  std::string placeholder;  // "<Job>"; empty when none
  std::string after;        // the path after the placeholder
};
Opc40501Target parse_opc40501_target(std::string_view text);

}  // namespace resonance::opcua
