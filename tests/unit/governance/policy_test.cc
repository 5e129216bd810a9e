#include "resonance/governance/policy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "resonance/infomodel/loader.h"

namespace resonance::governance {
namespace {

constexpr const char* kHeader = R"(schema_version = 1
kind = "policy"
version = "t1"
[node]
jurisdiction = "CN"
)";

TEST(Policy, ExampleFileLoads) {
  auto p = load_policy_file(std::string(RESONANCE_SOURCE_DIR) + "/examples/policy.toml");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->version, "2026-11-21.1");
  EXPECT_EQ(p->jurisdiction, "CN");
  EXPECT_EQ(p->destinations.size(), 3u);
  EXPECT_EQ(p->routes.size(), 2u);
  EXPECT_EQ(p->consents.size(), 1u);
  EXPECT_EQ(p->transformations.size(), 1u);
  ASSERT_NE(p->find_destination("vendor-de"), nullptr);
  EXPECT_EQ(p->find_destination("vendor-de")->jurisdiction, "DE");
  EXPECT_EQ(p->find_destination("nowhere"), nullptr);
  // 2029-05-01T00:00:00Z and the date 2027-12-31 (midnight UTC).
  EXPECT_EQ(p->routes[0].valid_until_ns, 1872288000LL * kNanosPerSecond);
  EXPECT_EQ(p->routes[1].valid_until_ns, 1830211200LL * kNanosPerSecond);
}

TEST(Policy, LoadRecordCarriesVersionAndHashOfTheBytes) {
  const std::string a = std::string(kHeader);
  const std::string b = a + "# a comment changes the bytes\n";
  auto pa = parse_policy(a, "a.toml");
  auto pb = parse_policy(b, "b.toml");
  ASSERT_TRUE(pa && pb);
  auto ra = load_record(*pa, 42);
  EXPECT_EQ(ra.version, "t1");
  EXPECT_EQ(ra.source, "a.toml");
  EXPECT_EQ(ra.loaded_ns, 42);
  ASSERT_EQ(ra.sha256.size(), 64u);
  EXPECT_NE(ra.sha256, load_record(*pb, 42).sha256);
  // SHA-256 of the empty string is a fixed known value: check the digest really is SHA-256.
  auto empty = parse_policy("", "e.toml");
  ASSERT_FALSE(empty);  // missing keys
}

struct BadCase {
  const char* name;
  std::string text;
  std::vector<std::string> expect;  // substrings of the error
};

TEST(Policy, MalformedFilesNameFileLineAndKey) {
  const std::string h = kHeader;  // 5 lines
  const std::vector<BadCase> cases = {
      {"toml syntax", h + "[[route]\n", {"bad.toml:6:", "TOML syntax error"}},
      {"missing version",
       "schema_version = 1\nkind = \"policy\"\n[node]\njurisdiction = \"CN\"\n",
       {"bad.toml:1:1:", "missing key 'version'"}},
      {"wrong schema",
       "schema_version = 2\nkind = \"policy\"\nversion = \"x\"\n[node]\njurisdiction = \"CN\"\n",
       {"bad.toml:1:", "schema_version", "reads schema 1"}},
      {"wrong kind",
       "schema_version = 1\nkind = \"config\"\nversion = \"x\"\n[node]\njurisdiction = \"CN\"\n",
       {"bad.toml:2:", "key 'kind'", "\"config\""}},
      {"bad jurisdiction",
       "schema_version = 1\nkind = \"policy\"\nversion = \"x\"\n[node]\njurisdiction = \"china\"\n",
       {"bad.toml:5:", "[node]", "jurisdiction", "alpha-2"}},
      {"unknown top key", h + "versoin = \"x\"\n", {"bad.toml:6:", "unknown key 'versoin'"}},
      {"unknown label key",
       h + "[[label]]\npattern = \"a/**\"\ngrdae = \"core\"\n",
       {"bad.toml:8:", "[[label]]", "unknown key 'grdae'"}},
      {"bad grade",
       h + "[[label]]\npattern = \"a/**\"\ngrade = \"secret\"\n",
       {"bad.toml:8:", "key 'grade'", "\"general\", \"important\", \"core\"", "\"secret\""}},
      {"bad personal",
       h + "[[label]]\npattern = \"**\"\npersonal = \"yes\"\n",
       {"bad.toml:8:", "key 'personal'"}},
      {"bad sharing",
       h + "[[label]]\npattern = \"**\"\nsharing = \"AMBER\"\n",
       {"bad.toml:8:", "key 'sharing'"}},
      {"bad pattern",
       h + "[[label]]\npattern = \"a//b\"\n",
       {"bad.toml:7:", "key 'pattern'", "empty path segment"}},
      {"partial double star",
       h + "[[label]]\npattern = \"a/b**\"\n",
       {"bad.toml:7:", "'**' must be a whole segment"}},
      {"label not a table",
       "schema_version = 1\nkind = \"policy\"\nversion = \"x\"\nlabel = 3\n[node]\njurisdiction = "
       "\"CN\"\n",
       {"bad.toml:4:", "array of tables"}},
      {"trade_secret type",
       h + "[[label]]\npattern = \"**\"\ntrade_secret = \"yes\"\n",
       {"bad.toml:8:", "key 'trade_secret'", "true or false"}},
      {"destination missing jurisdiction",
       h + "[[destination]]\nid = \"d\"\n",
       {"bad.toml:6:", "[[destination]] 'd'", "missing key 'jurisdiction'"}},
      {"duplicate id",
       h + "[[destination]]\nid = \"d\"\njurisdiction = \"CN\"\n[[destination]]\nid = "
           "\"d\"\njurisdiction = \"DE\"\n",
       {"bad.toml:10:", "\"d\" is already used"}},
      {"route to unknown destination",
       h + "[[route]]\nid = \"r\"\ntype = \"exempt\"\ndestination = \"nowhere\"\napproval_ref = "
           "\"x\"\nvalid_until = 2030-01-01\n",
       {"bad.toml:6:", "[[route]] 'r'", "key 'destination'", "\"nowhere\""}},
      {"route bad type",
       h + "[[destination]]\nid = \"d\"\njurisdiction = \"DE\"\n[[route]]\nid = \"r\"\ntype = "
           "\"handshake\"\ndestination = \"d\"\napproval_ref = \"x\"\nvalid_until = 2030-01-01\n",
       {"bad.toml:11:", "key 'type'", "security_assessment"}},
      {"route expiry as string",
       h + "[[destination]]\nid = \"d\"\njurisdiction = \"DE\"\n[[route]]\nid = \"r\"\ntype = "
           "\"exempt\"\ndestination = \"d\"\napproval_ref = \"x\"\nvalid_until = \"2030-01-01\"\n",
       {"bad.toml:14:", "key 'valid_until'", "expected a date"}},
      {"route expiry without offset",
       h + "[[destination]]\nid = \"d\"\njurisdiction = \"DE\"\n[[route]]\nid = \"r\"\ntype = "
           "\"exempt\"\ndestination = \"d\"\napproval_ref = \"x\"\nvalid_until = "
           "2030-01-01T00:00:00\n",
       {"bad.toml:14:", "without an offset"}},
      {"route missing expiry",
       h + "[[destination]]\nid = \"d\"\njurisdiction = \"DE\"\n[[route]]\nid = \"r\"\ntype = "
           "\"exempt\"\ndestination = \"d\"\napproval_ref = \"x\"\n",
       {"bad.toml:9:", "missing key 'valid_until'"}},
      {"consent missing purposes",
       h + "[[consent]]\nid = \"c\"\nsubject = \"**\"\nlegal_basis = \"consent\"\nexpires = "
           "2030-01-01\n",
       {"bad.toml:6:", "[[consent]] 'c'", "'purposes'"}},
      {"consent bad basis",
       h + "[[consent]]\nid = \"c\"\nsubject = \"**\"\npurposes = [\"m\"]\nlegal_basis = "
           "\"because\"\nexpires = 2030-01-01\n",
       {"bad.toml:10:", "key 'legal_basis'", "\"because\""}},
      {"consent purposes not strings",
       h + "[[consent]]\nid = \"c\"\nsubject = \"**\"\npurposes = [1]\nlegal_basis = "
           "\"consent\"\nexpires = 2030-01-01\n",
       {"bad.toml:9:", "key 'purposes'", "the integer 1"}},
      {"transformation missing approval",
       h + "[[transformation]]\nid = \"t\"\nkind = \"aggregation\"\napproved_by = \"u\"\n",
       {"bad.toml:6:", "[[transformation]] 't'", "missing key 'approval_ref'"}},
      {"bad date",
       h + "[[consent]]\nid = \"c\"\nsubject = \"**\"\npurposes = [\"m\"]\nlegal_basis = "
           "\"consent\"\nexpires = 1960-01-01\n",
       {"bad.toml:11:", "key 'expires'", "out of range"}},
  };
  for (const auto& c : cases) {
    auto p = parse_policy(c.text, "bad.toml");
    ASSERT_FALSE(p) << c.name << ": accepted";
    EXPECT_EQ(p.error().code(), StatusCode::kInvalidArgument) << c.name;
    for (const auto& e : c.expect)
      EXPECT_NE(p.error().message().find(e), std::string::npos)
          << c.name << ": expected '" << e << "' in:\n"
          << p.error().message();
  }
}

TEST(Policy, AllProblemsReportedAtOnce) {
  auto p = parse_policy(
      std::string(kHeader) + "[[label]]\npattern = \"**\"\ngrade = \"x\"\npersonal = \"y\"\n",
      "m.toml");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("m.toml:8:"), std::string::npos);
  EXPECT_NE(p.error().message().find("m.toml:9:"), std::string::npos);
}

struct MatchCase {
  const char* pattern;
  const char* path;
  bool match;
};

TEST(Policy, PathPatterns) {
  const std::vector<MatchCase> cases = {
      {"a/b/c/d/e", "a/b/c/d/e", true},
      {"a/b/c/d/e", "a/b/c/d/f", false},
      {"a/*/c/*/e", "a/x/c/y/e", true},
      {"a/*/c", "a/x/y/c", false},
      {"**", "a/b/c/d/e", true},
      {"a/**", "a/b/c", true},
      {"a/**/e", "a/e", true},
      {"a/**/e", "a/b/c/d/e", true},
      {"a/**/e", "a/b/c/d/f", false},
      {"*/*/*/*/operator_*", "p/a/l/m/operator_badge", true},
      {"*/*/*/*/operator_*", "p/a/l/m/badge_operator", false},
      {"*/*/*/cnc*/*", "p/a/l/cnc-01/x", true},
      {"**/**/**/x", "a/b/x", true},
      {"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(match_path(c.pattern, c.path), c.match) << c.pattern << " vs " << c.path;
}

TEST(Policy, LabelsComeFromTheModelThenOverridesWithOrigins) {
  const std::string text = std::string(kHeader) +
                           "[[label]]\npattern = \"**\"\nowner = \"urn:o\"\n"
                           "[[label]]\npattern = \"p1/*/*/*/thermal_drift\"\nsharing = \"red\"\n"
                           "[[label]]\npattern = \"p1/*/*/*/spindle_speed\"\ngrade = \"core\"\n";
  auto p = parse_policy(text, "o.toml");
  ASSERT_TRUE(p) << p.error().to_string();
  const auto& model = infomodel::builtin_model();

  // thermal_drift is labelled important + trade secret in the information model.
  auto r = resolve_labels(*p, &model, "p1/machining/l1/cnc-01/thermal_drift");
  EXPECT_EQ(r.labels.grade, Grade::kImportant);
  EXPECT_TRUE(r.labels.trade_secret);
  EXPECT_EQ(r.labels.sharing, Sharing::kRed);
  EXPECT_EQ(r.labels.owner, "urn:o");
  ASSERT_EQ(r.origins.size(), 6u);
  EXPECT_NE(r.origins[0].source.find("infomodel"), std::string::npos) << r.origins[0].source;
  EXPECT_NE(r.origins[0].source.find("cnc.toml"), std::string::npos) << r.origins[0].source;
  EXPECT_NE(r.origins[3].source.find("o.toml:9"), std::string::npos) << r.origins[3].source;
  EXPECT_NE(r.origins[4].source.find("o.toml:6"), std::string::npos) << r.origins[4].source;

  auto s = resolve_labels(*p, &model, "p1/machining/l1/cnc-01/spindle_speed");
  EXPECT_EQ(s.labels.grade, Grade::kCore);
  EXPECT_NE(s.origins[0].source.find("o.toml:12"), std::string::npos) << s.origins[0].source;

  auto unknown = resolve_labels(*p, &model, "p1/x/y/zz-01/whatever");
  EXPECT_EQ(unknown.labels.grade, Grade::kGeneral);
  EXPECT_NE(unknown.origins[0].source.find("default"), std::string::npos);
}

TEST(Policy, JsonShowsThePolicyInForce) {
  auto p = load_policy_file(std::string(RESONANCE_SOURCE_DIR) + "/examples/policy.toml");
  ASSERT_TRUE(p);
  auto js = nlohmann::json::parse(policy_json(*p));
  EXPECT_EQ(js["version"], "2026-11-21.1");
  EXPECT_EQ(js["sha256"], p->sha256);
  EXPECT_EQ(js["node"]["jurisdiction"], "CN");
  EXPECT_EQ(js["destinations"].size(), 3u);
  EXPECT_EQ(js["destinations"][1]["cross_border"], true);
  EXPECT_EQ(js["routes"][0]["valid_until"], "2029-05-01T00:00:00.000000000Z");
  EXPECT_TRUE(js["consents"][0]["withdrawn"].is_null());
  EXPECT_NE(policy_text(*p).find("SA-2026-0042"), std::string::npos);
}

}  // namespace
}  // namespace resonance::governance
