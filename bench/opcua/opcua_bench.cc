// OPC UA client benchmark against a node-opcua server on loopback (started by run.sh):
//   1. Read round trip: sequential single-node Reads, p50/p99 in µs;
//   2. notifications/s from one subscription over --items variables sampled every 100 ms, and the
//      client thread's CPU time per notification (CLOCK_THREAD_CPUTIME_ID around the Publish loop).
// node-opcua's own client, measured by run.sh in the same run, is passed in with --peer-json.
// Prints the figures and, last, one JSON line with every figure and the peer's.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>

#include "connectors/opcua/client.h"

using namespace resonance::opcua;
using Clock = std::chrono::steady_clock;

namespace {
double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app("OPC UA client benchmark (run through scripts/bench opcua)");
  std::string endpoint, peer_json;
  std::uint32_t items = 1000, reads = 2000;
  int seconds = 10;
  app.add_option("--endpoint", endpoint, "opc.tcp:// URL of the node-opcua server")->required();
  app.add_option("--items", items, "variables to monitor (ns=1;s=Item.<n>)")->capture_default_str();
  app.add_option("--reads", reads, "sequential Reads for the round trip")->capture_default_str();
  app.add_option("--seconds", seconds, "measurement window for notifications")->capture_default_str();
  app.add_option("--peer-json", peer_json, "node-opcua client figures from the same run");
  CLI11_PARSE(app, argc, argv);

  ClientOptions o;
  o.endpoint_url = endpoint;
  o.request_timeout_ms = 30000;
  auto client = Client::connect(o);
  if (!client) {
    std::cerr << "opcua_bench: " << client.error().message() << "\n";
    return 1;
  }
  auto& c = **client;
  std::vector<double> rtt;
  rtt.reserve(reads);
  const NodeId speed = NodeId::string(1, "CNC1.SpindleSpeed");
  for (std::uint32_t i = 0; i < reads; ++i) {
    const auto t = Clock::now();
    auto v = c.read_value(speed);
    if (!v) {
      std::cerr << "opcua_bench: read: " << v.error().message() << "\n";
      return 1;
    }
    rtt.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(rtt.begin(), rtt.end());

  CreateSubscriptionRequest sub_req;
  sub_req.requested_publishing_interval_ms = 100;
  auto sub = c.create_subscription(sub_req);
  if (!sub) {
    std::cerr << "opcua_bench: " << sub.error().message() << "\n";
    return 1;
  }
  std::vector<MonitoredItemCreateRequest> mi(items);
  for (std::uint32_t i = 0; i < items; ++i) {
    mi[i].item_to_monitor.node_id = NodeId::string(1, "Item." + std::to_string(i));
    mi[i].requested_parameters.client_handle = i;
    mi[i].requested_parameters.sampling_interval_ms = 100;
    mi[i].requested_parameters.queue_size = 10;
  }
  if (auto r = c.create_monitored_items(sub->subscription_id, std::move(mi)); !r) {
    std::cerr << "opcua_bench: " << r.error().message() << "\n";
    return 1;
  }
  std::vector<DataChange> changes;
  const auto warm = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < warm) {
    changes.clear();
    if (auto s = c.poll_notifications(std::chrono::milliseconds(200), changes); !s) return 1;
  }
  std::uint64_t n = 0;
  const double cpu0 = thread_cpu_us();
  const auto t0 = Clock::now(), end = t0 + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    changes.clear();
    if (auto s = c.poll_notifications(std::chrono::milliseconds(200), changes); !s) {
      std::cerr << "opcua_bench: " << s.message() << "\n";
      return 1;
    }
    n += changes.size();
  }
  const double cpu_us = thread_cpu_us() - cpu0;
  const double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  (void)c.close();

  nlohmann::json out;
  out["bench"] = "opcua";
  out["items"] = items;
  out["read_rtt_us_p50"] = rtt[rtt.size() / 2];
  out["read_rtt_us_p99"] = rtt[rtt.size() * 99 / 100];
  out["notifications_per_s"] = static_cast<double>(n) / wall_s;
  out["cpu_us_per_notification"] = n ? cpu_us / static_cast<double>(n) : 0.0;
  out["cpu_s_per_100k_notifications"] = n ? cpu_us / static_cast<double>(n) * 1e5 / 1e6 : 0.0;
  if (!peer_json.empty()) {
    std::ifstream in(peer_json);
    out["peer_node_opcua_client"] = nlohmann::json::parse(in, nullptr, false);
  }
  std::cout << "read round trip: p50 " << out["read_rtt_us_p50"] << " us, p99 " << out["read_rtt_us_p99"] << " us\n"
            << "notifications: " << out["notifications_per_s"] << " /s over " << items << " items; client CPU "
            << out["cpu_us_per_notification"] << " us per notification\n";
  if (out.contains("peer_node_opcua_client")) std::cout << "node-opcua client: " << out["peer_node_opcua_client"].dump() << "\n";
  std::cout << out.dump() << "\n";
  return 0;
}
