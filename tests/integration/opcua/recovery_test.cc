// Recovery from a network outage (the server keeps running; a TCP relay between us and node-opcua
// is cut): the client resumes its session on a new connection, the subscription lives on, and the
// notifications the server queued meanwhile arrive, so the data have no hole. The connector does
// the same by itself and then marks nothing. (A server restart, where the session is gone, still
// falls back to recreating and marking the gap: connector_test.cc.)

#include "connectors/opcua/client.h"
#include "resonance/connectors/opcua/opcua_connector.h"

#include <gtest/gtest.h>

#include <mutex>

#include "tests/integration/opcua/node_server.h"
#include "tests/integration/opcua/tcp_proxy.h"

namespace resonance::opcua {
namespace {

using resonance::testing::NodeOpcuaServer;
using resonance::testing::NodeServerOptions;
using resonance::testing::NodeServerSuite;
using resonance::testing::TcpProxy;
using namespace std::chrono_literals;

class Recovery : public NodeServerSuite<Recovery> {
 protected:
  static void SetUpTestSuite() { start_suite_server(NodeServerOptions{}); }
  static std::string via(const TcpProxy& proxy) {
    return "opc.tcp://127.0.0.1:" + std::to_string(proxy.port()) + "/UA/Resonance";
  }
};

// PartCount counts up every 50 ms on the server; sampled every 50 ms into a queue of 100, a 1.5 s
// outage fits in the server's queue. Without recovery the values would jump by ~30 across it.
TEST_F(Recovery, ClientResumesItsSessionAndGetsWhatTheServerQueued) {
  TcpProxy proxy(server_->port());
  ClientOptions o;
  o.endpoint_url = via(proxy);
  o.request_timeout_ms = 2000;
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message();
  auto& client = **c;
  CreateSubscriptionRequest req;
  req.requested_publishing_interval_ms = 100;
  auto sub = client.create_subscription(req);
  ASSERT_TRUE(sub) << sub.error().message();
  std::vector<MonitoredItemCreateRequest> items(1);
  items[0].item_to_monitor.node_id = NodeId::string(1, "CNC1.PartCount");
  items[0].requested_parameters.client_handle = 1;
  items[0].requested_parameters.sampling_interval_ms = 50;
  items[0].requested_parameters.queue_size = 100;
  ASSERT_TRUE(client.create_monitored_items(sub->subscription_id, items));

  std::vector<DataChange> changes;
  auto collect_for = [&](std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline)
      if (!client.poll_notifications(200ms, changes)) return false;
    return true;
  };
  ASSERT_TRUE(collect_for(1s));
  const std::size_t before = changes.size();
  ASSERT_GT(before, 5u);
  const NodeId session = client.session_id();

  proxy.cut();
  // The loss shows as an error of the next poll (EOF on the socket).
  const auto lost_by = std::chrono::steady_clock::now() + 5s;
  while (!client.broken() && std::chrono::steady_clock::now() < lost_by) (void)client.poll_notifications(200ms, changes);
  ASSERT_TRUE(client.broken());
  std::this_thread::sleep_for(1500ms);  // the server samples on; we are away

  auto resumed = client.resume();
  ASSERT_TRUE(resumed) << resumed.message();
  EXPECT_EQ(client.session_id(), session);
  EXPECT_EQ(client.counters().session_resumes, 1u);
  EXPECT_EQ(proxy.connections(), 2u);
  ASSERT_TRUE(collect_for(2s));
  ASSERT_GT(changes.size(), before + 10);

  double worst_jump = 0;
  for (std::size_t i = 1; i < changes.size(); ++i)
    worst_jump = std::max(worst_jump, *changes[i].value.value->as_double() - *changes[i - 1].value.value->as_double());
  EXPECT_LE(worst_jump, 4.0) << "values missing across the outage";
  EXPECT_EQ(client.counters().lost_notification_messages, 0u);
  EXPECT_TRUE(client.close());
}

// An outage longer than the session timeout: node-opcua closes the session but keeps its
// subscription (its lifetime is longer), so ActivateSession is refused and the client moves the
// subscription to a new session with TransferSubscriptions; what was queued still arrives.
// node-opcua only transfers between sessions of the same user (anonymous only on secured
// channels), hence the username.
struct TransferRun {
  std::unique_ptr<TcpProxy> proxy;  // kept until the test ends: the client talks through it
  Status resumed;
  std::unique_ptr<Client> client;
  std::vector<DataChange> changes;
  std::size_t before = 0;
  NodeId old_session;
};
TransferRun outage_past_session_timeout(std::uint16_t server_port, std::optional<UserIdentity> user) {
  TransferRun run;
  run.proxy = std::make_unique<TcpProxy>(server_port);
  ClientOptions o;
  o.endpoint_url = "opc.tcp://127.0.0.1:" + std::to_string(run.proxy->port()) + "/UA/Resonance";
  o.request_timeout_ms = 2000;
  o.session_timeout_ms = 1000;
  o.user = std::move(user);
  auto c = Client::connect(o);
  EXPECT_TRUE(c) << c.error().message();
  if (!c) return run;
  run.client = std::move(*c);
  auto& client = *run.client;
  CreateSubscriptionRequest req;
  req.requested_publishing_interval_ms = 100;
  req.requested_lifetime_count = 600;  // 60 s: outlives the session
  auto sub = client.create_subscription(req);
  EXPECT_TRUE(sub) << sub.error().message();
  if (!sub) return run;
  std::vector<MonitoredItemCreateRequest> items(1);
  items[0].item_to_monitor.node_id = NodeId::string(1, "CNC1.PartCount");
  items[0].requested_parameters.client_handle = 1;
  items[0].requested_parameters.sampling_interval_ms = 50;
  items[0].requested_parameters.queue_size = 400;
  EXPECT_TRUE(client.create_monitored_items(sub->subscription_id, items));
  const auto collect_for = [&](std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline && !client.broken()) (void)client.poll_notifications(200ms, run.changes);
  };
  collect_for(1s);
  run.before = run.changes.size();
  run.old_session = client.session_id();
  run.proxy->cut();
  collect_for(5s);  // until the loss shows
  EXPECT_TRUE(client.broken());
  // Well past the 1 s session timeout (node-opcua's watchdog checks about every second); the
  // queue of 400 holds 20 s of PartCount changes.
  std::this_thread::sleep_for(6s);
  run.resumed = client.resume();
  if (run.resumed) collect_for(2s);
  return run;
}

TEST_F(Recovery, SubscriptionsOutliveATimedOutSessionAndAreTransferred) {
  NodeOpcuaServer server(NodeServerOptions{.user_name = "operator", .password = "s3cret"});
  std::string why;
  ASSERT_TRUE(server.start(why)) << why;
  auto run = outage_past_session_timeout(server.port(), UserIdentity{"operator", "s3cret"});
  ASSERT_TRUE(run.client);
  ASSERT_TRUE(run.resumed) << run.resumed.message();
  EXPECT_EQ(run.client->counters().subscription_transfers, 1u);
  EXPECT_EQ(run.client->counters().session_resumes, 0u);
  EXPECT_NE(run.client->session_id(), run.old_session);  // a new session holds the subscription
  ASSERT_GT(run.before, 5u);
  ASSERT_GT(run.changes.size(), run.before + 60) << "the ~5 s the server queued did not arrive";
  double worst_jump = 0;
  for (std::size_t i = 1; i < run.changes.size(); ++i)
    worst_jump = std::max(worst_jump, *run.changes[i].value.value->as_double() -
                                          *run.changes[i - 1].value.value->as_double());
  EXPECT_LE(worst_jump, 4.0) << "values missing across the outage";
  EXPECT_EQ(run.client->counters().lost_notification_messages, 0u);
  EXPECT_TRUE(run.client->close());
}

// The server refuses to hand an anonymous subscription to a new session on an unsecured channel:
// resume() says so (naming the status) and the owner falls back to a new subscription.
TEST_F(Recovery, RefusedTransferIsAClearErrorNotARetry) {
  auto run = outage_past_session_timeout(server_->port(), std::nullopt);
  ASSERT_TRUE(run.client);
  ASSERT_FALSE(run.resumed);
  EXPECT_NE(run.resumed.code(), resonance::StatusCode::kUnavailable);
  EXPECT_NE(run.resumed.message().find("taking its subscriptions over in a new session: refused: subscription"),
            std::string::npos)
      << run.resumed.message();
  EXPECT_NE(run.resumed.message().find("BadUserAccessDenied"), std::string::npos) << run.resumed.message();
  EXPECT_EQ(run.client->counters().subscription_transfers, 0u);
}

class Collecting : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    std::lock_guard lock(mu_);
    for (const auto& s : batch.samples) samples_.push_back(s);
    on_durable(Status::ok());
    return Admission::kAccepted;
  }
  std::vector<Sample> samples() {
    std::lock_guard lock(mu_);
    return samples_;
  }

 private:
  std::mutex mu_;
  std::vector<Sample> samples_;
};

TEST_F(Recovery, ConnectorResumesAfterANetworkOutageWithoutMarkingAGap) {
  TcpProxy proxy(server_->port());
  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog);
  MetricsRegistry metrics;
  Collecting sink;
  OpcuaConnectorConfig cfg;
  cfg.endpoint_url = via(proxy);
  cfg.queue_size = 100;
  cfg.request_timeout_ms = 2000;
  cfg.signals = {{"ns=1;s=CNC1.PartCount", "plant/hall1/line1/cnc-01/part_count", ""}};
  auto connector = make_opcua_connector(cfg, sink, **catalog, metrics);
  ASSERT_TRUE(connector->start());
  const auto wait_for = [&](std::size_t n, std::chrono::seconds t) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (sink.samples().size() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
    return sink.samples().size() >= n;
  };
  ASSERT_TRUE(wait_for(10, 20s));
  proxy.cut();
  std::this_thread::sleep_for(1500ms);
  const std::size_t at_cut = sink.samples().size();
  ASSERT_TRUE(wait_for(at_cut + 30, 15s));
  connector->stop();

  const auto samples = sink.samples();
  double worst_jump = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_NE(samples[i].quality.code, Quality::kBadNoCommunication) << "sample " << i << " marks a gap";
    if (i > 0) worst_jump = std::max(worst_jump, samples[i].value - samples[i - 1].value);
  }
  EXPECT_LE(worst_jump, 4.0) << "values missing across the outage";
  const std::string label = "endpoint=\"" + cfg.endpoint_url + "\"";
  EXPECT_EQ(metrics.counter_value("resonance_opcua_session_resumes_total", label), 1u);
  EXPECT_EQ(metrics.counter_value("resonance_opcua_reconnects_total", label), 1u);
  EXPECT_GE(proxy.connections(), 2u);
}

}  // namespace
}  // namespace resonance::opcua
