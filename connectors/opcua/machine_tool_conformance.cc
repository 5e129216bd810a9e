#include "connectors/opcua/machine_tool_conformance.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace resonance::opcua {
namespace {

constexpr std::uint32_t kObjectsFolder = 85;

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

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    out.emplace_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

class Walker {
 public:
  Walker(Client& c, std::vector<std::uint16_t> namespaces) : c_(c), namespaces_(std::move(namespaces)) {}

  // The child of `node` called `name` in one of the companion namespaces (DI, Machinery, IA,
  // MachineTool) or the instance's own; nullopt if absent.
  Result<std::optional<NodeId>> child(const NodeId& node, std::string_view name) {
    BrowseDescription d;
    d.node_id = node;
    auto refs = c_.browse(d);
    if (!refs) return error(refs.error());
    for (const auto& r : *refs) {
      if (r.browse_name.name.view() != name) continue;
      if (!namespaces_.empty() && r.browse_name.ns != 0 &&
          std::find(namespaces_.begin(), namespaces_.end(), r.browse_name.ns) == namespaces_.end())
        continue;
      return std::optional<NodeId>(r.node_id.node);
    }
    return std::optional<NodeId>();
  }

  Result<std::optional<NodeId>> path(const NodeId& start, std::string_view path) {
    NodeId at = start;
    for (const auto& name : split_path(path)) {
      auto next = child(at, name);
      if (!next) return error(next.error());
      if (!*next) return std::optional<NodeId>();
      at = **next;
    }
    return std::optional<NodeId>(at);
  }

 private:
  Client& c_;
  std::vector<std::uint16_t> namespaces_;
};

Result<std::string> browse_name_of(Client& c, const NodeId& node) {
  auto v = c.read({ReadValueId{node, kAttributeBrowseName, {}, {}}});
  if (!v) return error(v.error());
  const auto& dv = (*v)[0];
  // A server may send an empty or array value: only a single QualifiedName is a browse name.
  if (!dv.value || dv.value->type != BuiltinType::kQualifiedName || dv.value->is_array ||
      dv.value->values.size() != 1)
    return std::string();
  return std::string(std::get<QualifiedName>(dv.value->values[0]).name.view());
}

}  // namespace

bool ConformanceReport::passed() const {
  return namespaces_missing.empty() && !instances.empty() &&
         std::all_of(checks.begin(), checks.end(), [](const auto& c) { return c.passed; });
}

Result<ConformanceReport> check_machine_tool(Client& client, const infomodel::Model& model,
                                             std::string_view category) {
  ConformanceReport report;
  std::vector<std::uint16_t> companion;
  std::uint16_t mt_ns = 0;
  for (std::string_view uri : {std::string_view("http://opcfoundation.org/UA/DI/"),
                               std::string_view("http://opcfoundation.org/UA/Machinery/"),
                               std::string_view("http://opcfoundation.org/UA/IA/"), kMachineToolNamespace}) {
    auto index = client.namespace_index(uri);
    if (!index) {
      if (index.error().code() != resonance::StatusCode::kNotFound) return error(index.error());
      report.namespaces_missing.emplace_back(uri);
      continue;
    }
    companion.push_back(*index);
    if (uri == kMachineToolNamespace) mt_ns = *index;
  }
  if (mt_ns == 0) return report;  // nothing to look for: fails with the namespace named

  // Instances: objects under Objects (and under Machinery's Machines folder) whose type definition
  // is MachineToolType of the MachineTool namespace.
  BrowseDescription objects;
  objects.node_id = NodeId::numeric(0, kObjectsFolder);
  auto top = client.browse(objects);
  if (!top) return error(top.error());
  std::vector<ReferenceDescription> candidates = *top;
  for (const auto& r : *top) {
    if (r.browse_name.name.view() != "Machines") continue;
    BrowseDescription machines;
    machines.node_id = r.node_id.node;
    auto more = client.browse(machines);
    if (more) candidates.insert(candidates.end(), more->begin(), more->end());
  }
  std::vector<std::pair<std::string, NodeId>> instances;
  for (const auto& r : candidates) {
    if (r.type_definition.node.ns != mt_ns) continue;
    auto type_name = browse_name_of(client, r.type_definition.node);
    if (!type_name) return error(type_name.error());
    if (*type_name == "MachineToolType") instances.emplace_back(std::string(r.browse_name.name.view()), r.node_id.node);
  }
  companion.push_back(0);
  Walker walk(client, companion);
  for (const auto& [name, node] : instances) {
    report.instances.push_back(name);
    for (auto path : kMandatory) {
      auto found = walk.path(node, path);
      if (!found) return error(found.error());
      report.checks.push_back({name, std::string(path), "mandatory", found->has_value(),
                               *found ? to_string(**found) : "missing"});
    }
    for (const auto& t : kTyped) {
      auto found = walk.path(node, t.path);
      if (!found) return error(found.error());
      if (!*found) continue;  // already reported as missing
      auto dt = client.read({ReadValueId{**found, kAttributeDataType, {}, {}}});
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
      // The path part of the mapping text: up to the first space, placeholder or colon.
      std::string path = m->target.substr(0, m->target.find_first_of(" :("));
      const auto placeholder = path.find('<');
      const bool has_placeholder = placeholder != std::string::npos;
      if (has_placeholder) path = path.substr(0, placeholder == 0 ? 0 : placeholder - 1);
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
          row.detail = (has_placeholder ? "instances below " : "") + to_string(**found);
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
