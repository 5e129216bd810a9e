#pragma once
// `resonance conformance opcua --profile machine-tool`: browses a server for instances of
// OPC 40501-1 MachineToolType and reports (1) whether the mandatory objects and variables are
// there, with the right data types, and (2) how the signals of our information model's "cnc"
// category map onto what the server exposes.

#include <string>
#include <vector>

#include "connectors/opcua/client.h"
#include "connectors/opcua/machine_tool.h"
#include "resonance/infomodel/model.h"

namespace resonance::opcua {

struct ConformanceCheck {
  std::string instance;     // browse name of the MachineToolType instance
  std::string path;         // "Monitoring/MachineTool/OperationMode"
  std::string requirement;  // "mandatory" | "data type"
  bool passed = false;
  std::string detail;       // the node id found, or what is wrong
};

struct SignalMappingRow {
  std::string signal;    // our signal in the category
  std::string opc40501;  // the model's mapping text
  std::string status;    // "mapped" | "placeholder" | "missing" | "no counterpart"
  std::string detail;    // node id, or what was looked for
};

struct ConformanceReport {
  std::string endpoint;
  std::string profile = "machine-tool";
  std::vector<std::string> namespaces_missing;
  std::vector<std::string> instances;
  std::vector<ConformanceCheck> checks;
  std::vector<SignalMappingRow> mapping;

  bool passed() const;
  std::string to_text() const;
  std::string to_json() const;
};

// `category` is the information-model category to map (normally "cnc").
Result<ConformanceReport> check_machine_tool(Client& client, const infomodel::Model& model,
                                             std::string_view category = "cnc");

}  // namespace resonance::opcua
