// The session state file (docs/formats/mqttsn-sessions.md) and topic filter matching.

#include "connectors/mqttsn/session_store.h"

#include "connectors/mqttsn/gateway.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace resonance::mqttsn {
namespace {

StoredSession sample() {
  StoredSession s;
  s.client_id = "press 7";  // a space survives: every string is hex
  s.clean_session = false;
  s.keep_alive_s = 30;
  s.state = ClientState::kAsleep;
  s.sleep_s = 600;
  s.endpoint.emplace("::1", 40001);
  s.will = Will{.topic = "p/status", .message = {'o', 0, 'f'}, .qos = 1, .retain = true};
  s.topics = {{1, "plant1/press/line2/p7/temperature"}, {3, "cmd/p7"}};
  s.subscriptions = {{.type = TopicIdType::kNormal, .filter = "cmd/+/#", .topic_id = 0, .qos = 2},
                     {.type = TopicIdType::kShortName, .filter = "c1", .topic_id = 0x6331, .qos = 0}};
  return s;
}

TEST(SessionStore, RoundTrip) {
  StoredSession other;
  other.client_id = "b";
  const std::vector<StoredSession> in = {sample(), other};
  const std::string text = encode_sessions(in);
  auto out = decode_sessions(text);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(*out, in);
  EXPECT_EQ(text.substr(0, 28), "resonance-mqttsn-sessions 1\n");
}

TEST(SessionStore, EmptyListRoundTrips) {
  auto out = decode_sessions(encode_sessions({}));
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->empty());
}

TEST(SessionStore, ErrorsNameTheLine) {
  const std::string good = encode_sessions({sample()});
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"", "empty file"},
      {"something else\nend 0\n", "line 1"},
      {good.substr(0, good.size() - 1), "truncated"},
      {good.substr(0, good.rfind("end")), "no 'end' line"},
      {"resonance-mqttsn-sessions 1\nend 2\n", "end says 2"},
      {"resonance-mqttsn-sessions 1\ntopic 1 61\nend 0\n", "before any session"},
      {"resonance-mqttsn-sessions 1\nsession 61 clean=1 keepalive=1 state=zzz sleep=0 endpoint=-\nend 1\n",
       "state 'zzz'"},
      {"resonance-mqttsn-sessions 1\nsession 6 clean=1 keepalive=1 state=active sleep=0 endpoint=-\nend 1\n",
       "client id"},
      {"resonance-mqttsn-sessions 1\nsession 61 clean=1 keepalive=70000 state=active sleep=0 endpoint=-\nend 1\n",
       "keepalive '70000'"},
      {"resonance-mqttsn-sessions 1\nsession 61 clean=1 keepalive=1 state=active sleep=0 endpoint=-\n"
       "topic 0 61\nend 1\n",
       "line 3: topic id '0'"},
      {"resonance-mqttsn-sessions 1\nsession 61 clean=1 keepalive=1 state=active sleep=0 endpoint=-\n"
       "sub 3 0 0 61\nend 1\n",
       "sub type"},
      {"resonance-mqttsn-sessions 1\nsession 61 clean=1 keepalive=1 state=active sleep=0 endpoint=x\nend 1\n",
       "address|port"},
      {"resonance-mqttsn-sessions 1\nsession 6g clean=1 keepalive=1 state=active sleep=0 endpoint=-\nend 1\n",
       "non-hex"},
      {"resonance-mqttsn-sessions 1\nend 0\nend 0\n", "after the 'end'"},
  };
  for (const auto& c : cases) {
    auto r = decode_sessions(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message().find(c.expect), std::string::npos)
        << "'" << c.expect << "' not in: " << r.error().message();
  }
}

TEST(SessionStore, FileWriteIsAtomicAndMissingFileIsEmpty) {
  const auto dir = std::filesystem::temp_directory_path() / ("mqttsn-store-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "s.state";
  auto none = read_sessions_file(file);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(write_sessions_file(file, {sample()}).is_ok());
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
  auto back = read_sessions_file(file);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 1u);
  {
    std::ofstream(file, std::ios::app) << "garbage\n";
  }
  auto bad = read_sessions_file(file);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find(file.string()), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(TopicFilter, Matching) {
  EXPECT_TRUE(topic_matches("a/b", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/b/c", "a/b"));
  EXPECT_TRUE(topic_matches("a/+/c", "a/x/c"));
  EXPECT_FALSE(topic_matches("a/+/c", "a/x/y/c"));
  EXPECT_TRUE(topic_matches("a/+", "a/"));
  EXPECT_TRUE(topic_matches("a/#", "a"));
  EXPECT_TRUE(topic_matches("a/#", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/#", "ab"));
  EXPECT_TRUE(topic_matches("#", "x/y"));
  EXPECT_TRUE(topic_matches("+/+", "x/y"));
  EXPECT_FALSE(topic_matches("+", "x/y"));
  EXPECT_FALSE(topic_matches("#", "$SYS/x"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/x"));
  EXPECT_TRUE(has_wildcard("a/+"));
  EXPECT_FALSE(has_wildcard("a/b"));
}

TEST(GatewayConfig, PredefinedTopicsAndLists) {
  auto m = parse_predefined_topics(" 1=a/b/c/d/e, 2=cmd/all ,");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->size(), 2u);
  EXPECT_EQ(m->at(2), "cmd/all");
  EXPECT_TRUE(parse_predefined_topics("")->empty());
  for (const char* bad : {"x", "0=a", "70000=a", "1=", "1=a,1=b", "a=b"}) {
    auto r = parse_predefined_topics(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("predefined_topics entry"), std::string::npos);
  }
  EXPECT_EQ(split_list("a, b,,c "), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace resonance::mqttsn
