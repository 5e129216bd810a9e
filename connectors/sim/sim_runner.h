#pragma once
// Runs simulated machines (any category of machines.h) as real MQTT-SN devices: each machine is one client (client id =
// equipment id) that REGISTERs one topic per signal ("site/area/line/equipment/signal") and
// publishes every signal as a QoS 1 single-sample payload each 1/sample_hz seconds of wall time.
//
// Delivery follows the MQTT-SN client rules: one QoS 1 PUBLISH in flight, the next only after its
// PUBACK. Congestion (rc 0x01) backs off and resends the same message; an invalid topic id (rc
// 0x02) re-registers that topic and resends; a timeout or a gateway DISCONNECT drops the session,
// reconnects with exponential backoff and resends. So the device is at-least-once: a sample whose
// PUBACK was lost arrives twice with the same timestamp. A device has no buffer beyond the
// message in flight: steps that fall due while it is disconnected are simulated (the model keeps
// pace with wall time) but not published, and counted in `steps_skipped`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "connectors/mqttsn/client.h"
#include "connectors/sim/cnc_machine.h"
#include "connectors/sim/machine.h"
#include "resonance/core/status.h"

namespace resonance::sim {

struct DeviceOptions {
  std::string gateway_host = "127.0.0.1";
  std::uint16_t gateway_port = 1884;
  std::string site = "plant1";
  std::string area = "machining";
  std::string line = "line1";
  std::string equipment = "cnc-01";  // also the MQTT-SN client id: 1..23 bytes
  std::string category = "cnc";      // which simulator (machines.h, an infomodel category id)
  std::uint64_t seed = 1;
  double sample_hz = 2.0;            // wall-clock steps per second
  double time_scale = 1.0;           // simulated seconds per wall second (60 = an hour a minute)
  // After every accepted PUBACK one line "path ts_ns value_bits_hex\n" is appended and flushed.
  std::optional<std::filesystem::path> ack_log;
  CncConfig model{};                 // for category cnc; step_s is replaced by time_scale / sample_hz
  // Client timing (T_retry, N_retry, keep-alive) and the reconnect/congestion backoff bounds.
  int retry_timeout_ms = 2000;
  int max_retries = 3;
  std::uint16_t keep_alive_s = 60;
  int backoff_initial_ms = 100;
  int backoff_max_ms = 5000;
};

// Live counters: written by the device thread(s), readable at any time from any thread. One
// DeviceStats may be shared by several devices (run_line does that to total a line).
struct DeviceStats {
  std::atomic<std::uint64_t> steps{0};          // model steps published
  std::atomic<std::uint64_t> steps_skipped{0};  // model steps not published (fell behind)
  std::atomic<std::uint64_t> published{0};      // distinct messages sent (first attempts)
  std::atomic<std::uint64_t> acked{0};          // PUBACK accepted
  std::atomic<std::uint64_t> congestion{0};     // PUBACK rc 0x01
  std::atomic<std::uint64_t> invalid_topic{0};  // PUBACK rc 0x02
  std::atomic<std::uint64_t> not_supported{0};  // PUBACK rc 0x03: the message is dropped
  std::atomic<std::uint64_t> retries{0};        // resends of a message after any of the above
  std::atomic<std::uint64_t> connects{0};       // sessions established
  std::atomic<std::uint64_t> reconnects{0};     // sessions established after a lost one
  std::atomic<std::uint64_t> errors{0};         // failed exchanges (timeouts, refused, ...)
};

// Hook for tests and other transports; the default is mqttsn::Client::connect.
using ClientFactory = std::function<Result<std::unique_ptr<mqttsn::Client>>(
    const mqttsn::ClientOptions&)>;

// Checks what can be checked before connecting: rates, the client id, and that every topic name
// is a valid series path. The error names the field.
Status validate(const DeviceOptions& options);

// "site/area/line/equipment/<signal name>".
std::string topic_name(const DeviceOptions& options, const SignalInfo& signal);

// Runs until `stop` is requested; only invalid options or an unopenable ack log end it early
// (with that error). Network trouble is retried forever, counted and logged. `stats` may be null.
// Stop latency is at most one client exchange (retry_timeout_ms * (max_retries + 1)).
Status run_device(const DeviceOptions& options, std::stop_token stop, DeviceStats* stats);
Status run_device(const DeviceOptions& options, std::stop_token stop, DeviceStats* stats,
                  const ClientFactory& connect);

// One machine of a line given explicitly (a line file's [[machine]]).
struct LineMachine {
  std::string category;
  std::string equipment;
  std::uint64_t seed = 0;
  double sample_hz = 0;  // 0 = the line's device.sample_hz
};

struct LineOptions {
  // With `equipment` empty: `machines` CNC machines "<prefix>-NN" (NN = 01..machines) with seeds
  // derived from device.seed (derive_seed in prng.h). Otherwise exactly the machines listed.
  int machines = 4;                  // 1..99
  std::string equipment_prefix = "cnc";
  std::vector<LineMachine> equipment;
  // Template for every machine (gateway, site/area/line, rates, client timing). All machines may
  // share one ack_log file: each line is appended with a single write.
  DeviceOptions device{};
  std::optional<std::chrono::milliseconds> duration;  // stop by itself after this long
};

struct LineStats {
  DeviceStats totals;                   // summed over the line's machines
  std::atomic<int> devices_running{0};
};

// Options of machine `index` (0-based) of the line.
DeviceOptions device_options(const LineOptions& options, int index);

// Number of machines of the line.
int machine_count(const LineOptions& options);

// Runs the line's devices, one std::jthread each, until `stop` or the duration ends; returns
// after every device thread has ended. `stats` may be null.
Status run_line(const LineOptions& options, std::stop_token stop, LineStats* stats);

}  // namespace resonance::sim
