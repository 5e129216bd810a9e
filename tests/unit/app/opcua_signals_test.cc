// The OPC UA signals file: explicit node ids, browse paths with namespace prefixes, machine-tool
// browses, and the errors a mistake in each gets (file:line:column, all at once).

#include "src/app/opcua_signals.h"

#include <gtest/gtest.h>

#include "resonance/infomodel/loader.h"

namespace resonance::app {
namespace {

Result<OpcuaMappings> parse(std::string_view text) {
  return parse_opcua_signals(text, "s.toml", infomodel::builtin_model());
}

std::string error_of(std::string_view text) {
  auto r = parse(text);
  return r ? std::string("(parsed)") : r.error().message();
}

constexpr std::string_view kNamespaces =
    "[namespaces]\nmt = \"http://opcfoundation.org/UA/MachineTool/\"\ncnc = \"urn:example:cnc\"\n";

TEST(OpcuaSignals, ExplicitNodeIdsAsBefore) {
  auto r = parse(
      "[[signal]]\nnode_id = \"nsu=http://example.com/UA/;s=CNC1.SpindleSpeed\"\n"
      "series = \"plant/hall1/line1/cnc-01/spindle_speed\"\nunit = \"RPM\"\n");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->signals.size(), 1u);
  EXPECT_EQ(r->signals[0].node_id, "nsu=http://example.com/UA/;s=CNC1.SpindleSpeed");
  EXPECT_EQ(r->signals[0].unit, "RPM");
  EXPECT_TRUE(r->signals[0].browse_path.empty());
  EXPECT_TRUE(r->machines.empty());
}

TEST(OpcuaSignals, BrowsePathResolvesPrefixesToUris) {
  auto r = parse(std::string(kNamespaces) +
                 "[[signal]]\nbrowse_path = \"cnc:CNC1/mt:Production/mt:ActiveProgram/mt:Name\"\n"
                 "series = \"plant/hall1/line1/cnc-01/program_number\"\n"
                 "[[signal]]\nbrowse_path = \"ua:ServerStatus/ua:State\"\nstart = \"i=2253\"\n"
                 "series = \"plant/hall1/line1/cnc-01/server_state\"\n");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->signals.size(), 2u);
  const auto& p = r->signals[0].browse_path;
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].namespace_uri, "urn:example:cnc");
  EXPECT_EQ(p[0].name, "CNC1");
  EXPECT_EQ(p[3].namespace_uri, "http://opcfoundation.org/UA/MachineTool/");
  EXPECT_EQ(p[3].name, "Name");
  EXPECT_EQ(r->signals[0].browse_path_text, "cnc:CNC1/mt:Production/mt:ActiveProgram/mt:Name");
  EXPECT_TRUE(r->signals[0].start.empty());
  EXPECT_TRUE(r->signals[0].node_id.empty());
  EXPECT_EQ(r->signals[1].start, "i=2253");
  EXPECT_EQ(r->signals[1].browse_path[0].namespace_uri, "http://opcfoundation.org/UA/");
}

TEST(OpcuaSignals, BrowsePathEscapesAndColonsInNames) {
  const std::map<std::string, std::string, std::less<>> prefixes{{"v", "urn:v"}};
  auto p = parse_browse_path("v:a&/b/v:x:y/v:&&z", prefixes);
  ASSERT_TRUE(p) << p.error().message();
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0].name, "a/b");
  EXPECT_EQ((*p)[1].name, "x:y");  // the prefix ends at the first colon
  EXPECT_EQ((*p)[2].name, "&z");
}

TEST(OpcuaSignals, MalformedBrowsePathsAreNamedWithStep) {
  const std::map<std::string, std::string, std::less<>> prefixes{
      {"mt", "urn:mt"}, {"ua", "http://opcfoundation.org/UA/"}};
  auto bad = [&](std::string_view text) {
    auto p = parse_browse_path(text, prefixes);
    return p ? std::string("(parsed)") : p.error().message();
  };
  EXPECT_EQ(bad(""), "empty browse path");
  EXPECT_NE(bad("/mt:A").find("starts with '/'"), std::string::npos);
  EXPECT_NE(bad("mt:A/Monitoring/mt:B").find("step 2 \"Monitoring\": no namespace prefix"),
            std::string::npos);
  EXPECT_NE(
      bad("mt:A/xx:B")
          .find("step 2: namespace prefix 'xx' is not declared in [namespaces] (declared: mt, ua)"),
      std::string::npos);
  EXPECT_NE(bad("mt:A//mt:B").find("step 2"), std::string::npos);
  EXPECT_NE(bad("mt:A/").find("ends with '/'"), std::string::npos);
  EXPECT_NE(bad("mt:").find("step 1: empty browse name"), std::string::npos);
  EXPECT_NE(bad("mt:A&").find("'&' at the end"), std::string::npos);
  EXPECT_NE(bad("m t:A").find("is not a namespace prefix"), std::string::npos);
}

TEST(OpcuaSignals, BrowsePathErrorsCarryFileLineColumn) {
  const std::string e = error_of(std::string(kNamespaces) +
                                 "[[signal]]\nbrowse_path = \"cnc:CNC1/Production\"\n"
                                 "series = \"plant/hall1/line1/cnc-01/x\"\n");
  EXPECT_NE(e.find("s.toml:5:15: [[signal]] key 'browse_path': \"cnc:CNC1/Production\": step 2 "
                   "\"Production\": no "
                   "namespace prefix"),
            std::string::npos)
      << e;
}

TEST(OpcuaSignals, SignalKeyCombinationsAreChecked) {
  const std::string both =
      error_of("[[signal]]\nnode_id = \"i=1\"\nbrowse_path = \"ua:A\"\nseries = \"a/b/c/d/e\"\n");
  EXPECT_NE(both.find("s.toml:1:1: [[signal]]: give node_id or browse_path, not both"),
            std::string::npos)
      << both;
  const std::string neither = error_of("[[signal]]\nseries = \"a/b/c/d/e\"\n");
  EXPECT_NE(neither.find("key 'node_id' or 'browse_path' is required"), std::string::npos)
      << neither;
  const std::string start =
      error_of("[[signal]]\nnode_id = \"i=1\"\nstart = \"i=85\"\nseries = \"a/b/c/d/e\"\n");
  EXPECT_NE(start.find("s.toml:3:9: [[signal]] key 'start': only with browse_path"),
            std::string::npos)
      << start;
  const std::string bad_start = error_of(
      "[[signal]]\nbrowse_path = \"ua:A\"\nstart = \"nsu=urn:x\"\nseries = \"a/b/c/d/e\"\n");
  EXPECT_NE(bad_start.find(
                "s.toml:3:9: [[signal]] key 'start': \"nsu=urn:x\": expected nsu=<namespace URI>;"),
            std::string::npos)
      << bad_start;
  const std::string bad_node =
      error_of("[[signal]]\nnode_id = \"ns=1;q=7\"\nseries = \"a/b/c/d/e\"\n");
  EXPECT_NE(bad_node.find("s.toml:2:11: [[signal]] key 'node_id': \"ns=1;q=7\""), std::string::npos)
      << bad_node;
  const std::string twice = error_of(
      "[[signal]]\nbrowse_path = \"ua:A\"\nseries = \"a/b/c/d/e\"\n"
      "[[signal]]\nbrowse_path = \"ua:A\"\nstart = \"i=85\"\nseries = \"a/b/c/d/f\"\n");
  EXPECT_NE(twice.find("s.toml:4:1: [[signal]]: browse_path \"ua:A\" is mapped twice"),
            std::string::npos)
      << twice;
}

TEST(OpcuaSignals, NamespacesTableIsChecked) {
  const std::string e = error_of(
      "[namespaces]\nua = \"urn:other\"\n\"9x\" = \"urn:y\"\nmt = 3\n"
      "[[signal]]\nnode_id = \"i=1\"\nseries = \"a/b/c/d/e\"\n");
  EXPECT_NE(e.find("s.toml:2:6: [namespaces]: prefix 'ua' is built in"), std::string::npos) << e;
  EXPECT_NE(e.find("s.toml:3:8: [namespaces]: '9x' is not a prefix"), std::string::npos) << e;
  EXPECT_NE(e.find("s.toml:4:6: [namespaces] key 'mt': expected a namespace URI string"),
            std::string::npos)
      << e;
}

TEST(OpcuaSignals, MachineToolBrowse) {
  auto r = parse(
      "[[machine]]\nprofile = \"machine-tool\"\nequipment = \"plant/hall1/line1/cnc-01\"\n"
      "[[machine]]\nprofile = \"machine-tool\"\nequipment = "
      "\"plant/hall1/line1/lathe-2\"\ninstance = \"L2\"\n");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->machines.size(), 2u);
  EXPECT_EQ(r->machines[0].equipment_path, "plant/hall1/line1/cnc-01");
  EXPECT_TRUE(r->machines[0].instance.empty());
  ASSERT_NE(r->machines[0].category, nullptr);
  EXPECT_EQ(r->machines[0].category->id, "cnc");
  EXPECT_EQ(r->machines[1].instance, "L2");
  EXPECT_TRUE(r->signals.empty());
}

TEST(OpcuaSignals, MachineErrorsAreNamed) {
  const std::string e = error_of(
      "[[machine]]\nprofile = \"robot-arm\"\nequipment = \"plant/hall1/line1/cnc-01\"\n"    // 1
      "[[machine]]\nequipment = \"plant/hall1/cnc-01\"\n"                                   // 4
      "[[machine]]\nprofile = \"machine-tool\"\nequipment = \"plant/hall1/line1/zz-9\"\n"   // 6
      "[[machine]]\nprofile = \"machine-tool\"\nequipment = \"plant/hall1/line1/agv-1\"\n"  // 9
      "[[machine]]\nprofile = \"machine-tool\"\nequipment = \"plant/hall1/line1/cnc-02\"\nspeed = "
      "1\n"                                                                                    // 12
      "[[machine]]\nprofile = \"machine-tool\"\nequipment = \"plant/hall1/line1/cnc-03\"\n"    // 16
      "[[machine]]\nprofile = \"machine-tool\"\nequipment = \"plant/hall1/line1/cnc-04\"\n");  // 19
  EXPECT_NE(e.find("s.toml:2:11: [[machine]] key 'profile': \"robot-arm\" is not known (known: "
                   "machine-tool"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("s.toml:4:1: [[machine]]: key 'profile' is required"), std::string::npos) << e;
  EXPECT_NE(e.find("s.toml:4:1: [[machine]] key 'equipment': expected site/area/line/equipment"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("s.toml:6:1: [[machine]] key 'equipment': \"zz-9\" matches no information-model "
                   "category"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("s.toml:9:1: [[machine]] key 'equipment': category agv has no signal with an "
                   "OPC 40501 counterpart"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("s.toml:15:9: [[machine]]: unknown key 'speed'"), std::string::npos) << e;
  // Two machines that would both map "the only instance".
  EXPECT_NE(e.find("s.toml:19:1: [[machine]]: instance '' is mapped twice"), std::string::npos)
      << e;
}

TEST(OpcuaSignals, NothingToSubscribeToIsAnError) {
  EXPECT_NE(error_of("[namespaces]\nmt = \"urn:mt\"\n").find("no [[signal]] or [[machine]] tables"),
            std::string::npos);
  EXPECT_NE(error_of("[[signal]]\nnode_id = \"i=1\"\nseries = \"a/b/c/d/e\"\n[other]\n")
                .find("s.toml:4:1: unknown key 'other'"),
            std::string::npos);
}

}  // namespace
}  // namespace resonance::app
