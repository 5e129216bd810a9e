#include "connectors/opcua/machine_tool.h"

#include <algorithm>
#include <map>

namespace resonance::opcua {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty()) return out;
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    out.push_back(path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

Result<CompanionNamespaces> companion_namespaces(Client& client) {
  CompanionNamespaces out;
  for (std::string_view uri : kCompanionNamespaces) {
    auto index = client.namespace_index(uri);
    if (!index) {
      if (index.error().code() != resonance::StatusCode::kNotFound) return error(index.error());
      out.missing.emplace_back(uri);
      continue;
    }
    out.indexes.push_back(*index);
    if (uri == kMachineToolNamespace) out.machine_tool = *index;
  }
  out.indexes.push_back(0);
  return out;
}

Result<std::string> browse_name_of(Client& client, const NodeId& node) {
  auto v = client.read({ReadValueId{node, kAttributeBrowseName, {}, {}}});
  if (!v) return error(v.error());
  if (v->size() != 1) return std::string();
  const auto& dv = (*v)[0];
  // A server may send an empty or array value: only a single QualifiedName is a browse name.
  if (!dv.value || dv.value->type != BuiltinType::kQualifiedName || dv.value->is_array ||
      dv.value->values.size() != 1)
    return std::string();
  return std::string(std::get<QualifiedName>(dv.value->values[0]).name.view());
}

Result<std::vector<MachineToolInstance>> find_machine_tools(Client& client,
                                                            std::uint16_t machine_tool_ns) {
  BrowseDescription objects;
  objects.node_id = NodeId::numeric(0, kObjectsFolder);
  auto top = client.browse(objects);
  if (!top) return error(top.error());
  std::vector<ReferenceDescription> candidates = *top;
  for (const auto& r : *top) {
    if (r.browse_name.name.view() != "Machines") continue;
    BrowseDescription machines;
    machines.node_id = r.node_id.node;
    // A "Machines" object that cannot be browsed holds no machines we could read anyway.
    if (auto more = client.browse(machines))
      candidates.insert(candidates.end(), more->begin(), more->end());
  }
  std::vector<MachineToolInstance> out;
  for (const auto& r : candidates) {
    if (r.type_definition.node.ns != machine_tool_ns || machine_tool_ns == 0) continue;
    auto type_name = browse_name_of(client, r.type_definition.node);
    if (!type_name) return error(type_name.error());
    if (*type_name == "MachineToolType")
      out.push_back({std::string(r.browse_name.name.view()), r.node_id.node});
  }
  return out;
}

Result<std::optional<ReferenceDescription>> BrowseWalker::child(const NodeId& node,
                                                                std::string_view name) {
  BrowseDescription d;
  d.node_id = node;
  auto refs = client_.browse(d);
  if (!refs) return error(refs.error());
  for (auto& r : *refs) {
    if (r.browse_name.name.view() != name) continue;
    if (!namespaces_.empty() && r.browse_name.ns != 0 &&
        std::find(namespaces_.begin(), namespaces_.end(), r.browse_name.ns) == namespaces_.end())
      continue;
    return std::optional<ReferenceDescription>(std::move(r));
  }
  return std::optional<ReferenceDescription>();
}

Result<std::optional<ReferenceDescription>> BrowseWalker::path(const NodeId& start,
                                                               std::string_view path) {
  ReferenceDescription at;
  at.node_id.node = start;
  for (auto name : split_path(path)) {
    auto next = child(at.node_id.node, name);
    if (!next) return error(next.error());
    if (!*next) return std::optional<ReferenceDescription>();
    at = std::move(**next);
  }
  return std::optional<ReferenceDescription>(std::move(at));
}

Result<std::vector<ReferenceDescription>> BrowseWalker::children_of_type(const NodeId& node,
                                                                         std::string_view type_name,
                                                                         std::uint16_t type_ns) {
  BrowseDescription d;
  d.node_id = node;
  auto refs = client_.browse(d);
  if (!refs) return error(refs.error());
  std::vector<ReferenceDescription> out;
  std::map<std::string, bool> is_type;  // type definition (as text) → matches; one read per type
  for (auto& r : *refs) {
    if (r.type_definition.node.ns != type_ns) continue;
    const std::string key = to_string(r.type_definition.node);
    auto known = is_type.find(key);
    if (known == is_type.end()) {
      auto name = browse_name_of(client_, r.type_definition.node);
      if (!name) return error(name.error());
      known = is_type.emplace(key, *name == type_name).first;
    }
    if (known->second) out.push_back(std::move(r));
  }
  return out;
}

Opc40501Target parse_opc40501_target(std::string_view text) {
  const std::string_view path = text.substr(0, text.find_first_of(" :("));
  Opc40501Target t;
  const auto open = path.find('<');
  const auto close = open == std::string_view::npos ? std::string_view::npos : path.find('>', open);
  if (close == std::string_view::npos) {
    t.before = path;
    return t;
  }
  t.before = path.substr(0, open == 0 ? 0 : open - 1);
  t.placeholder = path.substr(open, close - open + 1);
  if (close + 2 <= path.size()) t.after = path.substr(close + 2);
  return t;
}

}  // namespace resonance::opcua
