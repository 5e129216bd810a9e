#pragma once
// The information model: the ISA-95 equipment hierarchy, equipment categories with typed signals
// and events, their mappings to OPC 40501, EUROMAP 77/83, VDA 5050, MTConnect, ISA-95/B2MML and
// OPC 10030, and the AI-model interface contracts. The model is data (infomodel/*.toml, format in
// docs/formats/infomodel.md); these are the value types it loads into. A loaded Model is
// immutable and safe to read from any thread.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::infomodel {

inline constexpr std::int64_t kSchemaVersion = 1;  // the per-file schema this build reads

enum class DataType : std::uint8_t { kBool, kInt32, kUInt32, kInt64, kFloat, kDouble, kEnum };
std::string_view to_string(DataType type);
std::optional<DataType> parse_data_type(std::string_view text);
bool is_integer(DataType type);  // int32, uint32, int64, enum, bool

// UNECE Recommendation 20 common code with its OPC UA EUInformation.
struct Unit {
  std::string code;    // "MMT"
  std::string symbol;  // "mm" (EUInformation.DisplayName)
  std::string name;    // "millimetre" (EUInformation.Description)
  std::int32_t unit_id = 0;  // EUInformation.UnitId, computed from the code (OPC UA Part 8, 5.6.3)
};
// The OPC UA Part 8 encoding: up to four ASCII characters packed big-endian ("CEL" -> 0x43454C).
std::int32_t unece_unit_id(std::string_view code);

// Default governance labels of a signal (issue 7 enforces them).
struct Labels {
  std::string grade = "general";   // core | important | general (GB/T 43697-2024 grades)
  std::string personal = "none";   // none | personal | sensitive (PIPL)
  bool trade_secret = false;
};

// The standards every signal and event is mapped to, in the order documents show them.
inline constexpr std::string_view kStandards[] = {"opc40501",  "euromap77_83", "vda5050",
                                                  "mtconnect", "isa95_b2mml",  "opc10030"};
std::string_view standard_title(std::string_view key);

struct Mapping {
  std::string standard;  // a key of kStandards, or "other"
  std::string target;    // "none" or "none: why" when the standard has no counterpart
  bool none() const { return target == "none" || target.starts_with("none:"); }
};

struct SourceLocation {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

struct Signal {
  std::string name;
  std::string description;
  DataType type = DataType::kDouble;
  std::string unit;               // UNECE code; empty = no engineering unit (ids, states)
  std::optional<double> min, max; // inclusive range; absent for bool and enum
  double rate_hz = 1.0;           // nominal sampling rate
  Labels labels;
  std::map<std::int64_t, std::string> values;  // enum values
  std::vector<Mapping> mappings;  // kStandards order, then "other" if given
  SourceLocation where;
  const Mapping* mapping(std::string_view standard) const;
};

struct Event {
  std::string name;
  std::string kind;  // alarm | program_change | tool_change | job_start | job_end | cycle | state_change | quality_result
  std::string description;
  std::string signal;  // the signal whose change raises it; may be empty
  std::vector<Mapping> mappings;
  SourceLocation where;
  const Mapping* mapping(std::string_view standard) const;
};

struct Category {
  std::string id;
  std::string name;
  std::string description;
  std::vector<std::string> equipment_prefixes;  // "cnc" matches equipment "cnc-01", "cnc_2", "cnc7"
  std::string isa95_equipment_class;
  std::vector<std::string> companion_types;
  std::vector<Signal> signals;
  std::vector<Event> events;
  std::string file;
  SourceLocation id_where;        // of the `id` field, for errors found across files
  SourceLocation prefixes_where;  // of the `equipment_prefixes` field
  const Signal* find_signal(std::string_view name) const;
};

struct HierarchyLevel {
  std::string id;
  std::string name;
  std::string isa95;           // IEC 62264 / B2MML EquipmentElementLevel
  std::int64_t opc10030_level = 0;  // ISA95EquipmentElementLevelEnum value
  std::int64_t path_segment = 0;    // 1-based segment of a series path; 0 = not in the path
  std::string description;
};

struct AiInput {
  std::string category;  // "*" = any category the model is bound to
  std::string signal;    // "*" = every signal
  double window_s = 0;   // history the model needs; 0 = the latest value
};

struct AiOutput {
  std::string name;
  DataType type = DataType::kDouble;
  std::string unit;
  std::optional<double> min, max;
  std::map<std::int64_t, std::string> values;
  std::string description;
};

struct AiDelivery {
  std::string isa95_object;
  std::string b2mml;
  std::string opcua;
  std::string mqtt;
};

struct AiInterface {
  std::string id;
  std::string name;
  std::string operations_category;  // production | maintenance | quality | inventory
  std::string description;
  std::vector<AiInput> inputs;
  std::vector<AiOutput> outputs;
  AiDelivery delivery;
};

struct Model {
  std::int64_t schema_version = kSchemaVersion;
  std::string model_version;
  std::string name;
  std::vector<HierarchyLevel> hierarchy;
  std::vector<Unit> units;
  std::vector<Category> categories;  // ordered by id
  std::vector<AiInterface> ai_interfaces;

  const Category* find_category(std::string_view id) const;
  const Unit* find_unit(std::string_view code) const;
  const AiInterface* find_ai_interface(std::string_view id) const;
  // The category whose equipment_prefixes match an equipment name ("cnc-01" -> cnc).
  const Category* category_for_equipment(std::string_view equipment) const;
};

struct SignalRef {
  const Category* category = nullptr;
  const Signal* signal = nullptr;
};

// Resolves a series path "site/area/line/equipment/signal": the equipment segment picks the
// category (by its equipment_prefixes), the last segment the signal. The error says which.
Result<SignalRef> lookup_path(const Model& model, std::string_view path);

// Series written by live inference (docs/models.md): "site/area/line/equipment/ai.<interface>.<output>",
// the equipment's category found as for a signal, the interface and output from the contracts.
struct AiOutputRef {
  const Category* category = nullptr;
  const AiInterface* interface = nullptr;
  const AiOutput* output = nullptr;
};
Result<AiOutputRef> lookup_ai_output(const Model& model, std::string_view path);

}  // namespace resonance::infomodel
