#include "resonance/infomodel/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace resonance::infomodel {

std::string_view to_string(DataType type) {
  switch (type) {
    case DataType::kBool: return "bool";
    case DataType::kInt32: return "int32";
    case DataType::kUInt32: return "uint32";
    case DataType::kInt64: return "int64";
    case DataType::kFloat: return "float";
    case DataType::kDouble: return "double";
    case DataType::kEnum: return "enum";
  }
  return "?";
}

std::optional<DataType> parse_data_type(std::string_view text) {
  for (auto t : {DataType::kBool, DataType::kInt32, DataType::kUInt32, DataType::kInt64,
                 DataType::kFloat, DataType::kDouble, DataType::kEnum})
    if (to_string(t) == text) return t;
  return std::nullopt;
}

bool is_integer(DataType type) { return type != DataType::kFloat && type != DataType::kDouble; }

std::int32_t unece_unit_id(std::string_view code) {
  // OPC UA Part 8, 5.6.3: each character's ASCII value, the first in the most significant of the
  // used bytes; at most four characters (Rec 20 codes have two or three).
  std::uint32_t id = 0;
  for (std::size_t i = 0; i < code.size() && i < 4; ++i)
    id = (id << 8) | static_cast<unsigned char>(code[i]);
  return static_cast<std::int32_t>(id);
}

std::string_view standard_title(std::string_view key) {
  if (key == "opc40501") return "OPC 40501-1 Machine Tools (umati)";
  if (key == "euromap77_83") return "EUROMAP 77/83 (OPC 40077/40083)";
  if (key == "vda5050") return "VDA 5050";
  if (key == "mtconnect") return "MTConnect";
  if (key == "isa95_b2mml") return "ISA-95 / B2MML";
  if (key == "opc10030") return "OPC 10030 ISA-95 Common Object Model";
  if (key == "other") return "Other companion specifications";
  return key;
}

namespace {
const Mapping* find_mapping(const std::vector<Mapping>& mappings, std::string_view standard) {
  for (const auto& m : mappings)
    if (m.standard == standard) return &m;
  return nullptr;
}
}  // namespace

const Mapping* Signal::mapping(std::string_view standard) const {
  return find_mapping(mappings, standard);
}
const Mapping* Event::mapping(std::string_view standard) const {
  return find_mapping(mappings, standard);
}

const Signal* Category::find_signal(std::string_view signal_name) const {
  for (const auto& s : signals)
    if (s.name == signal_name) return &s;
  return nullptr;
}

const Category* Model::find_category(std::string_view id) const {
  for (const auto& c : categories)
    if (c.id == id) return &c;
  return nullptr;
}

const Unit* Model::find_unit(std::string_view code) const {
  for (const auto& u : units)
    if (u.code == code) return &u;
  return nullptr;
}

const AiInterface* Model::find_ai_interface(std::string_view id) const {
  for (const auto& a : ai_interfaces)
    if (a.id == id) return &a;
  return nullptr;
}

const Category* Model::category_for_equipment(std::string_view equipment) const {
  // The equipment name without its instance number: "cnc-01" -> "cnc", "agv_7" -> "agv",
  // "robot3" -> "robot". The longest matching prefix wins so "cnc" and "cncx" can coexist.
  std::size_t end = equipment.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(equipment[end - 1]))) --end;
  while (end > 0 && (equipment[end - 1] == '-' || equipment[end - 1] == '_')) --end;
  const std::string_view stem = equipment.substr(0, end);
  for (const auto& c : categories)
    for (const auto& p : c.equipment_prefixes)
      if (p == stem) return &c;
  return nullptr;
}

Result<SignalRef> lookup_path(const Model& model, std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (segments.size() != 5)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("series path '{}': expected 5 segments site/area/line/equipment/signal, "
                             "found {}", path, segments.size()));
  const auto equipment = segments[3];
  const auto signal_name = segments[4];
  const Category* category = model.category_for_equipment(equipment);
  if (category == nullptr)
    return error(StatusCode::kNotFound,
                 fmt::format("series path '{}': equipment '{}' matches no category's "
                             "equipment_prefixes (`resonance infomodel show` lists them)",
                             path, equipment));
  const Signal* signal = category->find_signal(signal_name);
  if (signal == nullptr)
    return error(StatusCode::kNotFound,
                 fmt::format("series path '{}': category '{}' has no signal '{}'", path,
                             category->id, signal_name));
  return SignalRef{category, signal};
}

Result<AiOutputRef> lookup_ai_output(const Model& model, std::string_view path) {
  const auto slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (!last.starts_with("ai."))
    return error(StatusCode::kNotFound, fmt::format("series path '{}': '{}' is not an ai.<interface>.<output> name", path, last));
  const auto dot = last.find('.', 3);
  if (dot == std::string_view::npos)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("series path '{}': '{}' lacks the output (ai.<interface>.<output>)", path, last));
  const std::string_view interface_id = last.substr(3, dot - 3), output = last.substr(dot + 1);
  const std::string_view before = slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
  const auto eq = before.rfind('/');
  const Category* category =
      model.category_for_equipment(eq == std::string_view::npos ? before : before.substr(eq + 1));
  if (category == nullptr)
    return error(StatusCode::kNotFound,
                 fmt::format("series path '{}': the equipment matches no category's equipment_prefixes", path));
  const AiInterface* contract = model.find_ai_interface(interface_id);
  if (contract == nullptr)
    return error(StatusCode::kNotFound, fmt::format("series path '{}': no AI interface '{}'", path, interface_id));
  for (const auto& o : contract->outputs)
    if (o.name == output) return AiOutputRef{category, contract, &o};
  return error(StatusCode::kNotFound,
               fmt::format("series path '{}': interface '{}' has no output '{}'", path, interface_id, output));
}

}  // namespace resonance::infomodel
