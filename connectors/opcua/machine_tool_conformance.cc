#include "connectors/opcua/machine_tool_conformance.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace resonance::opcua {
namespace {

// Mandatory content of MachineToolType (OPC 40501-1 1.02 and the Machinery identification it
// inherits), as browse paths below the instance.
constexpr std::string_view kMandatory[] = {
    "Identification", "Identification/Manufacturer", "Identification/SerialNumber",
    "Monitoring", "Monitoring/MachineTool", "Monitoring/MachineTool/OperationMode",
    "Production", "Production/ActiveProgram", "Production/ActiveProgram/State",
    "Equipment", "Notification"};

struct TypedVariable {
  std::string_view path;
  std::string_view data_type;  // browse name of the expected DataType
};
constexpr TypedVariable kTyped[] = {
    {"Monitoring/MachineTool/OperationMode", "MachineOperationMode"},
    {"Identification/Manufacturer", "LocalizedText"},
    {"Identification/SerialNumber", "String"},
};

}  // namespace

bool ConformanceReport::passed() const {
  return namespaces_missing.empty() && !instances.empty() &&
         std::all_of(checks.begin(), checks.end(), [](const auto& c) { return c.passed; });
}

Result<ConformanceReport> check_machine_tool(Client& client, const infomodel::Model& model,
                                             std::string_view category) {
  ConformanceReport report;
  auto namespaces = companion_namespaces(client);
  if (!namespaces) return error(namespaces.error());
  report.namespaces_missing = namespaces->missing;
  if (namespaces->machine_tool == 0) return report;  // nothing to look for: fails with the namespace named

  auto found_instances = find_machine_tools(client, namespaces->machine_tool);
  if (!found_instances) return error(found_instances.error());
  std::vector<std::pair<std::string, NodeId>> instances;
  for (auto& i : *found_instances) instances.emplace_back(std::move(i.name), std::move(i.node));
  BrowseWalker walk(client, namespaces->indexes);
  for (const auto& [name, node] : instances) {
    report.instances.push_back(name);
    for (auto path : kMandatory) {
      auto found = walk.path(node, path);
      if (!found) return error(found.error());
      report.checks.push_back({name, std::string(path), "mandatory", found->has_value(),
                               *found ? to_string((*found)->node_id.node) : "missing"});
    }
    for (const auto& t : kTyped) {
      auto found = walk.path(node, t.path);
      if (!found) return error(found.error());
      if (!*found) continue;  // already reported as missing
      auto dt = client.read({ReadValueId{(*found)->node_id.node, kAttributeDataType, {}, {}}});
      if (!dt) return error(dt.error());
      std::string actual = "unknown";
      if ((*dt)[0].value && (*dt)[0].value->type == BuiltinType::kNodeId && !(*dt)[0].value->is_array &&
          (*dt)[0].value->values.size() == 1) {
        auto n = browse_name_of(client, std::get<NodeId>((*dt)[0].value->values[0]));
        if (!n) return error(n.error());
        actual = *n;
      }
      report.checks.push_back({name, std::string(t.path), "data type", actual == t.data_type,
                               "expected " + std::string(t.data_type) + ", found " + actual});
    }
  }

  // Our information model's signals against the first instance.
  if (const auto* cat = model.find_category(category)) {
    for (const auto& s : cat->signals) {
      SignalMappingRow row{s.name, "", "no counterpart", ""};
      const auto* m = s.mapping("opc40501");
      if (!m || m->none()) {
        row.opc40501 = m ? m->target : "none";
        report.mapping.push_back(std::move(row));
        continue;
      }
      row.opc40501 = m->target;
      const Opc40501Target target = parse_opc40501_target(m->target);
      const std::string& path = target.before;
      const bool has_placeholder = !target.placeholder.empty();
      if (instances.empty() || path.empty()) {
        row.status = "missing";
        row.detail = "no MachineToolType instance";
      } else {
        auto found = walk.path(instances.front().second, path);
        if (!found) return error(found.error());
        if (!*found) {
          row.status = "missing";
          row.detail = path + " not found below " + instances.front().first;
        } else {
          row.status = has_placeholder ? "placeholder" : "mapped";
          row.detail = (has_placeholder ? "instances below " : "") + to_string((*found)->node_id.node);
        }
      }
      report.mapping.push_back(std::move(row));
    }
  }
  return report;
}

std::string ConformanceReport::to_text() const {
  std::ostringstream o;
  o << "OPC 40501 machine-tool conformance of " << endpoint << ": " << (passed() ? "PASS" : "FAIL") << "\n";
  for (const auto& ns : namespaces_missing) o << "  namespace missing: " << ns << "\n";
  if (instances.empty()) o << "  no instance of MachineToolType found under Objects or Objects/Machines\n";
  for (const auto& c : checks)
    o << "  [" << (c.passed ? "ok  " : "FAIL") << "] " << c.instance << "/" << c.path << " (" << c.requirement
      << "): " << c.detail << "\n";
  if (!mapping.empty()) o << "Mapping onto the information model (category cnc):\n";
  for (const auto& m : mapping)
    o << "  " << m.signal << ": " << m.status << (m.detail.empty() ? "" : " (" + m.detail + ")") << " — " << m.opc40501 << "\n";
  return o.str();
}

std::string ConformanceReport::to_json() const {
  nlohmann::json j;
  j["endpoint"] = endpoint;
  j["profile"] = profile;
  j["passed"] = passed();
  j["namespaces_missing"] = namespaces_missing;
  j["instances"] = instances;
  j["checks"] = nlohmann::json::array();
  for (const auto& c : checks)
    j["checks"].push_back({{"instance", c.instance}, {"path", c.path}, {"requirement", c.requirement},
                           {"passed", c.passed}, {"detail", c.detail}});
  j["mapping"] = nlohmann::json::array();
  for (const auto& m : mapping)
    j["mapping"].push_back({{"signal", m.signal}, {"opc40501", m.opc40501}, {"status", m.status}, {"detail", m.detail}});
  return j.dump(2);
}

}  // namespace resonance::opcua
