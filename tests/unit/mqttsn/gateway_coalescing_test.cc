// Coalescing: the PUBLISHes the gateway reads in one wake-up go to the pipeline as ONE group
// (submit_group, one part per PUBLISH), yet every message keeps its own fate — its own PUBACK
// only after its data is durable, congestion only for the parts refused with RetryLater, the
// quarantine only for its own bad payload, its own device in the provenance.
//
// To make a group deterministic the consumer double blocks the gateway's thread inside the first
// submit_group; the test then sends a burst, which waits in the socket buffer and is read in the
// next wake-up as one group.

#include <condition_variable>
#include <map>

#include "resonance/pipeline/quarantine.h"
#include "tests/unit/mqttsn/gateway_fixture.h"

namespace resonance::mqttsn {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

// Thread-safe: submit_group() runs on the gateway thread, the rest on the test thread.
class GroupConsumer : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    SampleBatch one[1] = {std::move(batch)};
    return submit_group(one, std::move(on_durable)).front();
  }

  std::vector<Admission> submit_group(std::span<SampleBatch> parts, DurableCallback on_durable) override {
    std::unique_lock lock(mu_);
    if (block_next_) {
      block_next_ = false;
      blocked_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !blocked_; });
    }
    std::vector<Admission> out;
    std::vector<SampleBatch> taken;
    for (SampleBatch& part : parts) {
      auto it = answers_.find(part.provenance.client_id);
      const Admission a = it == answers_.end() ? Admission::kAccepted : it->second;
      out.push_back(a);
      if (a == Admission::kAccepted) taken.push_back(std::move(part));
    }
    groups_.push_back(std::move(taken));
    if (!groups_.back().empty()) held_.push_back(std::move(on_durable));  // fires once, if anything was taken
    return out;
  }

  // The next submit_group waits (on the gateway's thread) until open().
  void block_next() {
    std::lock_guard lock(mu_);
    block_next_ = true;
  }
  bool wait_blocked() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 3s, [&] { return blocked_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    blocked_ = false;
    block_next_ = false;
    cv_.notify_all();
  }
  void answer(const std::string& client_id, Admission a) {
    std::lock_guard lock(mu_);
    answers_[client_id] = a;
  }
  // Fires the held callbacks as the WAL flusher would: on this (non-gateway) thread.
  void release(const Status& status = Status::ok()) {
    std::vector<DurableCallback> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    for (auto& cb : held) cb(status);
  }
  std::vector<std::vector<SampleBatch>> groups() const {
    std::lock_guard lock(mu_);
    return groups_;
  }
  std::size_t held_count() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool block_next_ = false;
  bool blocked_ = false;
  std::map<std::string, Admission> answers_;
  std::vector<std::vector<SampleBatch>> groups_;
  std::vector<DurableCallback> held_;
};

constexpr std::string_view kPathA = "plant1/press/line2/p7/temperature";
constexpr std::string_view kPathB = "plant1/press/line2/p8/temperature";
constexpr std::string_view kPathC = "plant1/press/line2/p9/temperature";

class CoalescingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog) << catalog.error().message();
    catalog_ = std::move(*catalog);
    GatewayOptions o;
    o.port = 0;
    o.supervision_interval_ms = 100;
    o.quarantine = &quarantine_;
    gateway_ = std::make_unique<Gateway>(o, consumer_, *catalog_, metrics_);
    ASSERT_TRUE(gateway_->start().is_ok());
  }
  void TearDown() override {
    consumer_.open();  // never leave the gateway's thread waiting in the double
    gateway_.reset();
  }

  // A raw device: CONNECT and REGISTER of `path`; its topic id.
  std::uint16_t attach(RawPeer& peer, const std::string& client_id, std::string_view path) {
    peer.send(Connect{.flags = {.clean_session = true}, .protocol_id = 1, .duration_s = 60,
                      .client_id = client_id});
    EXPECT_EQ(peer.receive(), Message(Connack{}));
    peer.send(Register{.topic_id = 0, .msg_id = 1, .topic_name = std::string(path)});
    auto regack = peer.receive();
    EXPECT_TRUE(regack && std::holds_alternative<Regack>(*regack));
    return regack ? std::get<Regack>(*regack).topic_id : 0;
  }
  static void publish(RawPeer& peer, std::uint16_t topic_id, std::uint16_t msg_id, std::int8_t qos,
                      std::vector<std::uint8_t> payload) {
    peer.send(Publish{.flags = {.qos = qos}, .topic_id = topic_id, .msg_id = msg_id, .data = std::move(payload)});
  }
  static std::vector<std::uint8_t> good(double value) {
    return encode_single_sample({.ts_ns = 1'767'225'600'000'000'000, .value = value, .quality = {}});
  }
  static Puback puback(RawPeer& peer, int timeout_ms = 2000) {
    auto m = peer.receive(timeout_ms);
    EXPECT_TRUE(m && std::holds_alternative<Puback>(*m));
    return m && std::holds_alternative<Puback>(*m) ? std::get<Puback>(*m) : Puback{};
  }
  // Blocks the gateway in a first group (a's msg 1), then lets `burst` be sent; it becomes the
  // second group.
  template <typename F>
  void first_then_burst(RawPeer& a, std::uint16_t topic_a, F burst) {
    consumer_.block_next();
    publish(a, topic_a, 1, 1, good(1.0));
    ASSERT_TRUE(consumer_.wait_blocked());
    burst();
    std::this_thread::sleep_for(50ms);  // loopback delivers at once; this is only margin
    consumer_.open();
  }
  std::uint64_t counter(const std::string& name, const std::string& labels = "") const {
    return metrics_.counter_value(name, labels);
  }

  MetricsRegistry metrics_;
  GroupConsumer consumer_;
  Quarantine quarantine_{metrics_, 100};
  std::unique_ptr<SeriesCatalog> catalog_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(CoalescingTest, OneGroupManyAcknowledgementsEachOnlyWhenDurable) {
  RawPeer a(gateway_->bound_port()), b(gateway_->bound_port()), c(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA), tb = attach(b, "dev-b", kPathB), tc = attach(c, "dev-c", kPathC);
  first_then_burst(a, ta, [&] {
    publish(a, ta, 2, 1, good(2.0));
    publish(b, tb, 1, 1, good(11.0));
    publish(a, ta, 3, 1, good(3.0));
    publish(c, tc, 7, 2, good(21.0));  // QoS 2: PUBREC when durable
    publish(b, tb, 2, 0, good(12.0));  // QoS 0 in the same group: stored, never answered
  });
  ASSERT_TRUE(eventually([&] { return consumer_.groups().size() == 2; }));
  const auto groups = consumer_.groups();
  ASSERT_EQ(groups[0].size(), 1u);
  ASSERT_EQ(groups[1].size(), 5u);  // one part per PUBLISH, in arrival order
  const std::vector<std::pair<std::string, double>> want = {
      {"dev-a", 2.0}, {"dev-b", 11.0}, {"dev-a", 3.0}, {"dev-c", 21.0}, {"dev-b", 12.0}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    const SampleBatch& part = groups[1][i];
    EXPECT_EQ(part.provenance.connector, "mqttsn");
    EXPECT_EQ(part.provenance.client_id, want[i].first) << i;  // the device, per part
    ASSERT_EQ(part.samples.size(), 1u);
    EXPECT_EQ(part.samples[0].value, want[i].second);
    EXPECT_EQ(part.samples[0].series, catalog_->find(want[i].first == "dev-a"   ? kPathA
                                                     : want[i].first == "dev-b" ? kPathB
                                                                                : kPathC)
                                          ->id);
  }
  // Nothing is acknowledged before the durable callbacks.
  EXPECT_EQ(consumer_.held_count(), 2u);
  EXPECT_FALSE(a.receive(300));
  EXPECT_FALSE(b.receive(50));
  EXPECT_FALSE(c.receive(50));
  EXPECT_EQ(counter("resonance_mqttsn_pubacks_total", "rc=\"accepted\""), 0u);

  consumer_.release();
  for (int id : {1, 2, 3}) {
    const Puback p = puback(a);
    EXPECT_EQ(p.msg_id, id);
    EXPECT_EQ(p.topic_id, ta);
    EXPECT_EQ(p.return_code, ReturnCode::kAccepted);
  }
  const Puback pb = puback(b);
  EXPECT_EQ(pb.msg_id, 1);
  EXPECT_EQ(pb.topic_id, tb);
  EXPECT_EQ(pb.return_code, ReturnCode::kAccepted);
  EXPECT_FALSE(b.receive(200));  // its QoS 0 message gets nothing
  EXPECT_EQ(c.receive(), Message(Pubrec{.msg_id = 7}));
  EXPECT_EQ(counter("resonance_mqttsn_samples_total"), 6u);
}

TEST_F(CoalescingTest, PartsRefusedWithRetryLaterGetCongestionTheOthersWait) {
  RawPeer a(gateway_->bound_port()), b(gateway_->bound_port()), c(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA), tb = attach(b, "dev-b", kPathB), tc = attach(c, "dev-c", kPathC);
  consumer_.answer("dev-b", Admission::kRetryLater);
  consumer_.answer("dev-c", Admission::kRejected);
  first_then_burst(a, ta, [&] {
    publish(b, tb, 5, 1, good(11.0));
    publish(a, ta, 2, 1, good(2.0));
    publish(c, tc, 9, 1, good(21.0));
  });
  // The refused parts are answered at once: congestion for RetryLater, 0x03 for Rejected (and
  // the quarantine); nothing is said to the accepted one until it is durable.
  const Puback pb = puback(b);
  EXPECT_EQ(pb.msg_id, 5);
  EXPECT_EQ(pb.topic_id, tb);
  EXPECT_EQ(pb.return_code, ReturnCode::kCongestion);
  const Puback pc = puback(c);
  EXPECT_EQ(pc.msg_id, 9);
  EXPECT_EQ(pc.return_code, ReturnCode::kNotSupported);
  EXPECT_FALSE(a.receive(300));
  EXPECT_EQ(counter("resonance_mqttsn_congestion_total"), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_rejected_total", "reason=\"pipeline\""), 1u);
  ASSERT_TRUE(eventually([&] { return quarantine_.recent().size() == 1; }));
  const auto q = quarantine_.recent();
  EXPECT_EQ(q[0].client_id, "dev-c");
  EXPECT_EQ(q[0].reason_code, "rejected");
  EXPECT_EQ(q[0].topic, kPathC);

  consumer_.release();
  for (int id : {1, 2}) {
    const Puback p = puback(a);
    EXPECT_EQ(p.msg_id, id);
    EXPECT_EQ(p.return_code, ReturnCode::kAccepted);
  }
  EXPECT_FALSE(b.receive(200));  // no second answer for the refused ones
  EXPECT_FALSE(c.receive(50));
  // b's message was not taken: resent, it is stored (not a duplicate of anything pending).
  consumer_.answer("dev-b", Admission::kAccepted);
  publish(b, tb, 5, 1, good(11.0));
  ASSERT_TRUE(eventually([&] { return consumer_.held_count() == 1; }));
  consumer_.release();
  EXPECT_EQ(puback(b).return_code, ReturnCode::kAccepted);
}

TEST_F(CoalescingTest, ABadPayloadAmidGoodOnesIsQuarantinedAlone) {
  RawPeer a(gateway_->bound_port()), b(gateway_->bound_port()), c(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA), tb = attach(b, "dev-b", kPathB), tc = attach(c, "dev-c", kPathC);
  first_then_burst(a, ta, [&] {
    publish(a, ta, 2, 1, good(2.0));
    publish(b, tb, 4, 1, {0x7f, 0x00});  // no such payload tag
    publish(c, tc, 6, 1, good(21.0));
  });
  const Puback pb = puback(b);
  EXPECT_EQ(pb.msg_id, 4);
  EXPECT_EQ(pb.return_code, ReturnCode::kNotSupported);
  ASSERT_TRUE(eventually([&] { return consumer_.groups().size() == 2; }));
  const auto groups = consumer_.groups();
  ASSERT_EQ(groups[1].size(), 2u);  // the good neighbours went on
  EXPECT_EQ(groups[1][0].provenance.client_id, "dev-a");
  EXPECT_EQ(groups[1][1].provenance.client_id, "dev-c");
  ASSERT_TRUE(eventually([&] { return quarantine_.recent().size() == 1; }));
  std::this_thread::sleep_for(100ms);
  const auto q = quarantine_.recent();
  ASSERT_EQ(q.size(), 1u);  // only the bad one
  EXPECT_EQ(q[0].client_id, "dev-b");
  EXPECT_EQ(q[0].reason_code, "payload");
  EXPECT_EQ(q[0].topic, kPathB);
  EXPECT_FALSE(a.receive(200));
  EXPECT_FALSE(c.receive(50));

  consumer_.release();
  EXPECT_EQ(puback(a).msg_id, 1);
  EXPECT_EQ(puback(a).msg_id, 2);
  const Puback pc = puback(c);
  EXPECT_EQ(pc.msg_id, 6);
  EXPECT_EQ(pc.return_code, ReturnCode::kAccepted);
}

TEST_F(CoalescingTest, AGroupNotDurableIsCongestionForEachOfItsMessages) {
  RawPeer a(gateway_->bound_port()), b(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA), tb = attach(b, "dev-b", kPathB);
  first_then_burst(a, ta, [&] {
    publish(a, ta, 2, 1, good(2.0));
    publish(b, tb, 3, 1, good(11.0));
  });
  ASSERT_TRUE(eventually([&] { return consumer_.held_count() == 2; }));
  consumer_.release(Status(StatusCode::kIoError, "fdatasync: EIO"));
  for (int id : {1, 2}) {
    const Puback p = puback(a);
    EXPECT_EQ(p.msg_id, id);
    EXPECT_EQ(p.return_code, ReturnCode::kCongestion);
  }
  const Puback pb = puback(b);
  EXPECT_EQ(pb.msg_id, 3);
  EXPECT_EQ(pb.return_code, ReturnCode::kCongestion);
  EXPECT_EQ(counter("resonance_mqttsn_durable_errors_total"), 2u);  // one per group
  EXPECT_EQ(counter("resonance_mqttsn_pubacks_total", "rc=\"accepted\""), 0u);
}

TEST_F(CoalescingTest, ARetransmissionInTheSameBurstIsStoredOnce) {
  RawPeer a(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA);
  first_then_burst(a, ta, [&] {
    publish(a, ta, 2, 1, good(2.0));
    publish(a, ta, 2, 1, good(2.0));  // the device retransmitted before hearing anything
  });
  ASSERT_TRUE(eventually([&] { return consumer_.groups().size() == 2; }));
  EXPECT_EQ(consumer_.groups()[1].size(), 1u);
  EXPECT_EQ(counter("resonance_mqttsn_duplicates_total"), 1u);
  consumer_.release();
  EXPECT_EQ(puback(a).msg_id, 1);
  EXPECT_EQ(puback(a).msg_id, 2);
  EXPECT_FALSE(a.receive(200));  // one PUBACK for the message, not one per copy
}

TEST_F(CoalescingTest, ADisconnectInTheBurstComesAfterItsPublishesAreSubmitted) {
  RawPeer a(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA);
  first_then_burst(a, ta, [&] {
    publish(a, ta, 2, 0, good(2.0));
    a.send(Disconnect{});
    publish(a, ta, 3, 0, good(3.0));  // after DISCONNECT: no session, answered with DISCONNECT
  });
  ASSERT_TRUE(eventually([&] { return consumer_.groups().size() == 2; }));
  std::this_thread::sleep_for(100ms);
  const auto groups = consumer_.groups();
  ASSERT_EQ(groups.size(), 2u);
  ASSERT_EQ(groups[1].size(), 1u);
  EXPECT_EQ(groups[1][0].samples.at(0).value, 2.0);
}

// A device that bursts (or a NIC that coalesces) hands the gateway several datagrams in one
// UDP_GRO buffer; each is still its own PUBLISH with its own PUBACK. The PUBACKs of the burst
// leave as one UDP_SEGMENT send, which the kernel splits for this socket (it has no UDP_GRO), so
// the device must see one well-formed PUBACK datagram per message, in order.
TEST_F(CoalescingTest, ASegmentedBurstIsSplitIntoItsPublishesAndAnsweredOneDatagramEach) {
  RawPeer a(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA);
  constexpr int kBurst = 12;
  std::vector<Message> burst;
  for (int i = 1; i <= kBurst; ++i)
    burst.push_back(Publish{.flags = {.qos = 1}, .topic_id = ta, .msg_id = static_cast<std::uint16_t>(i),
                            .data = good(static_cast<double>(i))});
  ASSERT_TRUE(a.send_segmented(burst)) << std::strerror(errno);
  ASSERT_TRUE(eventually([&] {
    std::size_t parts = 0;
    for (const auto& g : consumer_.groups()) parts += g.size();
    return parts == kBurst;
  }));
  std::vector<double> values;
  for (const auto& g : consumer_.groups())
    for (const auto& part : g) values.push_back(part.samples.at(0).value);
  for (int i = 1; i <= kBurst; ++i) EXPECT_EQ(values.at(static_cast<std::size_t>(i - 1)), i);
  EXPECT_FALSE(a.receive(100));  // not durable yet
  consumer_.release();
  for (int i = 1; i <= kBurst; ++i) {
    const Puback p = puback(a);
    EXPECT_EQ(p.msg_id, i);
    EXPECT_EQ(p.topic_id, ta);
    EXPECT_EQ(p.return_code, ReturnCode::kAccepted);
  }
  EXPECT_FALSE(a.receive(200));
  EXPECT_EQ(counter("resonance_mqttsn_pubacks_total", "rc=\"accepted\""), static_cast<std::uint64_t>(kBurst));
  EXPECT_EQ(counter("resonance_mqttsn_send_errors_total"), 0u);
}

// When the gateway falls behind, the kernel drops datagrams at the full receive buffer, before
// the gateway could count them itself. SO_RXQ_OVFL makes them visible: every datagram sent is
// either stored or in resonance_mqttsn_kernel_drops_total.
TEST_F(CoalescingTest, DatagramsTheKernelDropsAtAFullReceiveBufferAreCounted) {
  RawPeer a(gateway_->bound_port());
  const auto ta = attach(a, "dev-a", kPathA);
  constexpr int kFlood = 30000;  // far beyond what a 4 MiB receive buffer holds of small datagrams
  first_then_burst(a, ta, [&] {
    const auto bytes = *encode(Publish{.flags = {.qos = 0}, .topic_id = ta, .msg_id = 0, .data = good(5.0)});
    for (int i = 0; i < kFlood; ++i) a.send_bytes(bytes);
  });
  const auto parts = [&] {
    std::size_t n = 0;
    for (const auto& g : consumer_.groups()) n += g.size();
    return n;
  };
  ASSERT_TRUE(eventually([&] { return parts() + counter("resonance_mqttsn_kernel_drops_total") == kFlood + 1; }))
      << parts() << " stored, " << counter("resonance_mqttsn_kernel_drops_total") << " counted as dropped";
  EXPECT_GT(counter("resonance_mqttsn_kernel_drops_total"), 0u);
}

}  // namespace
}  // namespace resonance::mqttsn
