#include "peer_mosquitto.h"

#include <fmt/format.h>
#include <mosquitto.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace resonance::bench {

namespace {

using Clock = std::chrono::steady_clock;

std::array<std::uint8_t, 21> sample_payload(std::int64_t ts, double v) {
  std::array<std::uint8_t, 21> p{};
  p[0] = 0x01;
  auto put = [&](int at, std::uint64_t x, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, x >>= 8) p[at + i] = static_cast<std::uint8_t>(x);
  };
  put(1, static_cast<std::uint64_t>(ts), 8);
  put(9, std::bit_cast<std::uint64_t>(v), 8);
  return p;
}

// A synchronous connect: returns the handle (caller destroys) or null; `us` gets the time to CONNACK.
mosquitto* connect_client(const std::string& id, std::uint16_t port, double* us, bool start_loop) {
  auto* m = mosquitto_new(id.c_str(), true, nullptr);
  if (!m) return nullptr;
  std::atomic<int> connack{-1};  // the CONNACK return code once it arrived
  mosquitto_user_data_set(m, &connack);
  mosquitto_connect_callback_set(m, [](mosquitto*, void* ud, int rc) {
    static_cast<std::atomic<int>*>(ud)->store(rc);
  });
  const auto t = Clock::now();
  if (mosquitto_connect(m, "127.0.0.1", port, 600) != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(m);
    return nullptr;
  }
  const auto deadline = t + std::chrono::seconds(5);
  // poll + loop_read, not mosquitto_loop(): that uses select(), which fails beyond fd 1023, and
  // each client holds three descriptors.
  while (connack.load() < 0 && Clock::now() < deadline) {
    pollfd pfd{mosquitto_socket(m), POLLIN, 0};
    if (::poll(&pfd, 1, 5) <= 0) continue;
    if (mosquitto_loop_read(m, 1) != MOSQ_ERR_SUCCESS) break;  // refused: the broker closed
  }
  if (us) *us = std::chrono::duration<double, std::micro>(Clock::now() - t).count();
  mosquitto_connect_callback_set(m, nullptr);
  mosquitto_user_data_set(m, nullptr);
  if (connack.load() != 0) {
    std::fprintf(stderr, "mqttsn_bench: mosquitto refused '%s': %s\n", id.c_str(),
                 mosquitto_connack_string(connack.load()));
    mosquitto_destroy(m);
    return nullptr;
  }
  if (start_loop) mosquitto_loop_start(m);
  return m;
}

void close_client(mosquitto* m, bool loop_running) {
  mosquitto_disconnect(m);
  if (loop_running) mosquitto_loop_stop(m, false);
  mosquitto_destroy(m);
}

}  // namespace

std::uint64_t rss_bytes(int pid) {
  std::ifstream in(pid ? fmt::format("/proc/{}/status", pid) : std::string("/proc/self/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

MosquittoFigures measure_mosquitto(const MosquittoRun& run) {
  mosquitto_lib_init();
  MosquittoFigures f;
  f.idle_clients = run.idle_clients;
  f.qos0_clients = run.qos0_clients;
  f.qos1_clients = run.qos1_clients;
  f.qos1_window = run.qos1_window;

  // Connect latency and memory per idle client.
  {
    const std::uint64_t before = run.pid ? rss_bytes(run.pid) : 0;
    std::vector<mosquitto*> idle;
    std::vector<double> us;
    for (int i = 0; i < run.idle_clients; ++i) {
      double t = 0;
      auto* m = connect_client(fmt::format("idle-{:05}", i), run.port, &t, false);
      if (!m) break;  // the broker's limit (or refusal) is reached; measure what connected
      idle.push_back(m);
      us.push_back(t);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (run.pid && !idle.empty())
      f.rss_per_idle_client_bytes =
          (static_cast<double>(rss_bytes(run.pid)) - static_cast<double>(before)) / static_cast<double>(idle.size());
    f.connect_median_us = percentile(us, 0.5);
    f.idle_clients = static_cast<int>(idle.size());
    for (auto* m : idle) close_client(m, false);
  }

  // QoS 0: publishers paced as for the gateway, one subscriber counting what the broker delivers.
  struct Counter {
    std::atomic<std::uint64_t> n{0};
  } received;
  double unused = 0;
  mosquitto* sub = connect_client("bench-sub", run.port, &unused, false);
  if (!sub || f.idle_clients == 0) return f;
  mosquitto_user_data_set(sub, &received);
  mosquitto_message_callback_set(sub, [](mosquitto*, void* ud, const mosquitto_message*) {
    static_cast<Counter*>(ud)->n.fetch_add(1, std::memory_order_relaxed);
  });
  mosquitto_subscribe(sub, nullptr, "bench/#", 0);
  mosquitto_loop_start(sub);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::vector<mosquitto*> pubs;
  for (int i = 0; i < run.qos0_clients; ++i)
    if (auto* m = connect_client(fmt::format("pub0-{:04}", i), run.port, &unused, false)) pubs.push_back(m);
  if (pubs.empty()) {
    close_client(sub, true);
    return f;
  }
  std::int64_t ts = 1'767'225'600'000'000'000;
  for (double rate : run.rates) {
    MosquittoFigures::Qos0Step step;
    step.offered_rate = rate;
    const std::uint64_t got_before = received.n.load();
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(run.seconds));
    std::size_t next = 0;
    while (Clock::now() < end) {
      std::uint64_t due = 64;
      if (rate > 0) {
        const double should = rate * std::chrono::duration<double>(Clock::now() - start).count();
        due = should > static_cast<double>(step.sent) ? static_cast<std::uint64_t>(should) - step.sent : 0;
        if (due == 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          continue;
        }
      }
      for (; due > 0; --due) {
        mosquitto* m = pubs[next];
        next = (next + 1) % pubs.size();
        const auto p = sample_payload(ts += 1'000'000, 1.0);
        const std::string topic = fmt::format("bench/m{:04}/temp", next);
        if (mosquitto_publish(m, nullptr, topic.c_str(), p.size(), p.data(), 0, false) == MOSQ_ERR_SUCCESS)
          ++step.sent;
        if (mosquitto_want_write(m)) mosquitto_loop_write(m, 1);
        if ((due & 63) == 0 && Clock::now() >= end) break;  // do not stretch the step
      }
      for (auto* m : pubs)
        if (mosquitto_want_write(m)) mosquitto_loop_write(m, 1);
    }
    step.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (int spin = 0; spin < 200; ++spin) {  // flush what is queued client-side
      bool any = false;
      for (auto* m : pubs)
        if (mosquitto_want_write(m)) {
          any = true;
          mosquitto_loop_write(m, 1);
        }
      if (!any) break;
    }
    std::uint64_t last = ~0ull;
    for (int i = 0; i < 40 && received.n.load() != last; ++i) {  // settle: no change for 100 ms
      last = received.n.load();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    step.received = received.n.load() - got_before;
    f.qos0.push_back(step);
  }
  for (auto* m : pubs) close_client(m, false);
  close_client(sub, true);

  // QoS 1: each client keeps `window` messages awaiting PUBACK (libmosquitto's own threads).
  struct Qos1Client {
    mosquitto* m = nullptr;
    std::mutex mu;
    std::array<Clock::time_point, 65536> sent_at{};
    std::vector<double> lat_us;
    std::uint64_t acked = 0;
    std::atomic<bool>* running = nullptr;
    std::string topic;
    std::int64_t ts = 1'767'225'600'000'000'000;
    void publish_one() {
      int mid = 0;
      const auto p = sample_payload(ts += 1'000'000, 2.0);
      std::lock_guard lock(mu);
      const auto t = Clock::now();
      if (mosquitto_publish(m, &mid, topic.c_str(), p.size(), p.data(), 1, false) == MOSQ_ERR_SUCCESS)
        sent_at[static_cast<std::size_t>(mid) & 0xFFFF] = t;
    }
  };
  std::atomic<bool> running{true};
  std::vector<std::unique_ptr<Qos1Client>> q1;
  for (int i = 0; i < run.qos1_clients; ++i) {
    auto c = std::make_unique<Qos1Client>();
    c->m = connect_client(fmt::format("pub1-{:04}", i), run.port, &unused, false);
    if (!c->m) continue;
    c->running = &running;
    c->topic = fmt::format("bench1/m{:04}/temp", i);
    c->lat_us.reserve(200'000);
    mosquitto_max_inflight_messages_set(c->m, static_cast<unsigned>(run.qos1_window));
    mosquitto_user_data_set(c->m, c.get());
    mosquitto_publish_callback_set(c->m, [](mosquitto*, void* ud, int mid) {
      auto* self = static_cast<Qos1Client*>(ud);
      {
        std::lock_guard lock(self->mu);
        self->lat_us.push_back(std::chrono::duration<double, std::micro>(
                                   Clock::now() - self->sent_at[static_cast<std::size_t>(mid) & 0xFFFF])
                                   .count());
        ++self->acked;
      }
      if (self->running->load()) self->publish_one();
    });
    q1.push_back(std::move(c));
  }
  for (auto& c : q1) mosquitto_loop_start(c->m);
  const auto start = Clock::now();
  for (auto& c : q1)
    for (int k = 0; k < run.qos1_window; ++k) c->publish_one();
  std::this_thread::sleep_for(std::chrono::duration<double>(run.seconds));
  std::uint64_t acked = 0;
  std::vector<double> lat;
  for (auto& c : q1) {
    std::lock_guard lock(c->mu);
    acked += c->acked;
    lat.insert(lat.end(), c->lat_us.begin(), c->lat_us.end());
  }
  f.qos1_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  running = false;
  f.qos1_acked = acked;
  f.qos1_p50_us = percentile(lat, 0.5);
  f.qos1_p99_us = percentile(lat, 0.99);
  for (auto& c : q1) close_client(c->m, true);
  return f;
}

}  // namespace resonance::bench
