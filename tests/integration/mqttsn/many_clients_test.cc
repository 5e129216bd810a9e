// 1,000 concurrent clients connect, register and publish QoS 1 over loopback; every PUBLISH is
// acknowledged as durable and stored exactly once.

#include "tests/unit/mqttsn/gateway_fixture.h"

namespace resonance::mqttsn {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

class ManyClients : public GatewayTest {};

TEST_F(ManyClients, ThousandConcurrentClientsPublishQos1WithoutLoss) {
  constexpr int kClients = 1000;
  constexpr int kThreads = 8;
  constexpr int kPublishes = 5;
  options_.max_clients = kClients;
  options_.max_inflight_per_client = 4;
  restart_gateway();
  std::atomic<int> accepted{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::atomic<int> connected{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread holds its share of the clients open at once, so all 1,000 sessions are live
      // together, and interleaves their requests.
      std::vector<std::unique_ptr<Client>> clients;
      std::vector<std::uint16_t> topics;
      for (int i = t; i < kClients; i += kThreads) {
        auto o = client_options(fmt::format("sim-{:04}", i));
        o.retry_timeout_ms = 1000;
        o.max_retries = 5;
        auto c = Client::connect(o);
        if (!c) {
          ++failures;
          continue;
        }
        auto id = (*c)->register_topic(fmt::format("plant1/sim/line{}/m{}/temp", t, i));
        if (!id) {
          ++failures;
          continue;
        }
        clients.push_back(std::move(*c));
        topics.push_back(*id);
        ++connected;
      }
      while (connected.load() < kClients && failures.load() == 0) std::this_thread::sleep_for(1ms);
      for (int round = 0; round < kPublishes; ++round)
        for (std::size_t k = 0; k < clients.size(); ++k) {
          auto r = clients[k]->publish_qos1(
              topics[k], encode_single_sample({.ts_ns = 1'767'225'600'000'000'000 + round,
                                               .value = static_cast<double>(round),
                                               .quality = {}}));
          if (r && *r == PublishOutcome::kAccepted)
            ++accepted;
          else
            ++failures;
        }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(connected.load(), kClients);
  EXPECT_EQ(accepted.load(), kClients * kPublishes);
  EXPECT_EQ(consumer_.batch_count(), static_cast<std::size_t>(kClients * kPublishes));
  EXPECT_EQ(metrics_.gauge("resonance_mqttsn_sessions", "").value(), kClients);
  EXPECT_EQ(counter("resonance_mqttsn_duplicates_total"), 0u);
}

}  // namespace
}  // namespace resonance::mqttsn
