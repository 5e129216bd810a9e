#pragma once
// The nearest broker peer measured in the same run: mosquitto (MQTT 3.1.1 over TCP) driven by
// libmosquitto clients with the same 21-byte sample payloads. Eclipse Paho's MQTT-SN gateway, the
// real peer, cannot be fetched here.

#include <cstdint>
#include <vector>

namespace resonance::bench {

struct MosquittoFigures {
  double connect_median_us = 0;     // TCP connect + CONNECT -> CONNACK
  double rss_per_idle_client_bytes = 0;  // broker RSS delta / idle clients (needs its pid)
  struct Qos0Step {
    double offered_rate = 0;  // 0 = unpaced
    std::uint64_t sent = 0, received = 0;
    double seconds = 0;
  };
  std::vector<Qos0Step> qos0;
  std::uint64_t qos1_acked = 0;
  double qos1_seconds = 0;
  double qos1_p50_us = 0, qos1_p99_us = 0;
  int qos1_clients = 0, qos1_window = 0, qos0_clients = 0, idle_clients = 0;
};

struct MosquittoRun {
  std::uint16_t port = 0;
  int pid = 0;  // 0: memory not measured
  int idle_clients = 1000;
  int qos0_clients = 100;
  int qos1_clients = 100;
  int qos1_window = 16;
  double seconds = 2;
  std::vector<double> rates;
};

MosquittoFigures measure_mosquitto(const MosquittoRun& run);

// VmRSS of a process in bytes (0 if unreadable); pid 0 = this process.
std::uint64_t rss_bytes(int pid = 0);
double percentile(std::vector<double> v, double p);

}  // namespace resonance::bench
