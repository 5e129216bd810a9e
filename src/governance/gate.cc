// The egress gate's rules (docs/governance.md "Rules"), its cache and its decision records.

#include "resonance/governance/gate.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace resonance::governance {

namespace {

constexpr TimestampNs kForever = std::numeric_limits<TimestampNs>::max();

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool any_match(const std::vector<std::string>& patterns, std::string_view scope) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns)
    if (match_path(p, scope)) return true;
  return false;
}

Decision deny(std::string_view rule_id, std::string reason) {
  return Decision{Verdict::kDeny, std::string(rule_id), std::move(reason), {}};
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  return verdict == Verdict::kAllow ? "allow" : "deny";
}

void MemoryDecisionSink::record(const DecisionRecord& record) {
  std::lock_guard lock(mu_);
  records_.push_back(record);
}

std::vector<DecisionRecord> MemoryDecisionSink::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

std::size_t MemoryDecisionSink::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

Decision EgressGate::evaluate(const Policy& policy, const Subject& subject,
                              std::string_view destination, std::string_view purpose,
                              TimestampNs now_ns, TimestampNs* valid_until_ns) {
  TimestampNs until = kForever;  // a denial here never turns into an allow as time passes
  if (valid_until_ns != nullptr) *valid_until_ns = until;
  const auto& l = subject.labels;
  const Destination* d = policy.find_destination(destination);
  if (d == nullptr)
    return deny(
        rule::kUnknownDestination,
        fmt::format("destination '{}' is not declared in policy {}; egress is denied by default",
                    destination, policy.version));
  if (l.grade == Grade::kCore)
    return deny(rule::kCore, "core data (GB/T 43697-2024) never leaves the node");
  if (!d->purposes.empty() && !contains(d->purposes, purpose))
    return deny(rule::kPurposeNotAllowed,
                fmt::format("destination '{}' ({}:{}) does not accept purpose '{}'", d->id,
                            d->where.file, d->where.line, purpose));
  if (l.sharing > d->max_sharing)
    return deny(rule::kSharing,
                fmt::format("labelled sharing={} but destination '{}' accepts at most {}",
                            to_string(l.sharing), d->id, to_string(d->max_sharing)));
  if (l.trade_secret && !d->trade_secrets)
    return deny(
        rule::kTradeSecret,
        fmt::format("a trade secret and destination '{}' is not cleared for trade secrets", d->id));
  const bool cross_border = d->jurisdiction != policy.jurisdiction;
  std::vector<std::string> used;
  std::string route_id, consent_id;

  if (l.grade == Grade::kImportant) {
    const Route* valid = nullptr;
    const Route* expired = nullptr;
    for (const auto& r : policy.routes) {
      if (r.destination != d->id || !any_match(r.series, subject.scope)) continue;
      if (!r.purposes.empty() && !contains(r.purposes, purpose)) continue;
      if (r.valid_until_ns > now_ns) {
        valid = &r;
        break;
      }
      if (expired == nullptr) expired = &r;
    }
    if (valid == nullptr && expired != nullptr)
      return deny(
          rule::kImportantRouteExpired,
          fmt::format("important data; route '{}' ({} {}, {}:{}) to '{}' expired at {}",
                      expired->id, expired->type, expired->approval_ref, expired->where.file,
                      expired->where.line, d->id, format_rfc3339(expired->valid_until_ns)));
    if (valid == nullptr)
      return deny(
          rule::kImportantNoRoute,
          fmt::format("important data and no approved route to '{}' covers it for purpose '{}'",
                      d->id, purpose));
    until = std::min(until, valid->valid_until_ns);
    route_id = valid->id;
    used.push_back(fmt::format("route '{}' ({} {}, valid until {})", valid->id, valid->type,
                               valid->approval_ref, format_rfc3339(valid->valid_until_ns)));
  }

  if (l.personal != Personal::kNone) {
    const Consent* ok = nullptr;
    std::optional<Decision> first_denial;
    for (const auto& c : policy.consents) {
      if (!match_path(c.subject, subject.scope) || !contains(c.purposes, purpose)) continue;
      const std::string at = fmt::format("consent '{}' ({}:{})", c.id, c.where.file, c.where.line);
      std::optional<Decision> why;
      if (c.withdrawn_ns && *c.withdrawn_ns <= now_ns)
        why = deny(rule::kPersonalWithdrawn,
                   fmt::format("{} was withdrawn at {}", at, format_rfc3339(*c.withdrawn_ns)));
      else if (c.expires_ns <= now_ns)
        why = deny(rule::kPersonalExpired,
                   fmt::format("{} expired at {}", at, format_rfc3339(c.expires_ns)));
      else if (cross_border && !c.cross_border)
        why = deny(rule::kPersonalCrossBorder,
                   fmt::format("{} does not include separate consent for provision abroad ({} -> "
                               "{}, PIPL Art. 39)",
                               at, policy.jurisdiction, d->jurisdiction));
      else if (l.personal == Personal::kSensitive && !c.sensitive)
        why = deny(
            rule::kPersonalSensitive,
            fmt::format("sensitive personal information and {} is not a separate consent for it "
                        "(PIPL Art. 29)",
                        at));
      if (!why) {
        ok = &c;
        break;
      }
      if (!first_denial) first_denial = std::move(why);
    }
    if (ok == nullptr) {
      if (first_denial) return *first_denial;
      return deny(rule::kPersonalNoConsent,
                  fmt::format("{} information and no consent record covers it for purpose '{}'",
                              to_string(l.personal), purpose));
    }
    until = std::min(until, ok->expires_ns);
    consent_id = ok->id;
    if (ok->withdrawn_ns) until = std::min(until, *ok->withdrawn_ns);
    used.push_back(fmt::format("consent '{}' (basis {}, expires {})", ok->id, ok->legal_basis,
                               format_rfc3339(ok->expires_ns)));
  }

  if (valid_until_ns != nullptr) *valid_until_ns = until;
  Decision allow{Verdict::kAllow, std::string(rule::kAllow), {}, {}};
  std::string records;
  for (const auto& u : used) records += (records.empty() ? "" : "; ") + u;
  allow.reason =
      fmt::format("{} data ({}) to '{}' ({}{}) for '{}'{}{}", to_string(l.grade), describe(l),
                  d->id, d->jurisdiction, cross_border ? ", cross-border" : "", purpose,
                  records.empty() ? "" : " under ", records);
  // The record that allowed it (the route for important data, else the consent) names the
  // decision in logs; both are in the reason.
  allow.record = !route_id.empty() ? route_id : consent_id;
  return allow;
}

EgressGate::EgressGate(std::shared_ptr<const Policy> policy, DecisionSink& sink)
    : policy_(std::move(policy)), sink_(sink) {
  for (const auto& r : policy_->routes)
    if (!r.series.empty()) scoped_routes_ = true;
}

std::size_t EgressGate::cache_size() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

void EgressGate::decide_one(const Subject& subject, std::string_view destination,
                            std::string_view purpose, TimestampNs now_ns, Decision& out,
                            bool& cached) {
  const auto& l = subject.labels;
  // The scope is part of the key only when a decision can depend on it (consents, scoped routes).
  const bool scoped =
      l.personal != Personal::kNone || (l.grade == Grade::kImportant && scoped_routes_);
  // One key buffer per thread: after warm-up building the key allocates nothing.
  thread_local std::string key;
  key.clear();
  const auto cls = label_class(l);
  key.append(reinterpret_cast<const char*>(&cls), sizeof cls);
  // Length-prefixed fields: no choice of destination and purpose text can collide with another.
  const auto field = [](std::string_view v) {
    const auto n = static_cast<std::uint32_t>(v.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n).append(v);
  };
  field(destination);
  field(purpose);
  // The policy's identity: one gate holds one policy, so this is constant here; it stays in the
  // key so that a cache shared between gates could never mix policies.
  field(policy_->version);
  field(std::string_view(policy_->sha256).substr(0, 16));
  if (scoped) key.append(subject.scope);
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(std::string_view(key));
        it != cache_.end() && now_ns < it->second.valid_until_ns) {
      cached = true;
      out = it->second.decision;
      return;
    }
  }
  cached = false;
  TimestampNs until = 0;
  out = evaluate(*policy_, subject, destination, purpose, now_ns, &until);
  std::lock_guard lock(mu_);
  // Bounded: a flood of distinct scopes must not grow memory without limit; dropping the cache
  // only costs re-evaluation.
  if (cache_.size() >= 65536) cache_.clear();
  cache_.insert_or_assign(key, Cached{out, until});
}

Decision EgressGate::decide(const Subject& subject, std::string_view destination,
                            std::string_view purpose, TimestampNs now_ns) {
  return decide(std::span<const Subject>(&subject, 1), destination, purpose, now_ns);
}

Decision EgressGate::decide(std::span<const Subject> subjects, std::string_view destination,
                            std::string_view purpose, TimestampNs now_ns) {
  // Reused per thread: assignments keep their capacity, so a cached decision allocates only the
  // Decision it returns. A sink must therefore not call back into a gate from record().
  thread_local DecisionRecord rec;
  thread_local Decision one;
  rec.destination.assign(destination);
  rec.purpose.assign(purpose);
  rec.policy_version.assign(policy_->version);
  rec.policy_sha256.assign(policy_->sha256);
  rec.at_ns = now_ns;
  rec.cached = !subjects.empty();
  std::size_t asked = 0;
  if (subjects.empty()) {
    rec.decision = deny(rule::kEmpty, "nothing was named to send; a request must name what leaves");
  } else {
    bool have_allow = false;
    for (const auto& s : subjects) {
      if (rec.scopes.size() <= asked) rec.scopes.emplace_back();
      rec.scopes[asked++].assign(s.scope);
      bool cached = false;
      decide_one(s, destination, purpose, now_ns, one, cached);
      rec.cached = rec.cached && cached;
      if (!one.allowed()) {
        // Reasons from the cache never name a series (a cached answer serves many); say here
        // which member of the request was denied.
        rec.decision = one;
        rec.decision.reason = fmt::format("series '{}': {}", s.scope, one.reason);
        have_allow = false;
        break;
      }
      if (!have_allow) {
        rec.decision = one;
        have_allow = true;
      }
    }
  }
  rec.scopes.resize(asked);
  sink_.record(rec);
  return rec.decision;
}

Subject make_subject(const Policy& policy, const infomodel::Model* model,
                     std::string_view series_path) {
  return Subject{resolve_labels(policy, model, series_path).labels, std::string(series_path)};
}

Subject SubjectResolver::resolve(std::string_view series_path) {
  std::lock_guard lock(mu_);
  if (auto it = subjects_.find(std::string(series_path)); it != subjects_.end()) return it->second;
  if (subjects_.size() >= 65536) subjects_.clear();
  return subjects_.emplace(std::string(series_path), make_subject(*policy_, model_, series_path))
      .first->second;
}

}  // namespace resonance::governance
