#include "connectors/opcua/machine_tool_mapping.h"

#include <span>

namespace resonance::opcua {
namespace {

// Which instance of a placeholder the signal means. The model's texts name the placeholder;
// OPC 40501-1 says what type its instances have.
enum class Pick { kFirst, kRunningJob, kUnknowable };
struct Placeholder {
  std::string_view name;
  std::string_view type;  // in the MachineTool namespace
  Pick pick;
  std::string_view why_unknowable;
};
constexpr Placeholder kPlaceholders[] = {
    // A machine with several channels reports the first one (channel 1 on every control we know).
    {"<Channel>", "ChannelMonitoringType", Pick::kFirst, ""},
    {"<Spindle>", "SpindleMonitoringType", Pick::kFirst, ""},
    {"<Job>", "ProductionJobType", Pick::kRunningJob, ""},
    {"<Tool>", "ToolType", Pick::kUnknowable,
     "OPC 40501-1 lists every tool under Equipment/Tools but not which one is in the spindle"},
};

// Optional variables and the mandatory one that stands in for them (the model's text for
// part_count: "PartsCompleted (RunsCompleted for one part per run)").
constexpr std::pair<std::string_view, std::string_view> kLeafFallbacks[] = {
    {"PartsCompleted", "RunsCompleted"}};

// OPC 40501-1 enumerations in terms of our enum value names. ChannelState: Active = a program
// runs, Interrupted = held by an alarm or feed hold, Reset = no program active.
struct EnumValue {
  double server;
  std::string_view ours;
};
constexpr EnumValue kChannelState[] = {{0, "running"}, {1, "alarm"}, {2, "idle"}};
constexpr std::pair<std::string_view, std::span<const EnumValue>> kEnumTranslations[] = {
    {"ChannelState", kChannelState}};

std::string_view node_class_name(NodeClass c) {
  switch (c) {
    case NodeClass::kObject: return "an Object";
    case NodeClass::kMethod: return "a Method";
    case NodeClass::kObjectType: return "an ObjectType";
    case NodeClass::kVariableType: return "a VariableType";
    case NodeClass::kReferenceType: return "a ReferenceType";
    case NodeClass::kDataType: return "a DataType";
    case NodeClass::kView: return "a View";
    default: return "not a variable";
  }
}

std::string_view last_segment(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The job the machine works on: the one whose State/CurrentState reads "Running", else the first.
Result<const ReferenceDescription*> running_job(BrowseWalker& walker,
                                                const std::vector<ReferenceDescription>& jobs) {
  for (const auto& job : jobs) {
    auto state = walker.path(job.node_id.node, "State/CurrentState");
    if (!state) return error(state.error());
    if (!*state) continue;
    auto v = walker.client().read_value((*state)->node_id.node);
    if (!v) return error(v.error());
    if (v->value && v->value->type == BuiltinType::kLocalizedText && !v->value->is_array &&
        v->value->values.size() == 1 &&
        std::get<LocalizedText>(v->value->values[0]).text.view() == "Running")
      return &job;
  }
  return &jobs.front();
}

Status map_one(BrowseWalker& walker, const MachineToolInstance& instance,
               std::uint16_t machine_tool_ns, MachineSignalMapping& out) {
  const auto* m = out.signal->mapping("opc40501");
  if (m == nullptr || m->none()) {
    out.why_not = "no OPC 40501-1 counterpart";
    if (m != nullptr && m->target.starts_with("none:")) out.why_not += m->target.substr(4);
    return Status::ok();
  }
  const Opc40501Target target = parse_opc40501_target(m->target);
  if (target.before.empty() && target.placeholder.empty()) {
    out.why_not = "the model's OPC 40501 mapping names no path (\"" + m->target + "\")";
    return Status::ok();
  }
  auto base = walker.path(instance.node, target.before);
  if (!base) return base.error();
  if (!*base) {
    out.why_not = target.before + " not found below " + instance.name;
    return Status::ok();
  }
  ReferenceDescription at = std::move(**base);
  out.path = target.before;
  if (!target.placeholder.empty()) {
    const Placeholder* p = nullptr;
    for (const auto& candidate : kPlaceholders)
      if (candidate.name == target.placeholder) p = &candidate;
    if (p == nullptr) {
      out.why_not = "placeholder " + target.placeholder + " is not one the connector can resolve";
      return Status::ok();
    }
    if (p->pick == Pick::kUnknowable) {
      out.why_not = std::string(p->why_unknowable);
      return Status::ok();
    }
    auto instances = walker.children_of_type(at.node_id.node, p->type, machine_tool_ns);
    if (!instances) return instances.error();
    if (instances->empty()) {
      out.why_not = "no " + std::string(p->type) + " instance (" + target.placeholder + ") below " +
                    target.before;
      return Status::ok();
    }
    const ReferenceDescription* chosen = &instances->front();
    if (p->pick == Pick::kRunningJob) {
      auto job = running_job(walker, *instances);
      if (!job) return job.error();
      chosen = *job;
    }
    at = *chosen;
    out.path += (out.path.empty() ? "" : "/") + std::string(at.browse_name.name.view());
    if (!target.after.empty()) {
      auto leaf = walker.path(at.node_id.node, target.after);
      if (!leaf) return leaf.error();
      std::string leaf_path = target.after;
      if (!*leaf) {
        for (const auto& [optional, stand_in] : kLeafFallbacks) {
          if (last_segment(target.after) != optional) continue;
          leaf_path =
              target.after.substr(0, target.after.size() - optional.size()) + std::string(stand_in);
          leaf = walker.path(at.node_id.node, leaf_path);
          if (!leaf) return leaf.error();
        }
      }
      if (!*leaf) {
        out.why_not = target.after + " not found below " + instance.name + "/" + out.path;
        return Status::ok();
      }
      at = std::move(**leaf);
      out.path += "/" + leaf_path;
    }
  }
  if (at.node_class != NodeClass::kVariable) {
    out.why_not = out.path + " is " + std::string(node_class_name(at.node_class)) +
                  ", not a variable (40501 reports this with events, which the connector does not "
                  "subscribe to)";
    return Status::ok();
  }
  for (const auto& [leaf, values] : kEnumTranslations) {
    if (last_segment(out.path) != leaf) continue;
    for (const auto& v : values) {
      bool found = false;
      for (const auto& [ours, name] : out.signal->values) {
        if (name != v.ours) continue;
        out.value_map.emplace_back(v.server, static_cast<double>(ours));
        found = true;
      }
      if (!found) {
        out.why_not = out.path + " is an enumeration and signal " + out.signal->name +
                      " has no value \"" + std::string(v.ours) + "\" to translate it into";
        out.value_map.clear();
        return Status::ok();
      }
    }
  }
  out.node = at.node_id.node;
  return Status::ok();
}

}  // namespace

Result<std::vector<MachineSignalMapping>> map_machine_tool(BrowseWalker& walker,
                                                           const MachineToolInstance& instance,
                                                           const infomodel::Category& category,
                                                           std::uint16_t machine_tool_ns) {
  std::vector<MachineSignalMapping> out;
  out.reserve(category.signals.size());
  for (const auto& signal : category.signals) {
    MachineSignalMapping m;
    m.signal = &signal;
    if (Status s = map_one(walker, instance, machine_tool_ns, m); !s) return error(std::move(s));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace resonance::opcua
