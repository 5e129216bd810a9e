// Policy queries: path patterns, effective labels, and the policy rendered for people and the API.

#include "resonance/governance/policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "resonance/infomodel/model.h"

namespace resonance::governance {

namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

// Glob within one segment: '*' matches any run of characters. Iterative with one backtrack point,
// so a pattern like "*a*a*a*b" costs O(n*m) at worst, never exponential.
bool match_segment(std::string_view pat, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pat.size() && pat[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool match_segments(std::span<const std::string_view> pat, std::span<const std::string_view> path) {
  if (pat.empty()) return path.empty();
  if (pat.front() == "**") {
    // Collapse repeated "**" so that a hostile pattern cannot make this exponential.
    std::size_t skip = 1;
    while (skip < pat.size() && pat[skip] == "**") ++skip;
    for (std::size_t i = 0; i <= path.size(); ++i)
      if (match_segments(pat.subspan(skip), path.subspan(i))) return true;
    return false;
  }
  if (path.empty() || !match_segment(pat.front(), path.front())) return false;
  return match_segments(pat.subspan(1), path.subspan(1));
}

std::string where_text(const Where& w) {
  return fmt::format("{}:{}", w.file, w.line);
}

std::string time_text(TimestampNs ns) {
  return format_rfc3339(ns);
}

}  // namespace

bool match_path(std::string_view pattern, std::string_view path) {
  const auto pat = split(pattern);
  const auto segs = split(path);
  return match_segments(pat, segs);
}

const Destination* Policy::find_destination(std::string_view id) const {
  for (const auto& d : destinations)
    if (d.id == id) return &d;
  return nullptr;
}

const Transformation* Policy::find_transformation(std::string_view id) const {
  for (const auto& t : transformations)
    if (t.id == id) return &t;
  return nullptr;
}

ResolvedLabels resolve_labels(const Policy& policy, const infomodel::Model* model,
                              std::string_view series_path) {
  ResolvedLabels out;
  std::string base = "default (no information-model signal for this path)";
  // A model output (".../<equipment>/ai.<interface>.<output>") is derived data: it inherits the
  // strictest effective labels (policy overrides included) of the inputs its contract reads on the
  // same equipment; only an override on the output's own path (below) changes that afterwards.
  bool derived = false;
  if (model != nullptr && !infomodel::lookup_path(*model, series_path)) {
    if (auto ai = infomodel::lookup_ai_output(*model, series_path)) {
      const std::string_view equipment = series_path.substr(0, series_path.rfind('/') + 1);
      std::vector<Labels> inputs;
      std::vector<std::string> names;
      for (const auto& in : ai->interface->inputs) {
        if (in.category != "*" && in.category != ai->category->id) continue;
        for (const auto& signal : ai->category->signals) {
          if (in.signal != "*" && in.signal != signal.name) continue;
          inputs.push_back(resolve_labels(policy, model, std::string(equipment) + signal.name).labels);
          names.push_back(signal.name);
        }
      }
      if (auto merged = strictest(inputs)) {
        out.labels = *merged;
        derived = true;
        base = fmt::format("derived: strictest of the inputs of AI interface '{}' ({})", ai->interface->id,
                           fmt::join(names, ", "));
      }
    }
  }
  if (model != nullptr && !derived) {
    if (auto ref = infomodel::lookup_path(*model, series_path)) {
      const auto& l = ref->signal->labels;
      // The information model names the same grades; an unknown word there is caught by its own
      // loader, so falling back to the default is only a guard.
      out.labels.grade = parse_grade(l.grade).value_or(Grade::kGeneral);
      out.labels.personal = parse_personal(l.personal).value_or(Personal::kNone);
      out.labels.trade_secret = l.trade_secret;
      base = fmt::format("infomodel {}:{} (signal '{}' of category '{}')", ref->signal->where.file,
                         ref->signal->where.line, ref->signal->name, ref->category->id);
    }
  }
  const std::string other = derived ? base : std::string("default");
  out.origins = {{"grade", base},      {"personal", base}, {"trade_secret", base},
                 {"sharing", other},   {"owner", other},   {"custodian", other}};
  for (const auto& o : policy.labels) {
    if (!match_path(o.pattern, series_path)) continue;
    const std::string src = fmt::format("policy {} (pattern '{}')", where_text(o.where), o.pattern);
    auto set = [&](std::string_view field) {
      for (auto& origin : out.origins)
        if (origin.field == field) origin.source = src;
    };
    if (o.grade) out.labels.grade = *o.grade, set("grade");
    if (o.personal) out.labels.personal = *o.personal, set("personal");
    if (o.trade_secret) out.labels.trade_secret = *o.trade_secret, set("trade_secret");
    if (o.sharing) out.labels.sharing = *o.sharing, set("sharing");
    if (o.owner) out.labels.owner = *o.owner, set("owner");
    if (o.custodian) out.labels.custodian = *o.custodian, set("custodian");
  }
  return out;
}

std::string policy_json(const Policy& p) {
  using nlohmann::json;
  json js;
  js["schema_version"] = p.schema_version;
  js["version"] = p.version;
  js["source"] = p.source;
  js["sha256"] = p.sha256;
  js["node"] = {{"jurisdiction", p.jurisdiction}, {"ciio", p.ciio}};
  js["labels"] = json::array();
  for (const auto& o : p.labels) {
    json l = {{"pattern", o.pattern}, {"where", where_text(o.where)}};
    if (o.grade) l["grade"] = to_string(*o.grade);
    if (o.personal) l["personal"] = to_string(*o.personal);
    if (o.trade_secret) l["trade_secret"] = *o.trade_secret;
    if (o.sharing) l["sharing"] = to_string(*o.sharing);
    if (o.owner) l["owner"] = *o.owner;
    if (o.custodian) l["custodian"] = *o.custodian;
    js["labels"].push_back(std::move(l));
  }
  js["destinations"] = json::array();
  for (const auto& d : p.destinations)
    js["destinations"].push_back({{"id", d.id},
                                  {"jurisdiction", d.jurisdiction},
                                  {"cross_border", d.jurisdiction != p.jurisdiction},
                                  {"description", d.description},
                                  {"max_sharing", to_string(d.max_sharing)},
                                  {"trade_secrets", d.trade_secrets},
                                  {"purposes", d.purposes}});
  js["routes"] = json::array();
  for (const auto& r : p.routes)
    js["routes"].push_back({{"id", r.id},
                            {"type", r.type},
                            {"destination", r.destination},
                            {"approval_ref", r.approval_ref},
                            {"series", r.series},
                            {"purposes", r.purposes},
                            {"valid_until", time_text(r.valid_until_ns)}});
  js["consents"] = json::array();
  for (const auto& c : p.consents) {
    json cj = {{"id", c.id},
               {"subject", c.subject},
               {"purposes", c.purposes},
               {"legal_basis", c.legal_basis},
               {"expires", time_text(c.expires_ns)},
               {"withdrawn", c.withdrawn_ns ? json(time_text(*c.withdrawn_ns)) : json(nullptr)},
               {"cross_border", c.cross_border},
               {"sensitive", c.sensitive}};
    js["consents"].push_back(std::move(cj));
  }
  js["transformations"] = json::array();
  for (const auto& t : p.transformations)
    js["transformations"].push_back({{"id", t.id},
                                     {"kind", t.kind},
                                     {"approved_by", t.approved_by},
                                     {"approval_ref", t.approval_ref},
                                     {"lowers_grade_to", to_string(t.lowers_grade_to)},
                                     {"lowers_personal_to", to_string(t.lowers_personal_to)},
                                     {"clears_trade_secret", t.clears_trade_secret},
                                     {"lowers_sharing_to", to_string(t.lowers_sharing_to)}});
  // Replace invalid UTF-8 rather than throw: the file is the user's and may hold anything.
  return js.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string policy_text(const Policy& p) {
  auto list = [](const std::vector<std::string>& v, std::string_view empty) {
    if (v.empty()) return std::string(empty);
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  std::string out =
      fmt::format("policy {} (schema {}) from {}\nsha256 {}\nnode jurisdiction {}{}\n", p.version,
                  p.schema_version, p.source, p.sha256, p.jurisdiction, p.ciio ? " (CIIO)" : "");
  out +=
      "rules: deny by default; core never leaves; important only over an approved, unexpired "
      "route;\n"
      "       personal only with unexpired, unwithdrawn consent for the purpose\n";
  out += fmt::format("\nlabel overrides ({}):\n", p.labels.size());
  for (const auto& o : p.labels) {
    out += fmt::format("  {:<40}", o.pattern);
    if (o.grade) out += fmt::format(" grade={}", to_string(*o.grade));
    if (o.personal) out += fmt::format(" personal={}", to_string(*o.personal));
    if (o.trade_secret) out += fmt::format(" trade_secret={}", *o.trade_secret);
    if (o.sharing) out += fmt::format(" sharing={}", to_string(*o.sharing));
    if (o.owner) out += fmt::format(" owner={}", *o.owner);
    if (o.custodian) out += fmt::format(" custodian={}", *o.custodian);
    out += fmt::format("   [{}]\n", where_text(o.where));
  }
  out += fmt::format("\ndestinations ({}):\n", p.destinations.size());
  for (const auto& d : p.destinations)
    out += fmt::format("  {:<20} {} {} max_sharing={} trade_secrets={} purposes={}\n", d.id,
                       d.jurisdiction,
                       d.jurisdiction == p.jurisdiction ? "(domestic)" : "(cross-border)",
                       to_string(d.max_sharing), d.trade_secrets, list(d.purposes, "any"));
  out += fmt::format("\nroutes ({}):\n", p.routes.size());
  for (const auto& r : p.routes)
    out += fmt::format("  {:<20} {} to {} ref {} valid until {} series={} purposes={}\n", r.id,
                       r.type, r.destination, r.approval_ref, time_text(r.valid_until_ns),
                       list(r.series, "all"), list(r.purposes, "any"));
  out += fmt::format("\nconsents ({}):\n", p.consents.size());
  for (const auto& c : p.consents)
    out += fmt::format("  {:<20} {} basis={} purposes={} expires {}{}{}{}\n", c.id, c.subject,
                       c.legal_basis, list(c.purposes, "none"), time_text(c.expires_ns),
                       c.withdrawn_ns ? " WITHDRAWN " + time_text(*c.withdrawn_ns) : std::string(),
                       c.cross_border ? " cross_border" : "", c.sensitive ? " sensitive" : "");
  out += fmt::format("\ntransformations ({}):\n", p.transformations.size());
  for (const auto& t : p.transformations)
    out +=
        fmt::format("  {:<20} {} approved by {} ({}) lowers to grade={} personal={} sharing={}{}\n",
                    t.id, t.kind, t.approved_by, t.approval_ref, to_string(t.lowers_grade_to),
                    to_string(t.lowers_personal_to), to_string(t.lowers_sharing_to),
                    t.clears_trade_secret ? " trade_secret=false" : "");
  return out;
}

}  // namespace resonance::governance
