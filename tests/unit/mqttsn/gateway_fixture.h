#pragma once
// Shared by the gateway tests: the gateway over real UDP loopback, driven by the real Client (and
// a raw socket where a test needs to send what a well-behaved client never would), against a
// BatchConsumer double that holds durable callbacks until the test releases them.

#include "connectors/mqttsn/gateway.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "connectors/mqttsn/client.h"
#include "connectors/mqttsn/codec.h"
#include "connectors/mqttsn/payload.h"
#include "connectors/mqttsn/udp_segment.h"

namespace resonance::mqttsn::testing_support {

using namespace std::chrono_literals;

// Thread-safe: submit() runs on the gateway thread, the rest on the test thread.
class FakeConsumer : public BatchConsumer {
 public:
  Admission submit(SampleBatch&& batch, DurableCallback on_durable) override {
    std::lock_guard lock(mu_);
    if (answer_ != Admission::kAccepted) return answer_;
    batches_.push_back(std::move(batch));
    if (hold_)
      held_.push_back(std::move(on_durable));
    else
      on_durable(Status::ok());
    return Admission::kAccepted;
  }
  void set_answer(Admission a) {
    std::lock_guard lock(mu_);
    answer_ = a;
  }
  void set_hold(bool hold) {
    std::lock_guard lock(mu_);
    hold_ = hold;
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
  std::size_t batch_count() const {
    std::lock_guard lock(mu_);
    return batches_.size();
  }
  std::size_t held_count() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  SampleBatch batch(std::size_t i) const {
    std::lock_guard lock(mu_);
    return batches_.at(i);
  }

 private:
  mutable std::mutex mu_;
  Admission answer_ = Admission::kAccepted;
  bool hold_ = false;
  std::vector<SampleBatch> batches_;
  std::vector<DurableCallback> held_;
};

template <typename F>
bool eventually(F condition, std::chrono::milliseconds timeout = 3000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// A bare UDP socket speaking through the codec.
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in gw{};
    gw.sin_family = AF_INET;
    gw.sin_port = htons(port);
    gw.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&gw), sizeof gw), 0);
  }
  ~RawPeer() { ::close(fd_); }
  void send_bytes(std::span<const std::uint8_t> bytes) { (void)::send(fd_, bytes.data(), bytes.size(), 0); }
  void send(const Message& m) { send_bytes(*encode(m)); }
  // Equal-size messages in ONE sendmsg with UDP_SEGMENT: separate datagrams to the gateway, which
  // (with UDP_GRO) receives them as one buffer, as from a device that bursts.
  bool send_segmented(const std::vector<Message>& messages) {
    std::vector<std::uint8_t> all;
    std::uint16_t segment = 0;
    for (const Message& m : messages) {
      const auto bytes = *encode(m);
      segment = static_cast<std::uint16_t>(bytes.size());
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
    return mqttsn::send_segmented(fd_, all, segment) == static_cast<ssize_t>(all.size());
  }
  std::optional<Message> receive(int timeout_ms = 2000) {
    pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return std::nullopt;
    std::array<std::uint8_t, 2048> buf{};
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return std::nullopt;
    auto m = decode(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    if (!m) return std::nullopt;
    return *m;
  }

 private:
  int fd_;
};

constexpr std::string_view kPath = "plant1/press/line2/p7/temperature";

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog) << catalog.error().message();
    catalog_ = std::move(*catalog);
    start_gateway();
  }
  // Tests adjust options_ and call restart_gateway().
  void start_gateway() {
    gateway_ = std::make_unique<Gateway>(options_, consumer_, *catalog_, metrics_);
    ASSERT_TRUE(gateway_->start().is_ok());
    ASSERT_NE(gateway_->bound_port(), 0);
  }
  ClientOptions client_options(std::string id = "dev-1") const {
    ClientOptions o;
    o.port = gateway_->bound_port();
    o.client_id = std::move(id);
    o.retry_timeout_ms = 300;
    o.max_retries = 3;
    return o;
  }
  std::unique_ptr<Client> connect(const ClientOptions& o) {
    auto c = Client::connect(o);
    EXPECT_TRUE(c) << c.error().message();
    return c ? std::move(*c) : nullptr;
  }
  std::uint64_t counter(const std::string& name, const std::string& labels = "") const {
    return metrics_.counter_value(name, labels);
  }
  std::uint64_t pubacks(const char* rc) const {
    return counter("resonance_mqttsn_pubacks_total", fmt::format("rc=\"{}\"", rc));
  }
  static std::vector<std::uint8_t> sample_payload(double value = 21.5) {
    return encode_single_sample({.ts_ns = 1'767'225'600'000'000'000, .value = value, .quality = {}});
  }

  void restart_gateway() {
    gateway_.reset();
    start_gateway();
  }

  GatewayOptions options_ = [] {
    GatewayOptions o;
    o.port = 0;
    o.supervision_interval_ms = 100;
    return o;
  }();
  MetricsRegistry metrics_;
  FakeConsumer consumer_;
  std::unique_ptr<SeriesCatalog> catalog_;
  std::unique_ptr<Gateway> gateway_;
};


}  // namespace resonance::mqttsn::testing_support
