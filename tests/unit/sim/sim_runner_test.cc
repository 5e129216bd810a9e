// The device loop against a scripted in-memory client: what it registers and publishes, and how it
// recovers from congestion, lost registrations and lost sessions.

#include "connectors/sim/sim_runner.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "connectors/mqttsn/payload.h"
#include "connectors/sim/ack_log.h"

namespace resonance::sim {
namespace {

using namespace std::chrono_literals;

template <typename F>
bool eventually(F condition, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// What a scripted gateway answers to the next PUBLISH: an outcome or a failed exchange.
using Answer = std::variant<mqttsn::PublishOutcome, Status>;

// Shared by every FakeClient it creates; all methods thread-safe.
class FakeGateway {
 public:
  struct Received {
    std::string topic;
    std::vector<std::uint8_t> payload;
  };

  ClientFactory factory() {
    return [this](const mqttsn::ClientOptions& options)
               -> Result<std::unique_ptr<mqttsn::Client>> {
      std::lock_guard lock(mu_);
      client_ids_.push_back(options.client_id);
      if (refuse_connects_ > 0) {
        --refuse_connects_;
        return error(StatusCode::kUnavailable, "fake: no CONNACK");
      }
      ++sessions_;
      topics_.clear();  // clean session
      return std::unique_ptr<mqttsn::Client>(std::make_unique<Client>(*this, sessions_));
    };
  }

  void refuse_connects(int n) {
    std::lock_guard lock(mu_);
    refuse_connects_ = n;
  }
  void script(std::vector<Answer> answers) {
    std::lock_guard lock(mu_);
    for (auto& a : answers) script_.push_back(std::move(a));
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<Received> accepted() const {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  int registrations() const {
    std::lock_guard lock(mu_);
    return registrations_;
  }
  std::vector<std::string> registered_names() const {
    std::lock_guard lock(mu_);
    return registered_names_;
  }
  std::vector<std::string> client_ids() const {
    std::lock_guard lock(mu_);
    return client_ids_;
  }
  int sessions() const {
    std::lock_guard lock(mu_);
    return sessions_;
  }

 private:
  class Client final : public mqttsn::Client {
   public:
    Client(FakeGateway& gw, int session) : gw_(gw), session_(session) {}
    Result<std::uint16_t> register_topic(std::string_view name) override {
      std::lock_guard lock(gw_.mu_);
      if (gw_.sessions_ != session_) return error(StatusCode::kUnavailable, "fake: stale session");
      ++gw_.registrations_;
      gw_.registered_names_.emplace_back(name);
      const auto id = static_cast<std::uint16_t>(gw_.next_topic_id_++);
      gw_.topics_[id] = std::string(name);
      return id;
    }
    Status publish_qos0(std::uint16_t, std::span<const std::uint8_t>) override {
      return Status(StatusCode::kInternal, "fake: the simulator never publishes QoS 0");
    }
    Result<mqttsn::PublishOutcome> publish_qos1(std::uint16_t topic_id,
                                                std::span<const std::uint8_t> payload) override {
      std::lock_guard lock(gw_.mu_);
      const auto topic = gw_.topics_.count(topic_id) ? gw_.topics_[topic_id] : std::string("?");
      gw_.received_.push_back({topic, {payload.begin(), payload.end()}});
      Answer answer = mqttsn::PublishOutcome::kAccepted;
      if (!gw_.script_.empty()) {
        answer = gw_.script_.front();
        gw_.script_.pop_front();
      }
      if (auto* failed = std::get_if<Status>(&answer)) return error(*failed);
      const auto outcome = std::get<mqttsn::PublishOutcome>(answer);
      if (outcome == mqttsn::PublishOutcome::kInvalidTopicId) gw_.topics_.erase(topic_id);
      if (outcome == mqttsn::PublishOutcome::kAccepted) {
        if (topic == "?") return mqttsn::PublishOutcome::kInvalidTopicId;
        gw_.accepted_.push_back({topic, {payload.begin(), payload.end()}});
      }
      return outcome;
    }
    Status ping() override { return Status::ok(); }
    Status disconnect() override { return Status::ok(); }
    // The simulator uses only REGISTER, QoS 1 PUBLISH, PINGREQ and DISCONNECT; anything else is
    // an error so a test notices if it starts to.
    Result<mqttsn::PublishOutcome> publish(std::uint16_t, std::uint8_t, int,
                                           std::span<const std::uint8_t>) override {
      return error(unused("publish"));
    }
    Result<mqttsn::SubscribeResult> subscribe(std::string_view, int) override {
      return error(unused("subscribe"));
    }
    Result<mqttsn::SubscribeResult> subscribe_id(std::uint8_t, std::uint16_t, int) override {
      return error(unused("subscribe_id"));
    }
    Status unsubscribe(std::string_view) override { return unused("unsubscribe"); }
    Result<std::optional<mqttsn::Received>> receive(int) override { return error(unused("receive")); }
    Status update_will_topic(std::string_view, int) override { return unused("update_will_topic"); }
    Status update_will_message(std::string_view) override { return unused("update_will_message"); }
    Status sleep(std::uint16_t) override { return unused("sleep"); }
    Result<std::vector<mqttsn::Received>> wake() override { return error(unused("wake")); }

   private:
    static Status unused(std::string_view what) {
      return Status(StatusCode::kInternal, fmt::format("fake: the simulator never calls {}", what));
    }
    FakeGateway& gw_;
    int session_;
  };

  mutable std::mutex mu_;
  int refuse_connects_ = 0;
  int sessions_ = 0;
  int registrations_ = 0;
  int next_topic_id_ = 1;
  std::map<std::uint16_t, std::string> topics_;
  std::deque<Answer> script_;
  std::vector<Received> received_;
  std::vector<Received> accepted_;
  std::vector<std::string> registered_names_;
  std::vector<std::string> client_ids_;
};

std::filesystem::path temp_file(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    (name + "-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  return path;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

DeviceOptions fast_options() {
  DeviceOptions o;
  o.equipment = "cnc-07";
  o.sample_hz = 50;
  o.backoff_initial_ms = 1;
  o.backoff_max_ms = 4;
  return o;
}

// Runs the device on a thread until `done` holds (or 5 s pass), then stops it.
template <typename F>
Status run_until(const DeviceOptions& options, FakeGateway& gw, DeviceStats& stats, F done) {
  Status result;
  {
    std::jthread device([&](std::stop_token stop) {
      result = run_device(options, stop, &stats, gw.factory());
    });
    EXPECT_TRUE(eventually(done));
  }
  return result;
}

TEST(SimRunner, RegistersEverySignalAndPublishesQos1SingleSamples) {
  FakeGateway gw;
  DeviceStats stats;
  auto options = fast_options();
  options.ack_log = temp_file("sim-runner-ack");
  const auto before_ns = unix_now_ns();
  ASSERT_TRUE(run_until(options, gw, stats, [&] { return stats.steps >= 5; }).is_ok());

  EXPECT_EQ(gw.client_ids().front(), "cnc-07");
  const auto names = gw.registered_names();
  ASSERT_EQ(names.size(), kSignalCount);
  EXPECT_EQ(names[0], "plant1/machining/line1/cnc-07/spindle_speed");
  EXPECT_EQ(names[kSignalCount - 1], "plant1/machining/line1/cnc-07/execution_state");

  const auto accepted = gw.accepted();
  ASSERT_GE(accepted.size(), 5 * kSignalCount);
  // One step = every signal once, in index order, all with the step's timestamp.
  for (std::size_t i = 0; i < kSignalCount; ++i) {
    EXPECT_EQ(accepted[i].topic, names[i]);
    auto samples = mqttsn::decode_payload(accepted[i].payload);
    ASSERT_TRUE(samples) << samples.error().message();
    ASSERT_EQ(samples->size(), 1u);
    EXPECT_EQ((*samples)[0].quality, Quality{Quality::kGood});
    EXPECT_GE((*samples)[0].ts_ns, before_ns);
    EXPECT_EQ((*samples)[0].ts_ns, (*mqttsn::decode_payload(accepted[0].payload))[0].ts_ns);
  }
  // The ack log holds exactly the accepted samples, in order.
  const auto lines = read_lines(*options.ack_log);
  ASSERT_EQ(lines.size(), accepted.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto sample = (*mqttsn::decode_payload(accepted[i].payload))[0];
    EXPECT_EQ(lines[i] + "\n", AckLog::format_line(accepted[i].topic, sample.ts_ns, sample.value));
  }
  EXPECT_EQ(stats.acked.load(), accepted.size());
  EXPECT_EQ(stats.published.load(), accepted.size());
  EXPECT_EQ(stats.retries.load(), 0u);
  EXPECT_EQ(stats.connects.load(), 1u);
  std::filesystem::remove(*options.ack_log);
}

TEST(SimRunner, CongestionBacksOffAndResendsTheSameMessage) {
  FakeGateway gw;
  gw.script({mqttsn::PublishOutcome::kCongestion, mqttsn::PublishOutcome::kCongestion});
  DeviceStats stats;
  ASSERT_TRUE(run_until(fast_options(), gw, stats, [&] { return stats.acked >= 2; }).is_ok());
  const auto received = gw.received();
  ASSERT_GE(received.size(), 3u);
  EXPECT_EQ(received[0].payload, received[1].payload);
  EXPECT_EQ(received[1].payload, received[2].payload);
  EXPECT_EQ(gw.accepted().front().payload, received[0].payload);
  EXPECT_EQ(stats.congestion.load(), 2u);
  EXPECT_EQ(stats.retries.load(), 2u);
  EXPECT_EQ(stats.connects.load(), 1u);
}

TEST(SimRunner, InvalidTopicIdReRegistersAndResends) {
  FakeGateway gw;
  gw.script({mqttsn::PublishOutcome::kInvalidTopicId});
  DeviceStats stats;
  ASSERT_TRUE(run_until(fast_options(), gw, stats, [&] { return stats.acked >= 2; }).is_ok());
  EXPECT_EQ(gw.registrations(), static_cast<int>(kSignalCount) + 1);
  const auto accepted = gw.accepted();
  EXPECT_EQ(accepted.front().payload, gw.received().front().payload);
  EXPECT_EQ(accepted.front().topic, "plant1/machining/line1/cnc-07/spindle_speed");
  EXPECT_EQ(stats.invalid_topic.load(), 1u);
  EXPECT_EQ(stats.retries.load(), 1u);
}

TEST(SimRunner, TimeoutReconnectsAndResends) {
  FakeGateway gw;
  gw.script({Status(StatusCode::kUnavailable, "fake: no PUBACK after 3 retries")});
  DeviceStats stats;
  ASSERT_TRUE(run_until(fast_options(), gw, stats, [&] { return stats.acked >= 2; }).is_ok());
  EXPECT_EQ(gw.sessions(), 2);
  EXPECT_EQ(gw.registrations(), 2 * static_cast<int>(kSignalCount));
  EXPECT_EQ(gw.accepted().front().payload, gw.received().front().payload);
  EXPECT_EQ(stats.reconnects.load(), 1u);
  EXPECT_EQ(stats.retries.load(), 1u);
  EXPECT_EQ(stats.errors.load(), 1u);
}

TEST(SimRunner, KeepsTryingWhileTheGatewayIsDown) {
  FakeGateway gw;
  gw.refuse_connects(4);
  DeviceStats stats;
  ASSERT_TRUE(run_until(fast_options(), gw, stats, [&] { return stats.acked >= 1; }).is_ok());
  EXPECT_EQ(gw.client_ids().size(), 5u);
  EXPECT_EQ(stats.errors.load(), 4u);
  EXPECT_EQ(stats.connects.load(), 1u);
  EXPECT_EQ(stats.reconnects.load(), 0u);
}

TEST(SimRunner, NotSupportedDropsTheSampleAndMovesOn) {
  FakeGateway gw;
  gw.script({mqttsn::PublishOutcome::kNotSupported});
  DeviceStats stats;
  ASSERT_TRUE(run_until(fast_options(), gw, stats, [&] { return stats.acked >= 1; }).is_ok());
  EXPECT_EQ(stats.not_supported.load(), 1u);
  EXPECT_EQ(stats.retries.load(), 0u);
  EXPECT_NE(gw.accepted().front().topic, gw.received().front().topic);
}

TEST(SimRunner, StopsPromptlyDuringReconnectBackoff) {
  FakeGateway gw;
  gw.refuse_connects(1000000);
  auto options = fast_options();
  options.backoff_initial_ms = 10000;
  options.backoff_max_ms = 10000;
  DeviceStats stats;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(options, gw, stats, [&] { return stats.errors >= 1; }).is_ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(SimRunner, ValidateNamesTheBadField) {
  DeviceOptions o;
  EXPECT_TRUE(validate(o).is_ok());
  o.equipment = "a-very-long-equipment-identifier";
  EXPECT_EQ(validate(o).code(), StatusCode::kInvalidArgument);
  EXPECT_NE(validate(o).message().find("client id"), std::string::npos);
  o = {};
  o.equipment = "cnc/01";
  EXPECT_EQ(validate(o).code(), StatusCode::kInvalidArgument);
  o = {};
  o.sample_hz = 0;
  EXPECT_NE(validate(o).message().find("sample_hz"), std::string::npos);
  o = {};
  o.site = "";
  EXPECT_EQ(validate(o).code(), StatusCode::kInvalidArgument);
  // Invalid options end run_device at once, before any connection attempt.
  FakeGateway gw;
  std::stop_source never;
  EXPECT_EQ(run_device(o, never.get_token(), nullptr, gw.factory()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(gw.client_ids().empty());
}

TEST(SimRunner, AckLogThatCannotBeOpenedIsAnError) {
  FakeGateway gw;
  auto o = fast_options();
  o.ack_log = "/nonexistent-dir/ack.log";
  std::stop_source never;
  EXPECT_EQ(run_device(o, never.get_token(), nullptr, gw.factory()).code(), StatusCode::kIoError);
}

TEST(SimRunner, AckLogLineHasPathTimestampAndValueBits) {
  EXPECT_EQ(AckLog::format_line("a/b/c/d/e", 1700000000123456789, 1.0),
            "a/b/c/d/e 1700000000123456789 3ff0000000000000\n");
  EXPECT_EQ(AckLog::format_line("a/b/c/d/e", 5, -0.0), "a/b/c/d/e 5 8000000000000000\n");
}

TEST(SimLine, DeviceOptionsNumberMachinesAndDeriveSeeds) {
  LineOptions line;
  line.machines = 12;
  line.device.seed = 99;
  std::set<std::uint64_t> seeds;
  for (int i = 0; i < line.machines; ++i) {
    const auto d = device_options(line, i);
    seeds.insert(d.seed);
    EXPECT_EQ(d.site, "plant1");
  }
  EXPECT_EQ(device_options(line, 0).equipment, "cnc-01");
  EXPECT_EQ(device_options(line, 11).equipment, "cnc-12");
  EXPECT_EQ(seeds.size(), 12u);
  EXPECT_EQ(device_options(line, 3).seed, derive_seed(99, 3));
}

TEST(SimLine, RejectsBadMachineCount) {
  LineOptions line;
  line.machines = 0;
  std::stop_source never;
  EXPECT_EQ(run_line(line, never.get_token(), nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(SimLine, RunsForItsDurationAgainstAnAbsentGatewayAndStops) {
  LineOptions line;
  line.machines = 3;
  line.device.gateway_port = 9;  // discard: nothing answers MQTT-SN there
  line.device.retry_timeout_ms = 50;
  line.device.max_retries = 0;
  line.device.backoff_initial_ms = 10;
  line.device.backoff_max_ms = 20;
  line.duration = 400ms;
  LineStats stats;
  std::stop_source never;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(run_line(line, never.get_token(), &stats).is_ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(stats.devices_running.load(), 0);
  EXPECT_GE(stats.totals.errors.load(), 3u);
  EXPECT_EQ(stats.totals.acked.load(), 0u);
}

}  // namespace
}  // namespace resonance::sim
