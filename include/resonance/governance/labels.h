#pragma once
// Governance labels of a series, a batch or a derived artefact (model output, aggregate, dataset).
// Grades follow GB/T 43697-2024 (core > important > general); personal information follows PIPL
// (sensitive > personal > none); the sharing label is a Traffic Light Protocol 2.0 level. Derived
// data inherits the strictest label of its inputs on every axis (GB/T 43697 "就高从严") unless an
// approved transformation, named in the policy, lowers it; the lowering is returned as a record so
// the caller can log it.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::governance {

// Enumerators are ordered from least to most restrictive: std::max gives the strictest.
enum class Grade : std::uint8_t { kGeneral = 0, kImportant = 1, kCore = 2 };
enum class Personal : std::uint8_t { kNone = 0, kPersonal = 1, kSensitive = 2 };
enum class Sharing : std::uint8_t {
  kClear = 0,
  kGreen = 1,
  kAmber = 2,
  kAmberStrict = 3,
  kRed = 4
};

std::string_view to_string(Grade grade);
std::string_view to_string(Personal personal);
std::string_view to_string(Sharing sharing);
std::optional<Grade> parse_grade(std::string_view text);        // "general" | "important" | "core"
std::optional<Personal> parse_personal(std::string_view text);  // "none" | "personal" | "sensitive"
std::optional<Sharing> parse_sharing(
    std::string_view text);  // "clear" | "green" | "amber" | "amber_strict" | "red"

struct Labels {
  Grade grade = Grade::kGeneral;
  Personal personal = Personal::kNone;
  bool trade_secret = false;
  Sharing sharing =
      Sharing::kGreen;  // may leave the node to partners unless the policy says otherwise
  std::string owner;    // e.g. "urn:resonance:org:plant-owner"; empty = not stated
  std::string custodian;
  bool operator==(const Labels&) const = default;
};

// A dense code of the four restrictive axes (grade, personal, trade secret, sharing): equal codes
// mean the gate must decide equally. Owner and custodian do not change a decision.
std::uint32_t label_class(const Labels& labels);

// "grade=important personal=none trade_secret=true sharing=amber owner=… custodian=…"
std::string describe(const Labels& labels);

// Where each field of an effective label came from: "default", "infomodel:<file>:<line>",
// "policy:<file>:<line> pattern '<p>'". One entry per field, in field order.
struct LabelOrigin {
  std::string field;  // "grade", "personal", "trade_secret", "sharing", "owner", "custodian"
  std::string source;
};

struct ResolvedLabels {
  Labels labels;
  std::vector<LabelOrigin> origins;
};

// An approved transformation that may lower labels (aggregation, de-identification, commitment).
// Declared in the policy; `approved_by` and `approval_ref` say who approved it and where it is
// filed.
struct Transformation {
  std::string id;
  std::string kind;  // "aggregation" | "deidentification" | "commitment" | "other"
  std::string approved_by;
  std::string approval_ref;
  // How far the output may be lowered on each axis. Lowering only ever moves a label down to these
  // values, never raises it; the defaults (the strictest values) lower nothing.
  Grade lowers_grade_to = Grade::kCore;
  Personal lowers_personal_to = Personal::kSensitive;
  bool clears_trade_secret = false;
  Sharing lowers_sharing_to = Sharing::kRed;
  std::string where;  // "file:line" of its declaration
};

// What a derivation produced, to be logged (audit log) next to the artefact.
struct DerivationRecord {
  Labels inherited;               // the strictest of the inputs
  Labels result;                  // after the transformation, if any
  std::string transformation_id;  // empty = none applied
  std::string approved_by;
  std::string approval_ref;
  std::vector<std::string> lowered;  // "grade: important -> general", one per lowered field
  std::size_t input_count = 0;
};

// Strictest of the inputs on every axis. Owner/custodian: kept when all inputs agree, otherwise
// every distinct value joined with ", " (a derived artefact has several owners). Zero inputs is an
// error: an artefact with no recorded inputs cannot be labelled.
Result<Labels> strictest(std::span<const Labels> inputs);

// Labels of a derived artefact; `transformation` (nullptr = none) must come from the loaded policy.
Result<DerivationRecord> derive_labels(std::span<const Labels> inputs,
                                       const Transformation* transformation);

}  // namespace resonance::governance
