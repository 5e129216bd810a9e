// End to end over UDP loopback: a simulated machine publishes to the real MQTT-SN gateway, whose
// consumer makes every batch durable at once. Whatever the device logged as acknowledged must be
// exactly what the consumer received: same series path, timestamp and value bits.

#if __has_include("connectors/mqttsn/gateway.h")

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/mqttsn/gateway.h"
#include "connectors/sim/ack_log.h"
#include "connectors/sim/sim_runner.h"
#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/pipeline/pipeline.h"

namespace resonance::sim {
namespace {

using namespace std::chrono_literals;

// Durable as soon as submitted. Thread-safe: submit() runs on the gateway thread.
class ImmediateConsumer : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    {
      std::lock_guard lock(mu_);
      for (const Sample& s : batch.samples) samples_.push_back(s);
    }
    on_durable(Status::ok());
    return Admission::kAccepted;
  }
  std::vector<Sample> samples() const {
    std::lock_guard lock(mu_);
    return samples_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Sample> samples_;
};

TEST(SimLoopback, AckLogMatchesWhatTheGatewayDelivered) {
  auto catalog = SeriesCatalog::open(":memory:");
  ASSERT_TRUE(catalog) << catalog.error().message();
  MetricsRegistry metrics;
  ImmediateConsumer consumer;
  mqttsn::GatewayOptions gateway_options;
  gateway_options.bind_address = "127.0.0.1";
  gateway_options.port = 0;
  mqttsn::Gateway gateway(gateway_options, consumer, **catalog, metrics);
  ASSERT_TRUE(gateway.start().is_ok());
  ASSERT_NE(gateway.bound_port(), 0);

  DeviceOptions options;
  options.gateway_port = gateway.bound_port();
  options.equipment = "cnc-01";
  options.seed = 2024;
  options.sample_hz = 10;
  options.retry_timeout_ms = 500;
  options.ack_log = std::filesystem::temp_directory_path() /
                    ("sim-loopback-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(*options.ack_log);

  DeviceStats stats;
  Status result;
  {
    std::jthread device([&](std::stop_token stop) {
      result = run_device(options, stop, &stats);
    });
    std::this_thread::sleep_for(2s);
  }  // stop requested and joined
  gateway.stop();
  ASSERT_TRUE(result.is_ok()) << result.to_string();

  std::vector<std::string> logged;
  {
    std::ifstream in(*options.ack_log);
    for (std::string line; std::getline(in, line);) logged.push_back(line + "\n");
  }
  std::vector<std::string> delivered;
  for (const Sample& s : consumer.samples()) {
    EXPECT_EQ(s.quality, Quality{Quality::kGood});
    const auto info = (*catalog)->find(s.series);
    ASSERT_TRUE(info.has_value()) << "series " << s.series << " not in the catalog";
    delivered.push_back(AckLog::format_line(info->path, s.ts_ns, s.value));
  }
  // Ten steps a second for two seconds, every signal: well over a hundred samples.
  EXPECT_GE(logged.size(), 10 * kSignalCount);
  EXPECT_EQ(logged.size(), stats.acked.load());
  std::sort(logged.begin(), logged.end());
  std::sort(delivered.begin(), delivered.end());
  EXPECT_EQ(logged, delivered);
  EXPECT_EQ(stats.congestion.load(), 0u);
  EXPECT_EQ(stats.reconnects.load(), 0u);
  EXPECT_EQ((*catalog)->list().size(), kSignalCount);
  std::filesystem::remove(*options.ack_log);
}

}  // namespace
}  // namespace resonance::sim

#else
#warning "connectors/mqttsn/gateway.h is missing: the simulator loopback test is not built"
#endif
