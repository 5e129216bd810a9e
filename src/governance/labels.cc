#include "resonance/governance/labels.h"

#include <fmt/format.h>

#include <algorithm>

namespace resonance::governance {

std::string_view to_string(Grade grade) {
  switch (grade) {
    case Grade::kGeneral: return "general";
    case Grade::kImportant: return "important";
    case Grade::kCore: return "core";
  }
  return "?";
}

std::string_view to_string(Personal personal) {
  switch (personal) {
    case Personal::kNone: return "none";
    case Personal::kPersonal: return "personal";
    case Personal::kSensitive: return "sensitive";
  }
  return "?";
}

std::string_view to_string(Sharing sharing) {
  switch (sharing) {
    case Sharing::kClear: return "clear";
    case Sharing::kGreen: return "green";
    case Sharing::kAmber: return "amber";
    case Sharing::kAmberStrict: return "amber_strict";
    case Sharing::kRed: return "red";
  }
  return "?";
}

std::optional<Grade> parse_grade(std::string_view text) {
  for (auto g : {Grade::kGeneral, Grade::kImportant, Grade::kCore})
    if (to_string(g) == text) return g;
  return std::nullopt;
}

std::optional<Personal> parse_personal(std::string_view text) {
  for (auto p : {Personal::kNone, Personal::kPersonal, Personal::kSensitive})
    if (to_string(p) == text) return p;
  return std::nullopt;
}

std::optional<Sharing> parse_sharing(std::string_view text) {
  for (auto s :
       {Sharing::kClear, Sharing::kGreen, Sharing::kAmber, Sharing::kAmberStrict, Sharing::kRed})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

std::uint32_t label_class(const Labels& l) {
  return static_cast<std::uint32_t>(l.grade) | static_cast<std::uint32_t>(l.personal) << 4 |
         static_cast<std::uint32_t>(l.trade_secret) << 8 |
         static_cast<std::uint32_t>(l.sharing) << 12;
}

std::string describe(const Labels& l) {
  std::string out =
      fmt::format("grade={} personal={} trade_secret={} sharing={}", to_string(l.grade),
                  to_string(l.personal), l.trade_secret, to_string(l.sharing));
  if (!l.owner.empty()) out += fmt::format(" owner={}", l.owner);
  if (!l.custodian.empty()) out += fmt::format(" custodian={}", l.custodian);
  return out;
}

namespace {

// Every distinct non-empty value, in first-seen order, joined with ", ".
std::string merge_parties(std::span<const Labels> inputs, std::string Labels::*field) {
  std::vector<std::string> seen;
  for (const auto& l : inputs) {
    const auto& v = l.*field;
    if (!v.empty() && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  }
  std::string out;
  for (const auto& v : seen) out += (out.empty() ? "" : ", ") + v;
  return out;
}

}  // namespace

Result<Labels> strictest(std::span<const Labels> inputs) {
  if (inputs.empty())
    return error(
        StatusCode::kInvalidArgument,
        "derived labels: no inputs given; a derived artefact must name the data it came from");
  Labels out = inputs.front();
  for (const auto& l : inputs.subspan(1)) {
    out.grade = std::max(out.grade, l.grade);
    out.personal = std::max(out.personal, l.personal);
    out.trade_secret = out.trade_secret || l.trade_secret;
    out.sharing = std::max(out.sharing, l.sharing);
  }
  out.owner = merge_parties(inputs, &Labels::owner);
  out.custodian = merge_parties(inputs, &Labels::custodian);
  return out;
}

Result<DerivationRecord> derive_labels(std::span<const Labels> inputs,
                                       const Transformation* transformation) {
  auto inherited = strictest(inputs);
  if (!inherited) return error(inherited.error());
  DerivationRecord rec;
  rec.inherited = *inherited;
  rec.result = *inherited;
  rec.input_count = inputs.size();
  if (transformation == nullptr) return rec;
  const auto& t = *transformation;
  if (t.approved_by.empty() || t.approval_ref.empty())
    return error(StatusCode::kFailedPrecondition,
                 fmt::format("derived labels: transformation '{}' has no approval (approved_by and "
                             "approval_ref are required to lower labels)",
                             t.id));
  rec.transformation_id = t.id;
  rec.approved_by = t.approved_by;
  rec.approval_ref = t.approval_ref;
  auto& r = rec.result;
  // Lowering only: a transformation never makes a label stricter than what was inherited.
  if (t.lowers_grade_to < r.grade) {
    rec.lowered.push_back(
        fmt::format("grade: {} -> {}", to_string(r.grade), to_string(t.lowers_grade_to)));
    r.grade = t.lowers_grade_to;
  }
  if (t.lowers_personal_to < r.personal) {
    rec.lowered.push_back(
        fmt::format("personal: {} -> {}", to_string(r.personal), to_string(t.lowers_personal_to)));
    r.personal = t.lowers_personal_to;
  }
  if (t.clears_trade_secret && r.trade_secret) {
    rec.lowered.emplace_back("trade_secret: true -> false");
    r.trade_secret = false;
  }
  if (t.lowers_sharing_to < r.sharing) {
    rec.lowered.push_back(
        fmt::format("sharing: {} -> {}", to_string(r.sharing), to_string(t.lowers_sharing_to)));
    r.sharing = t.lowers_sharing_to;
  }
  return rec;
}

}  // namespace resonance::governance
