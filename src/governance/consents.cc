#include "resonance/governance/consents.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace resonance::governance {
namespace {

using json = nlohmann::json;

std::string dump(const json& js) { return js.dump(-1, ' ', false, json::error_handler_t::replace); }

bool expired(const Consent& c, TimestampNs now) { return c.expires_ns != 0 && c.expires_ns <= now; }

// What a change compares: every field that alters what the consent allows, except the withdrawal
// and the expiry state, which are actions of their own.
json terms(const Consent& c) {
  return {{"subject", c.subject},         {"purposes", c.purposes},       {"legal_basis", c.legal_basis},
          {"expires_ns", c.expires_ns},   {"cross_border", c.cross_border}, {"sensitive", c.sensitive}};
}

json state_of(const Consent& c, TimestampNs now) {
  json j = terms(c);
  j["id"] = c.id;
  j["withdrawn_ns"] = c.withdrawn_ns ? json(*c.withdrawn_ns) : json(nullptr);
  j["expired"] = expired(c, now);
  return j;
}

std::string time_or_null(std::optional<TimestampNs> ns) { return ns ? format_rfc3339(*ns) : std::string(); }

}  // namespace

std::string consent_state_json(const Policy& policy, TimestampNs now) {
  json list = json::array();
  for (const Consent& c : policy.consents) list.push_back(state_of(c, now));
  return dump({{"schema_version", 1}, {"policy_version", policy.version}, {"consents", std::move(list)}});
}

Result<std::vector<ConsentChange>> consent_changes(std::string_view previous_state, const Policy& policy,
                                                   TimestampNs now) {
  std::map<std::string, json, std::less<>> previous;
  if (!previous_state.empty()) {
    const json state = json::parse(previous_state, nullptr, false);
    if (state.is_discarded() || !state.is_object() || !state.contains("consents") || !state["consents"].is_array())
      return error(StatusCode::kCorruption, "consent state: expected a JSON object with a 'consents' array");
    std::size_t index = 0;
    for (const json& c : state["consents"]) {
      ++index;
      if (!c.is_object() || !c.contains("id") || !c["id"].is_string())
        return error(StatusCode::kCorruption, fmt::format("consent state: consents[{}] has no string 'id'", index));
      previous.emplace(c["id"].get<std::string>(), c);
    }
  }
  std::vector<ConsentChange> changes;
  for (const Consent& c : policy.consents) {
    const auto prev = previous.find(c.id);
    const bool withdrawn = c.withdrawn_ns.has_value();
    const bool is_expired = !withdrawn && expired(c, now);
    if (prev == previous.end()) {
      changes.push_back({c.id, "grant", &c});
    } else {
      json old_terms = prev->second;
      const bool was_withdrawn = old_terms.contains("withdrawn_ns") && !old_terms["withdrawn_ns"].is_null();
      const bool was_expired = old_terms.value("expired", false);
      for (const char* key : {"id", "withdrawn_ns", "expired"}) old_terms.erase(key);
      if (was_withdrawn && !withdrawn) {
        changes.push_back({c.id, "grant", &c});  // given again after a withdrawal: a new grant
      } else if (old_terms != terms(c)) {
        changes.push_back({c.id, "amend", &c});
      }
      previous.erase(prev);
      if (was_withdrawn && withdrawn) continue;
      if (was_expired && is_expired) continue;
    }
    if (withdrawn) changes.push_back({c.id, "withdraw", &c});
    else if (is_expired) changes.push_back({c.id, "expire", &c});
  }
  for (const auto& [id, state] : previous) changes.push_back({id, "remove", nullptr});
  return changes;
}

std::string to_json(const ConsentChange& change, const Policy& policy, TimestampNs at_ns) {
  json body = {{"consent_id", change.consent_id},
               {"action", change.action},
               {"at", format_rfc3339(at_ns)},
               {"policy_version", policy.version},
               {"policy_sha256", policy.sha256}};
  if (const Consent* c = change.consent) {
    body["scope"] = c->subject;
    body["purposes"] = c->purposes;
    body["legal_basis"] = c->legal_basis;
    body["expiry"] = c->expires_ns != 0 ? format_rfc3339(c->expires_ns) : std::string();
    body["withdrawn"] = time_or_null(c->withdrawn_ns);
    body["cross_border"] = c->cross_border;
    body["sensitive"] = c->sensitive;
  }
  return dump(body);
}

}  // namespace resonance::governance
