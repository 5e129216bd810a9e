// `resonance policy explain|show|check` (issue 7): why a series may or may not leave the node, the
// policy in force, and a schema check of a policy file.

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "resonance/core/catalog.h"
#include "resonance/governance/gate.h"
#include "resonance/governance/policy.h"
#include "resonance/infomodel/loader.h"

namespace resonance::app {

namespace {

std::optional<governance::Policy> load_or_report(const std::string& file) {
  auto policy = governance::load_policy_file(file);
  if (!policy) {
    std::cerr << "error: " << policy.error().message() << "\n";
    set_exit_code(2);
    return std::nullopt;
  }
  return std::move(*policy);
}

struct ExplainOptions {
  std::string policy;
  std::vector<std::string> series;
  std::string destination;
  std::string purpose = "monitoring";
  std::string at;
  std::string model_dir;
  bool json = false;
};

void explain(const ExplainOptions& o) {
  auto policy = load_or_report(o.policy);
  if (!policy) return;
  TimestampNs now = unix_now_ns();
  if (!o.at.empty()) {
    auto t = parse_timestamp(o.at);
    if (!t) {
      std::cerr << fmt::format("error: --at '{}': {}\n", o.at, t.error().message());
      set_exit_code(2);
      return;
    }
    now = *t;
  }
  infomodel::Model storage;
  const infomodel::Model* model = &infomodel::builtin_model();
  if (!o.model_dir.empty()) {
    auto loaded = infomodel::load_model_dir(o.model_dir);
    if (!loaded) {
      std::cerr << "error: " << loaded.error().message() << "\n";
      set_exit_code(2);
      return;
    }
    storage = std::move(*loaded);
    model = &storage;
  }
  for (const auto& s : o.series) {
    if (auto st = validate_series_path(s); !st) {
      std::cerr << fmt::format("error: --series '{}': {}\n", s, st.message());
      set_exit_code(2);
      return;
    }
  }
  std::vector<governance::ResolvedLabels> resolved;
  std::vector<governance::Subject> subjects;
  for (const auto& s : o.series) {
    resolved.push_back(governance::resolve_labels(*policy, model, s));
    subjects.push_back({resolved.back().labels, s});
  }
  auto shared = std::make_shared<const governance::Policy>(std::move(*policy));
  governance::MemoryDecisionSink sink;
  governance::EgressGate gate(shared, sink);
  const auto decision = gate.decide(subjects, o.destination, o.purpose, now);
  const auto* dest = shared->find_destination(o.destination);

  if (o.json) {
    nlohmann::json js;
    js["decision"] = governance::to_string(decision.verdict);
    js["rule"] = decision.rule;
    js["reason"] = decision.reason;
    js["record"] = decision.record;
    js["destination"] = {
        {"id", o.destination},
        {"declared", dest != nullptr},
        {"jurisdiction", dest ? dest->jurisdiction : ""},
        {"cross_border", dest != nullptr && dest->jurisdiction != shared->jurisdiction}};
    js["purpose"] = o.purpose;
    js["at"] = format_rfc3339(now);
    js["policy"] = {
        {"version", shared->version}, {"sha256", shared->sha256}, {"source", shared->source}};
    js["series"] = nlohmann::json::array();
    for (std::size_t i = 0; i < o.series.size(); ++i) {
      const auto& r = resolved[i];
      nlohmann::json origins;
      for (const auto& origin : r.origins) origins[origin.field] = origin.source;
      js["series"].push_back({{"path", o.series[i]},
                              {"labels",
                               {{"grade", governance::to_string(r.labels.grade)},
                                {"personal", governance::to_string(r.labels.personal)},
                                {"trade_secret", r.labels.trade_secret},
                                {"sharing", governance::to_string(r.labels.sharing)},
                                {"owner", r.labels.owner},
                                {"custodian", r.labels.custodian}}},
                              {"origins", origins}});
    }
    std::cout << js.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << fmt::format("{}  (rule {})\n", decision.allowed() ? "ALLOW" : "DENY",
                             decision.rule);
    std::cout << fmt::format("reason: {}\n", decision.reason);
    std::cout << fmt::format(
        "destination: {} {}\n", o.destination,
        dest == nullptr ? "(not declared in the policy)"
                        : fmt::format("({}, {})", dest->jurisdiction,
                                      dest->jurisdiction == shared->jurisdiction ? "domestic"
                                                                                 : "cross-border"));
    std::cout << fmt::format("purpose: {}\nat: {}\npolicy: {} sha256 {} ({})\n", o.purpose,
                             format_rfc3339(now), shared->version, shared->sha256, shared->source);
    for (std::size_t i = 0; i < o.series.size(); ++i) {
      std::cout << fmt::format("\nseries {}\n  labels: {}\n", o.series[i],
                               governance::describe(resolved[i].labels));
      for (const auto& origin : resolved[i].origins)
        std::cout << fmt::format("    {:<13} from {}\n", origin.field, origin.source);
    }
  }
  // Scripts can branch on the verdict: 0 allow, 1 deny, 2 error.
  set_exit_code(decision.allowed() ? 0 : 1);
}

}  // namespace

void register_policy(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "policy", "Explain, show and check the governance policy (docs/governance.md)");
  cmd->require_subcommand(1);

  static ExplainOptions ex;
  auto* explain_cmd = cmd->add_subcommand("explain",
                                          "Say whether series may leave to a destination, by which "
                                          "rule, and where each label came from "
                                          "(exit 0 allow, 1 deny, 2 error)");
  explain_cmd->add_option("--policy", ex.policy, "Policy file (TOML, docs/formats/policy.md)")
      ->required();
  explain_cmd
      ->add_option("--series", ex.series,
                   "Series path site/area/line/equipment/signal (repeatable: a set)")
      ->required();
  explain_cmd
      ->add_option("--destination", ex.destination, "Destination id as the policy declares it")
      ->required();
  explain_cmd->add_option("--purpose", ex.purpose, "Purpose of the transfer (default: monitoring)");
  explain_cmd->add_option("--at", ex.at, "Decide as of this time (RFC 3339), default now");
  explain_cmd->add_option("--model", ex.model_dir,
                          "Information-model directory (default: the built-in model)");
  explain_cmd->add_flag("--json", ex.json, "Print JSON");
  explain_cmd->callback([] { explain(ex); });

  static std::string show_file;
  static bool show_json = false;
  auto* show = cmd->add_subcommand(
      "show", "Print the policy in force (as GET /api/v1/policy shows it with --json)");
  show->add_option("--policy", show_file, "Policy file")->required();
  show->add_flag("--json", show_json, "Print JSON");
  show->callback([] {
    auto policy = load_or_report(show_file);
    if (!policy) return;
    std::cout << (show_json ? governance::policy_json(*policy) + "\n"
                            : governance::policy_text(*policy));
  });

  static std::string check_file;
  auto* check = cmd->add_subcommand(
      "check", "Validate a policy file; print every problem as file:line:column");
  check->add_option("FILE", check_file, "Policy file")->required();
  check->callback([] {
    auto policy = load_or_report(check_file);
    if (!policy) return;
    const auto rec = governance::load_record(*policy, unix_now_ns());
    std::cout << fmt::format(
        "{}: ok (policy {}, sha256 {}; {} label overrides, {} destinations, {} routes, "
        "{} consents, {} transformations)\n",
        check_file, rec.version, rec.sha256, rec.label_overrides, rec.destinations, rec.routes,
        rec.consents, rec.transformations);
  });
}

}  // namespace resonance::app
