#pragma once
// The governance policy: label overrides, destinations, export routes, consent records and
// approved transformations. It is a versioned TOML file (docs/formats/policy.md) checked against
// its schema at load time; every problem is reported as "FILE:LINE:COLUMN: [section] key: what".
// A loaded Policy is immutable and safe to read from any thread.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/core/time.h"
#include "resonance/governance/labels.h"

namespace resonance::infomodel {
struct Model;
}

namespace resonance::governance {

inline constexpr std::int64_t kPolicySchemaVersion = 1;

struct Where {
  std::string file;
  std::uint32_t line = 0;
};

// Overrides the information model's labels for every series whose path matches `pattern`.
// Only the fields present in the file are overridden; overrides apply in file order.
struct LabelOverride {
  std::string pattern;  // see match_path()
  std::optional<Grade> grade;
  std::optional<Personal> personal;
  std::optional<bool> trade_secret;
  std::optional<Sharing> sharing;
  std::optional<std::string> owner;
  std::optional<std::string> custodian;
  Where where;
};

struct Destination {
  std::string id;            // what sinks, exports and remote sessions name as their destination
  std::string jurisdiction;  // ISO 3166-1 alpha-2, e.g. "CN", "DE"
  std::string description;
  Sharing max_sharing = Sharing::kGreen;  // the most restrictive sharing label it may receive
  bool trade_secrets = false;             // an NDA covers trade secrets sent there
  std::vector<std::string> purposes;      // empty = any purpose
  Where where;
};

// An approved export route for important data (security assessment, standard contract,
// certification, exemption, or a domestic transfer approval).
struct Route {
  std::string id;
  std::string type;  // security_assessment | standard_contract | certification | exempt | domestic
  std::string destination;            // a Destination id
  std::string approval_ref;           // filing / approval number
  std::vector<std::string> series;    // path patterns covered; empty = every series
  std::vector<std::string> purposes;  // empty = any purpose
  TimestampNs valid_until_ns = 0;
  Where where;
};

// A consent (or other legal basis) record for personal information (PIPL Art. 13).
struct Consent {
  std::string id;
  std::string subject;  // path pattern of the series the record covers
  std::vector<std::string> purposes;
  std::string legal_basis;  // consent | contract | hr_management | legal_obligation | emergency |
                            // public_interest | other
  TimestampNs expires_ns = 0;
  std::optional<TimestampNs> withdrawn_ns;
  bool cross_border = false;  // separate consent for provision abroad (PIPL Art. 39)
  bool sensitive = false;     // separate consent for sensitive PI (PIPL Art. 29)
  Where where;
};

struct Policy {
  std::int64_t schema_version = kPolicySchemaVersion;
  std::string version;       // the policy author's version, e.g. "2026-11-21.1"
  std::string source;        // file name it was loaded from
  std::string sha256;        // hex digest of the file bytes
  std::string jurisdiction;  // the node's jurisdiction
  bool ciio = false;         // the operator is a critical information infrastructure operator
  std::vector<LabelOverride> labels;
  std::vector<Destination> destinations;
  std::vector<Route> routes;
  std::vector<Consent> consents;
  std::vector<Transformation> transformations;

  const Destination* find_destination(std::string_view id) const;
  const Transformation* find_transformation(std::string_view id) const;
};

// What loading a policy produced: to be logged (audit log entry "policy_load").
struct PolicyLoadRecord {
  std::string version;
  std::string sha256;
  std::string source;
  TimestampNs loaded_ns = 0;
  std::size_t label_overrides = 0, destinations = 0, routes = 0, consents = 0, transformations = 0;
};

// Matches a series path against a pattern of '/'-separated segments: "*" inside a segment matches
// any run of characters except '/', a segment "**" matches zero or more whole segments.
bool match_path(std::string_view pattern, std::string_view path);

// Parses and checks a policy. `source_name` is what errors call the file. Every problem is listed,
// one per line.
Result<Policy> parse_policy(std::string_view toml_text, const std::string& source_name);
Result<Policy> load_policy_file(const std::filesystem::path& file);
PolicyLoadRecord load_record(const Policy& policy, TimestampNs now_ns);

// The effective labels of a series: the information model's labels for its signal (or the
// defaults when `model` is null or the path is not in the model), then each matching override.
ResolvedLabels resolve_labels(const Policy& policy, const infomodel::Model* model,
                              std::string_view series_path);

// The policy in force as JSON (for GET /api/v1/policy and `resonance policy show --json`).
std::string policy_json(const Policy& policy);
// The same as human-readable text.
std::string policy_text(const Policy& policy);

}  // namespace resonance::governance
