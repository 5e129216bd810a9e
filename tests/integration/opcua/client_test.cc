// The OPC UA client against a real node-opcua 2.186.4 server on loopback: session, read, browse
// (with BrowseNext), TranslateBrowsePaths, namespace lookup, write behind the permission switch,
// username/password, and subscriptions.

#include "connectors/opcua/client.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/integration/opcua/node_server.h"

namespace resonance::opcua {
namespace {

using resonance::testing::NodeOpcuaServer;
using resonance::testing::NodeServerOptions;
using resonance::testing::NodeServerSuite;
using namespace std::chrono_literals;

class NodeOpcua : public NodeServerSuite<NodeOpcua> {
 protected:
  static void SetUpTestSuite() {
    start_suite_server(NodeServerOptions{.items = 0, .user_name = "operator", .password = "s3cret"});
  }

  std::unique_ptr<Client> connect(bool allow_write = false) {
    ClientOptions o;
    o.endpoint_url = server_->url();
    o.allow_write = allow_write;
    auto c = Client::connect(o);
    EXPECT_TRUE(c) << c.error().message();
    return c ? std::move(*c) : nullptr;
  }

};

TEST_F(NodeOpcua, ReadsValuesWithTimestampsAndPerNodeStatus) {
  auto c = connect();
  ASSERT_TRUE(c);
  auto values = c->read({ReadValueId{NodeId::string(1, "CNC1.SpindleSpeed")},
                         ReadValueId{NodeId::string(1, "CNC1.PartCount")},
                         ReadValueId{NodeId::string(1, "NoSuchNode")}});
  ASSERT_TRUE(values) << values.error().message();
  ASSERT_EQ(values->size(), 3u);
  const auto speed = (*values)[0].value->as_double();
  ASSERT_TRUE(speed);
  EXPECT_GE(*speed, 11500.0);
  EXPECT_LE(*speed, 12500.0);
  EXPECT_EQ((*values)[1].value->type, BuiltinType::kUInt32);
  ASSERT_TRUE((*values)[0].source_timestamp);
  const auto age_ns = unix_now_ns() - (*values)[0].source_timestamp->to_unix_ns();
  EXPECT_LT(std::llabs(age_ns), 60LL * kNanosPerSecond);
  ASSERT_TRUE((*values)[2].status);
  EXPECT_EQ(describe_status(*(*values)[2].status), "0x80340000 BadNodeIdUnknown");
  // PartCount counts up every 50 ms on the server.
  std::this_thread::sleep_for(300ms);
  auto later = c->read_value(NodeId::string(1, "CNC1.PartCount"));
  ASSERT_TRUE(later);
  EXPECT_GT(*later->value->as_double(), *(*values)[1].value->as_double());
  EXPECT_TRUE(c->close());
}

TEST_F(NodeOpcua, BrowsesWithAndWithoutContinuationPoints) {
  auto c = connect();
  ASSERT_TRUE(c);
  BrowseDescription cnc;
  cnc.node_id = NodeId::string(1, "CNC1");
  auto refs = c->browse(cnc);
  ASSERT_TRUE(refs) << refs.error().message();
  std::set<std::string> names;
  for (const auto& r : *refs) names.insert(std::string(r.browse_name.name.view()));
  EXPECT_TRUE(names.contains("SpindleSpeed"));
  EXPECT_TRUE(names.contains("PartCount"));
  EXPECT_TRUE(names.contains("OperationMode"));
  // One reference per response forces BrowseNext; the result must be the same set.
  BrowseDescription objects;
  objects.node_id = NodeId::numeric(0, 85);
  auto all = c->browse(objects);
  auto paged = c->browse(objects, 1);
  ASSERT_TRUE(all && paged);
  ASSERT_GE(all->size(), 2u);
  EXPECT_EQ(all->size(), paged->size());
  for (std::size_t i = 0; i < std::min(all->size(), paged->size()); ++i)
    EXPECT_EQ((*all)[i].node_id, (*paged)[i].node_id);
  BrowseDescription missing;
  missing.node_id = NodeId::string(1, "NoSuchNode");
  auto none = c->browse(missing);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("BadNodeIdUnknown"), std::string::npos) << none.error().message();
}

TEST_F(NodeOpcua, TranslatesBrowsePathsAndFindsNamespacesByUri) {
  auto c = connect();
  ASSERT_TRUE(c);
  auto ua = c->namespace_index("http://opcfoundation.org/UA/");
  ASSERT_TRUE(ua) << ua.error().message();
  EXPECT_EQ(*ua, 0);
  auto missing_ns = c->namespace_index("urn:nobody");
  ASSERT_FALSE(missing_ns);
  EXPECT_EQ(missing_ns.error().code(), resonance::StatusCode::kNotFound);
  auto node = c->resolve_path(NodeId::numeric(0, 85), {QualifiedName{1, "CNC1"}, QualifiedName{1, "SpindleSpeed"}});
  ASSERT_TRUE(node) << node.error().message();
  EXPECT_EQ(*node, NodeId::string(1, "CNC1.SpindleSpeed"));
  auto nothing = c->resolve_path(NodeId::numeric(0, 85), {QualifiedName{1, "CNC1"}, QualifiedName{1, "Nope"}});
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().message().find("i=85/1:CNC1/1:Nope"), std::string::npos) << nothing.error().message();
}

TEST_F(NodeOpcua, WriteNeedsThePermissionSwitch) {
  const NodeId mode = NodeId::string(1, "CNC1.OperationMode");
  WriteValue wv;
  wv.node_id = mode;
  wv.value.value = Variant::scalar(UaString("MANUAL"));
  {
    auto ro = connect(false);
    ASSERT_TRUE(ro);
    auto refused = ro->write({wv});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), resonance::StatusCode::kFailedPrecondition);
    auto still = ro->read_value(mode);
    ASSERT_TRUE(still);
    EXPECT_EQ(std::get<UaString>(still->value->values[0]).view(), "AUTOMATIC");
  }
  auto rw = connect(true);
  ASSERT_TRUE(rw);
  auto done = rw->write({wv});
  ASSERT_TRUE(done) << done.error().message();
  ASSERT_EQ(done->size(), 1u);
  EXPECT_TRUE((*done)[0].is_good()) << describe_status((*done)[0]);
  auto now = rw->read_value(mode);
  ASSERT_TRUE(now);
  EXPECT_EQ(std::get<UaString>(now->value->values[0]).view(), "MANUAL");
  wv.value.value = Variant::scalar(UaString("AUTOMATIC"));
  ASSERT_TRUE(rw->write({wv}));
}

TEST_F(NodeOpcua, UsernamePasswordSession) {
  ClientOptions o;
  o.endpoint_url = server_->url();
  o.user = UserIdentity{"operator", "s3cret"};
  auto good = Client::connect(o);
  ASSERT_TRUE(good) << good.error().message();
  EXPECT_TRUE((*good)->read_value(NodeId::numeric(0, 2259)));  // ServerStatus/State
  o.user = UserIdentity{"operator", "wrong"};
  auto bad = Client::connect(o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("activating the session"), std::string::npos) << bad.error().message();
  EXPECT_EQ(bad.error().message().find("wrong"), std::string::npos) << "the password leaked into an error";
}

TEST_F(NodeOpcua, SubscriptionDeliversDataChangesWithSourceTimestamps) {
  auto c = connect();
  ASSERT_TRUE(c);
  CreateSubscriptionRequest req;
  req.requested_publishing_interval_ms = 100;
  auto sub = c->create_subscription(req);
  ASSERT_TRUE(sub) << sub.error().message();
  std::vector<MonitoredItemCreateRequest> items(2);
  items[0].item_to_monitor.node_id = NodeId::string(1, "CNC1.SpindleSpeed");
  items[0].requested_parameters.client_handle = 1;
  items[0].requested_parameters.sampling_interval_ms = 50;
  items[1].item_to_monitor.node_id = NodeId::string(1, "CNC1.PartCount");
  items[1].requested_parameters.client_handle = 2;
  items[1].requested_parameters.sampling_interval_ms = 50;
  auto created = c->create_monitored_items(sub->subscription_id, items);
  ASSERT_TRUE(created) << created.error().message();
  for (const auto& r : *created) EXPECT_TRUE(r.status.is_good()) << describe_status(r.status);
  std::vector<DataChange> changes;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::set<std::uint32_t> handles;
  double last_count = -1;
  bool count_increases = true;
  while (std::chrono::steady_clock::now() < deadline && changes.size() < 20) {
    ASSERT_TRUE(c->poll_notifications(500ms, changes));
  }
  for (const auto& ch : changes) {
    handles.insert(ch.client_handle);
    ASSERT_TRUE(ch.value.source_timestamp);
    EXPECT_FALSE(ch.value.source_timestamp->is_null());
    if (ch.client_handle == 2) {
      const double v = *ch.value.value->as_double();
      if (v < last_count) count_increases = false;
      last_count = v;
    }
  }
  EXPECT_GE(changes.size(), 20u);
  EXPECT_EQ(handles, (std::set<std::uint32_t>{1, 2}));
  EXPECT_TRUE(count_increases);
  EXPECT_GT(c->counters().publish_responses, 3u);
  EXPECT_EQ(c->counters().lost_notification_messages, 0u);
  EXPECT_TRUE(c->delete_subscriptions({sub->subscription_id}));
  EXPECT_TRUE(c->close());
}

}  // namespace
}  // namespace resonance::opcua

namespace resonance::opcua {
namespace {

// 10,000 monitored items created in batches of 1,000 on one subscription; every item reports.
// Publish responses this large arrive in several chunks, so this also exercises reassembly
// against a real server.
TEST(OpcuaScale, TenThousandMonitoredItems) {
  ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua is missing: run scripts/setup --test";
  constexpr std::uint32_t kItems = 10000;
  NodeOpcuaServer server(NodeServerOptions{.items = static_cast<int>(kItems)});
  std::string why;
  ASSERT_TRUE(server.start(why, std::chrono::seconds(120))) << why;
  ClientOptions o;
  o.endpoint_url = server.url();
  o.request_timeout_ms = 30000;
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message();
  CreateSubscriptionRequest req;
  req.requested_publishing_interval_ms = 500;
  req.requested_max_keep_alive_count = 20;
  req.requested_lifetime_count = 200;
  auto sub = (*c)->create_subscription(req);
  ASSERT_TRUE(sub) << sub.error().message();
  std::vector<MonitoredItemCreateRequest> items(kItems);
  for (std::uint32_t i = 0; i < kItems; ++i) {
    items[i].item_to_monitor.node_id = NodeId::string(1, "Item." + std::to_string(i));
    items[i].requested_parameters.client_handle = i;
    items[i].requested_parameters.sampling_interval_ms = 1000;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto created = (*c)->create_monitored_items(sub->subscription_id, std::move(items), 1000);
  ASSERT_TRUE(created) << created.error().message();
  const auto create_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(created->size(), kItems);
  std::size_t good = 0;
  for (const auto& r : *created) good += r.status.is_good() ? 1 : 0;
  EXPECT_EQ(good, kItems);
  std::vector<bool> seen(kItems, false);
  std::size_t distinct = 0;
  std::vector<DataChange> changes;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (distinct < kItems && std::chrono::steady_clock::now() < deadline) {
    changes.clear();
    ASSERT_TRUE((*c)->poll_notifications(1000ms, changes));
    for (const auto& ch : changes) {
      if (ch.client_handle < kItems && !seen[ch.client_handle]) {
        seen[ch.client_handle] = true;
        ++distinct;
      }
    }
  }
  std::printf("opcua: 10,000 monitored items created in %lld ms; %zu reported; %llu notifications\n",
              static_cast<long long>(create_ms), distinct,
              static_cast<unsigned long long>((*c)->counters().notifications));
  EXPECT_EQ(distinct, kItems);
  EXPECT_TRUE((*c)->close());
}

}  // namespace
}  // namespace resonance::opcua
