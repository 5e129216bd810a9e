// The policy file parser and schema check (docs/formats/policy.md). Every problem is collected
// with its file, line, column, section and key, and all are reported at once.

#include <fmt/format.h>
#include <sodium.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "resonance/governance/policy.h"

namespace resonance::governance {

namespace {

class Reader {
 public:
  Reader(std::string file, std::vector<std::string>& errors)
      : file_(std::move(file)), errors_(errors) {}

  void fail(const toml::node& at, std::string_view context, std::string_view message) {
    const auto& b = at.source().begin;
    errors_.push_back(fmt::format("{}:{}:{}: {}{}{}", file_, b.line, b.column, context,
                                  context.empty() ? "" : ": ", message));
  }

  Where where(const toml::node& at) const { return {file_, at.source().begin.line}; }

  // Unknown keys are errors: a misspelt "valid_unitl" must not silently drop an expiry.
  void check_keys(const toml::table& table, std::string_view context,
                  std::initializer_list<std::string_view> allowed) {
    for (auto&& [key, value] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(value, context, fmt::format("unknown key '{}' (allowed: {})", key.str(), list));
    }
  }

  static std::string describe(const toml::node& node) {
    if (auto s = node.as_string()) return fmt::format("the string \"{}\"", s->get());
    if (auto i = node.as_integer()) return fmt::format("the integer {}", i->get());
    if (auto f = node.as_floating_point()) return fmt::format("the number {}", f->get());
    if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
    if (node.is_table()) return "a table";
    if (node.is_array()) return "an array";
    return "a date/time";
  }

  const toml::node* field(const toml::table& t, std::string_view key, std::string_view ctx,
                          bool required) {
    const toml::node* node = t.get(key);
    if (node == nullptr && required) fail(t, ctx, fmt::format("missing key '{}'", key));
    return node;
  }

  std::optional<std::string> str(const toml::table& t, std::string_view key, std::string_view ctx,
                                 bool required, bool non_empty = true) {
    const auto* node = field(t, key, ctx, required);
    if (node == nullptr) return std::nullopt;
    if (auto s = node->as_string()) {
      if (non_empty && s->get().empty()) {
        fail(*node, ctx, fmt::format("key '{}': must not be empty", key));
        return std::nullopt;
      }
      return s->get();
    }
    fail(*node, ctx, fmt::format("key '{}': expected a string, found {}", key, describe(*node)));
    return std::nullopt;
  }

  std::optional<bool> boolean(const toml::table& t, std::string_view key, std::string_view ctx) {
    const auto* node = field(t, key, ctx, false);
    if (node == nullptr) return std::nullopt;
    if (auto b = node->as_boolean()) return b->get();
    fail(*node, ctx,
         fmt::format("key '{}': expected true or false, found {}", key, describe(*node)));
    return std::nullopt;
  }

  std::vector<std::string> strings(const toml::table& t, std::string_view key,
                                   std::string_view ctx) {
    std::vector<std::string> out;
    const auto* node = field(t, key, ctx, false);
    if (node == nullptr) return out;
    const auto* arr = node->as_array();
    if (arr == nullptr) {
      fail(*node, ctx,
           fmt::format("key '{}': expected an array of strings, found {}", key, describe(*node)));
      return out;
    }
    for (const auto& item : *arr) {
      if (auto s = item.as_string(); s && !s->get().empty())
        out.push_back(s->get());
      else
        fail(item, ctx,
             fmt::format("key '{}': expected a non-empty string, found {}", key, describe(item)));
    }
    return out;
  }

  // One of `choices`, parsed by `parse`.
  template <typename T, typename Parse>
  std::optional<T> choice(const toml::table& t, std::string_view key, std::string_view ctx,
                          bool required, std::string_view choices, Parse parse) {
    const auto* node = field(t, key, ctx, required);
    if (node == nullptr) return std::nullopt;
    const auto* s = node->as_string();
    if (s != nullptr)
      if (auto v = parse(std::string_view(s->get()))) return v;
    fail(*node, ctx,
         fmt::format("key '{}': expected one of {}, found {}", key, choices, describe(*node)));
    return std::nullopt;
  }

  // A TOML offset date-time (2029-05-01T00:00:00Z) or a date (2029-05-01 = 00:00:00 UTC that day).
  std::optional<TimestampNs> time(const toml::table& t, std::string_view key, std::string_view ctx,
                                  bool required) {
    const auto* node = field(t, key, ctx, required);
    if (node == nullptr) return std::nullopt;
    toml::date date{};
    toml::time tod{};
    std::int64_t offset_min = 0;
    if (auto d = node->as_date()) {
      date = d->get();
    } else if (auto dt = node->as_date_time(); dt && dt->get().offset) {
      date = dt->get().date;
      tod = dt->get().time;
      offset_min = dt->get().offset->minutes;
    } else {
      fail(*node, ctx,
           fmt::format("key '{}': expected a date (2029-05-01) or a date-time with a UTC "
                       "offset (2029-05-01T00:00:00Z), found {}",
                       key,
                       node->is_date_time() ? "a date-time without an offset" : describe(*node)));
      return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day ymd{year{date.year}, month{date.month}, day{date.day}};
    if (!ymd.ok() || date.year < 1970 || date.year > 2200) {
      fail(*node, ctx, fmt::format("key '{}': date out of range (1970..2200)", key));
      return std::nullopt;
    }
    const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
    const std::int64_t secs =
        days * 86400 + tod.hour * 3600 + tod.minute * 60 + tod.second - offset_min * 60;
    return secs * kNanosPerSecond + tod.nanosecond;
  }

 private:
  std::string file_;
  std::vector<std::string>& errors_;
};

constexpr std::string_view kGrades = "\"general\", \"important\", \"core\"";
constexpr std::string_view kPersonals = "\"none\", \"personal\", \"sensitive\"";
constexpr std::string_view kSharings = "\"clear\", \"green\", \"amber\", \"amber_strict\", \"red\"";

std::optional<std::string_view> one_of(std::string_view text,
                                       std::initializer_list<std::string_view> options) {
  for (auto o : options)
    if (o == text) return o;
  return std::nullopt;
}

// Visits each table of the array of tables `key`; reports a non-table entry.
template <typename F>
void each_table(Reader& r, const toml::table& root, std::string_view key, F f) {
  const auto* node = root.get(key);
  if (node == nullptr) return;
  const auto* arr = node->as_array();
  if (arr == nullptr) {
    r.fail(*node, "",
           fmt::format("'{}' must be an array of tables ([[{}]]), found {}", key, key,
                       Reader::describe(*node)));
    return;
  }
  for (const auto& item : *arr) {
    if (const auto* t = item.as_table())
      f(*t);
    else
      r.fail(item, "", fmt::format("'{}' entries must be tables ([[{}]])", key, key));
  }
}

Status check_pattern(std::string_view pattern) {
  std::size_t start = 0;
  while (true) {
    const auto slash = pattern.find('/', start);
    const auto seg = pattern.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return Status(StatusCode::kInvalidArgument, "empty path segment");
    if (seg.find("**") != std::string_view::npos && seg != "**")
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("'**' must be a whole segment, found '{}'", seg));
    for (char c : seg)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
            c == '*'))
        return Status(StatusCode::kInvalidArgument,
                      fmt::format("character '{}' not allowed in segment '{}'", c, seg));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string out;
  for (unsigned char b : digest) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

Result<Policy> parse_policy(std::string_view toml_text, const std::string& source_name) {
  toml::table root;
  try {  // toml++ reports syntax errors by exception; loading a policy is configuration loading
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("{}:{}:{}: TOML syntax error: {}", source_name, e.source().begin.line,
                             e.source().begin.column, e.description()));
  }
  std::vector<std::string> errors;
  Reader r(source_name, errors);
  Policy p;
  p.source = source_name;
  p.sha256 = sha256_hex(toml_text);

  r.check_keys(root, "",
               {"schema_version", "kind", "version", "node", "label", "destination", "route",
                "consent", "transformation"});
  if (const auto* sv = r.field(root, "schema_version", "", true)) {
    if (auto i = sv->as_integer(); !i || i->get() != kPolicySchemaVersion)
      r.fail(*sv, "",
             fmt::format("key 'schema_version': this build reads schema {}, found {}",
                         kPolicySchemaVersion, Reader::describe(*sv)));
  }
  if (auto kind = r.str(root, "kind", "", true); kind && *kind != "policy")
    r.fail(*root.get("kind"), "",
           fmt::format("key 'kind': expected \"policy\", found \"{}\"", *kind));
  p.version = r.str(root, "version", "", true).value_or("");

  if (const auto* node = r.field(root, "node", "", true)) {
    if (const auto* t = node->as_table()) {
      r.check_keys(*t, "[node]", {"jurisdiction", "ciio"});
      if (auto j = r.str(*t, "jurisdiction", "[node]", true)) {
        if (j->size() != 2 || !std::isupper(static_cast<unsigned char>((*j)[0])) ||
            !std::isupper(static_cast<unsigned char>((*j)[1])))
          r.fail(*t->get("jurisdiction"), "[node]",
                 fmt::format("key 'jurisdiction': expected an ISO 3166-1 alpha-2 code like \"CN\", "
                             "found \"{}\"",
                             *j));
        p.jurisdiction = *j;
      }
      p.ciio = r.boolean(*t, "ciio", "[node]").value_or(false);
    } else {
      r.fail(*node, "", "'node' must be a table ([node])");
    }
  }

  auto pattern = [&](const toml::table& t, std::string_view key, std::string_view ctx,
                     bool required) {
    auto v = r.str(t, key, ctx, required);
    if (v) {
      if (auto st = check_pattern(*v); !st)
        r.fail(*t.get(key), ctx,
               fmt::format("key '{}': bad path pattern \"{}\": {}", key, *v, st.message()));
    }
    return v;
  };

  each_table(r, root, "label", [&](const toml::table& t) {
    const std::string ctx = "[[label]]";
    r.check_keys(t, ctx,
                 {"pattern", "grade", "personal", "trade_secret", "sharing", "owner", "custodian"});
    LabelOverride o;
    o.pattern = pattern(t, "pattern", ctx, true).value_or("");
    o.grade = r.choice<Grade>(t, "grade", ctx, false, kGrades, parse_grade);
    o.personal = r.choice<Personal>(t, "personal", ctx, false, kPersonals, parse_personal);
    o.trade_secret = r.boolean(t, "trade_secret", ctx);
    o.sharing = r.choice<Sharing>(t, "sharing", ctx, false, kSharings, parse_sharing);
    o.owner = r.str(t, "owner", ctx, false);
    o.custodian = r.str(t, "custodian", ctx, false);
    o.where = r.where(t);
    p.labels.push_back(std::move(o));
  });

  std::set<std::string>
      ids;  // destination, route, consent and transformation ids share one namespace
  auto unique_id = [&](const toml::table& t, std::string_view section) -> std::string {
    const std::string ctx = fmt::format("[[{}]]", section);
    auto id = r.str(t, "id", ctx, true);
    if (!id) return {};
    if (!ids.insert(*id).second)
      r.fail(*t.get("id"), ctx,
             fmt::format("key 'id': \"{}\" is already used by another entry", *id));
    return *id;
  };

  each_table(r, root, "destination", [&](const toml::table& t) {
    Destination d;
    d.id = unique_id(t, "destination");
    const std::string ctx = fmt::format("[[destination]] '{}'", d.id);
    r.check_keys(t, ctx,
                 {"id", "jurisdiction", "description", "max_sharing", "trade_secrets", "purposes"});
    d.jurisdiction = r.str(t, "jurisdiction", ctx, true).value_or("");
    d.description = r.str(t, "description", ctx, false, false).value_or("");
    d.max_sharing = r.choice<Sharing>(t, "max_sharing", ctx, false, kSharings, parse_sharing)
                        .value_or(Sharing::kGreen);
    d.trade_secrets = r.boolean(t, "trade_secrets", ctx).value_or(false);
    d.purposes = r.strings(t, "purposes", ctx);
    d.where = r.where(t);
    p.destinations.push_back(std::move(d));
  });

  each_table(r, root, "route", [&](const toml::table& t) {
    Route rt;
    rt.id = unique_id(t, "route");
    const std::string ctx = fmt::format("[[route]] '{}'", rt.id);
    r.check_keys(
        t, ctx, {"id", "type", "destination", "approval_ref", "series", "purposes", "valid_until"});
    rt.type = std::string(
        r.choice<std::string_view>(t, "type", ctx, true,
                                   "\"security_assessment\", \"standard_contract\", "
                                   "\"certification\", \"exempt\", \"domestic\"",
                                   [](std::string_view s) {
                                     return one_of(s, {"security_assessment", "standard_contract",
                                                       "certification", "exempt", "domestic"});
                                   })
            .value_or(""));
    rt.destination = r.str(t, "destination", ctx, true).value_or("");
    rt.approval_ref = r.str(t, "approval_ref", ctx, true).value_or("");
    if (const auto* node = t.get("series")) {
      rt.series = r.strings(t, "series", ctx);
      for (const auto& s : rt.series)
        if (auto st = check_pattern(s); !st)
          r.fail(*node, ctx,
                 fmt::format("key 'series': bad path pattern \"{}\": {}", s, st.message()));
    }
    rt.purposes = r.strings(t, "purposes", ctx);
    rt.valid_until_ns = r.time(t, "valid_until", ctx, true).value_or(0);
    rt.where = r.where(t);
    p.routes.push_back(std::move(rt));
  });

  each_table(r, root, "consent", [&](const toml::table& t) {
    Consent c;
    c.id = unique_id(t, "consent");
    const std::string ctx = fmt::format("[[consent]] '{}'", c.id);
    r.check_keys(t, ctx,
                 {"id", "subject", "purposes", "legal_basis", "expires", "withdrawn",
                  "cross_border", "sensitive"});
    c.subject = pattern(t, "subject", ctx, true).value_or("");
    c.purposes = r.strings(t, "purposes", ctx);
    if (c.purposes.empty() && t.get("purposes") == nullptr)
      r.fail(t, ctx, "missing key 'purposes' (a consent is always for named purposes)");
    c.legal_basis = std::string(
        r.choice<std::string_view>(
             t, "legal_basis", ctx, true,
             "\"consent\", \"contract\", \"hr_management\", \"legal_obligation\", "
             "\"emergency\", \"public_interest\", \"other\"",
             [](std::string_view s) {
               return one_of(s, {"consent", "contract", "hr_management", "legal_obligation",
                                 "emergency", "public_interest", "other"});
             })
            .value_or(""));
    c.expires_ns = r.time(t, "expires", ctx, true).value_or(0);
    c.withdrawn_ns = r.time(t, "withdrawn", ctx, false);
    c.cross_border = r.boolean(t, "cross_border", ctx).value_or(false);
    c.sensitive = r.boolean(t, "sensitive", ctx).value_or(false);
    c.where = r.where(t);
    p.consents.push_back(std::move(c));
  });

  each_table(r, root, "transformation", [&](const toml::table& t) {
    Transformation x;
    x.id = unique_id(t, "transformation");
    const std::string ctx = fmt::format("[[transformation]] '{}'", x.id);
    r.check_keys(t, ctx,
                 {"id", "kind", "approved_by", "approval_ref", "lowers_grade_to",
                  "lowers_personal_to", "clears_trade_secret", "lowers_sharing_to"});
    x.kind = std::string(
        r.choice<std::string_view>(
             t, "kind", ctx, true,
             "\"aggregation\", \"deidentification\", \"commitment\", \"other\"",
             [](std::string_view s) {
               return one_of(s, {"aggregation", "deidentification", "commitment", "other"});
             })
            .value_or(""));
    x.approved_by = r.str(t, "approved_by", ctx, true).value_or("");
    x.approval_ref = r.str(t, "approval_ref", ctx, true).value_or("");
    x.lowers_grade_to = r.choice<Grade>(t, "lowers_grade_to", ctx, false, kGrades, parse_grade)
                            .value_or(Grade::kCore);
    x.lowers_personal_to =
        r.choice<Personal>(t, "lowers_personal_to", ctx, false, kPersonals, parse_personal)
            .value_or(Personal::kSensitive);
    x.clears_trade_secret = r.boolean(t, "clears_trade_secret", ctx).value_or(false);
    x.lowers_sharing_to =
        r.choice<Sharing>(t, "lowers_sharing_to", ctx, false, kSharings, parse_sharing)
            .value_or(Sharing::kRed);
    const auto w = r.where(t);
    x.where = fmt::format("{}:{}", w.file, w.line);
    p.transformations.push_back(std::move(x));
  });

  // Cross-references: a route must lead to a declared destination.
  for (const auto& rt : p.routes)
    if (!rt.destination.empty() && p.find_destination(rt.destination) == nullptr)
      errors.push_back(
          fmt::format("{}:{}: [[route]] '{}': key 'destination': no [[destination]] with id \"{}\"",
                      rt.where.file, rt.where.line, rt.id, rt.destination));

  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return error(StatusCode::kInvalidArgument, std::move(msg));
  }
  return p;
}

Result<Policy> load_policy_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return error(StatusCode::kNotFound,
                 fmt::format("{}: cannot open the policy file", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return error(StatusCode::kIoError, fmt::format("{}: read failed", file.string()));
  return parse_policy(text.str(), file.string());
}

PolicyLoadRecord load_record(const Policy& policy, TimestampNs now_ns) {
  return PolicyLoadRecord{policy.version,
                          policy.sha256,
                          policy.source,
                          now_ns,
                          policy.labels.size(),
                          policy.destinations.size(),
                          policy.routes.size(),
                          policy.consents.size(),
                          policy.transformations.size()};
}

}  // namespace resonance::governance
