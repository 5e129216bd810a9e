// One simulated machine as an MQTT-SN device: the session, the publish loop and its recovery.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "connectors/mqttsn/payload.h"
#include "connectors/sim/ack_log.h"
#include "connectors/sim/machines.h"
#include "connectors/sim/sim_runner.h"
#include "connectors/sim/stoppable_sleep.h"
#include "resonance/core/catalog.h"
#include "resonance/core/time.h"

namespace resonance::sim {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kMaxClientIdBytes = 23;  // MQTT-SN v1.2, 5.3.1

// Exponential backoff between bounds; reset after a success.
class Backoff {
 public:
  Backoff(int initial_ms, int max_ms) : initial_ms_(initial_ms), max_ms_(max_ms), next_ms_(initial_ms) {}
  milliseconds next() {
    const int now = next_ms_;
    next_ms_ = std::min(next_ms_ * 2, max_ms_);
    return milliseconds(now);
  }
  void reset() { next_ms_ = initial_ms_; }

 private:
  int initial_ms_, max_ms_, next_ms_;
};

class Device {
 public:
  Device(const DeviceOptions& options, DeviceStats& stats, const ClientFactory& connect,
         std::unique_ptr<AckLog> ack_log, std::unique_ptr<Machine> machine)
      : options_(options),
        stats_(stats),
        connect_(connect),
        ack_log_(std::move(ack_log)),
        machine_(std::move(machine)),
        reconnect_backoff_(options.backoff_initial_ms, options.backoff_max_ms) {
    for (const SignalInfo& signal : machine_->signals()) {
      topics_.push_back(topic_name(options, signal));
    }
    topic_ids_.resize(topics_.size());
  }

  void run(std::stop_token stop);
  // Ends the session politely (DISCONNECT) if there is one.
  void close();

 private:
  enum class Delivery { kAccepted, kDropped, kStopped };

  bool ensure_session(std::stop_token stop);
  Status register_all();
  void drop_session(const Status& why, std::string_view during);
  Delivery deliver(std::size_t signal, TimestampNs ts_ns, double value, std::stop_token stop);
  void keep_alive();

  const DeviceOptions& options_;
  DeviceStats& stats_;
  const ClientFactory& connect_;
  std::unique_ptr<AckLog> ack_log_;
  std::unique_ptr<Machine> machine_;
  std::vector<std::string> topics_;
  std::vector<std::uint16_t> topic_ids_;
  std::unique_ptr<mqttsn::Client> client_;
  Backoff reconnect_backoff_;
  bool had_session_ = false;
  MonoTime last_exchange_{};
  std::uint64_t failed_connects_ = 0;
};

bool Device::ensure_session(std::stop_token stop) {
  while (!client_) {
    if (stop.stop_requested()) return false;
    const mqttsn::ClientOptions client_options{
        .host = options_.gateway_host,
        .port = options_.gateway_port,
        .client_id = options_.equipment,
        .keep_alive_s = options_.keep_alive_s,
        .clean_session = true,
        .retry_timeout_ms = options_.retry_timeout_ms,
        .max_retries = options_.max_retries};
    auto connected = connect_(client_options);
    Status status = connected ? Status::ok() : connected.error();
    if (connected) {
      client_ = std::move(*connected);
      status = register_all();
      if (!status) client_.reset();
    }
    if (client_) {
      ++stats_.connects;
      if (had_session_) ++stats_.reconnects;
      had_session_ = true;
      spdlog::info("sim {}: connected to {}:{} ({} topics registered{})", options_.equipment,
                   options_.gateway_host, options_.gateway_port, topics_.size(),
                   failed_connects_ > 0 ? fmt::format(", after {} failed attempts", failed_connects_)
                                        : std::string());
      failed_connects_ = 0;
      reconnect_backoff_.reset();
      last_exchange_ = mono_now();
      return true;
    }
    ++stats_.errors;
    // The first failure is worth a warning; a gateway that stays down should not flood the log.
    if (failed_connects_++ == 0) {
      spdlog::warn("sim {}: cannot open a session with {}:{}: {}; retrying with backoff",
                   options_.equipment, options_.gateway_host, options_.gateway_port,
                   status.to_string());
    }
    if (!sleep_for(stop, reconnect_backoff_.next())) return false;
  }
  return true;
}

Status Device::register_all() {
  for (std::size_t i = 0; i < topics_.size(); ++i) {
    auto id = client_->register_topic(topics_[i]);
    if (!id) return id.error();
    topic_ids_[i] = *id;
  }
  return Status::ok();
}

void Device::drop_session(const Status& why, std::string_view during) {
  ++stats_.errors;
  spdlog::warn("sim {}: {} failed: {}; reconnecting", options_.equipment, during,
               why.to_string());
  client_.reset();  // no DISCONNECT: the gateway is unreachable or has dropped us already
}

Device::Delivery Device::deliver(std::size_t signal, TimestampNs ts_ns, double value,
                                 std::stop_token stop) {
  const auto payload = mqttsn::encode_single_sample(
      {.ts_ns = ts_ns, .value = value, .quality = Quality{Quality::kGood}});
  Backoff congestion_backoff(options_.backoff_initial_ms, options_.backoff_max_ms);
  for (bool first = true;; first = false) {
    if (!ensure_session(stop)) return Delivery::kStopped;
    if (first) {
      ++stats_.published;
    } else {
      ++stats_.retries;
    }
    auto outcome = client_->publish_qos1(topic_ids_[signal], payload);
    if (!outcome) {
      drop_session(outcome.error(), fmt::format("PUBLISH {}", topics_[signal]));
      continue;
    }
    last_exchange_ = mono_now();
    switch (*outcome) {
      case mqttsn::PublishOutcome::kAccepted:
        ++stats_.acked;
        if (ack_log_) {
          if (Status s = ack_log_->append(topics_[signal], ts_ns, value); !s) {
            spdlog::error("sim {}: {}", options_.equipment, s.to_string());
          }
        }
        return Delivery::kAccepted;
      case mqttsn::PublishOutcome::kCongestion:
        ++stats_.congestion;
        if (!sleep_for(stop, congestion_backoff.next())) return Delivery::kStopped;
        break;
      case mqttsn::PublishOutcome::kInvalidTopicId: {
        // The gateway lost our registration (e.g. it restarted and we reached a new session
        // without noticing): register again and resend under the new id.
        ++stats_.invalid_topic;
        auto id = client_->register_topic(topics_[signal]);
        if (!id) {
          drop_session(id.error(), fmt::format("REGISTER {}", topics_[signal]));
        } else {
          topic_ids_[signal] = *id;
        }
        break;
      }
      case mqttsn::PublishOutcome::kNotSupported:
        ++stats_.not_supported;
        spdlog::error("sim {}: gateway answered 'not supported' to PUBLISH {}; sample dropped",
                      options_.equipment, topics_[signal]);
        return Delivery::kDropped;
    }
  }
}

void Device::keep_alive() {
  if (!client_ || options_.keep_alive_s == 0) return;
  const auto half = std::chrono::seconds(options_.keep_alive_s) / 2;
  if (mono_now() - last_exchange_ < half) return;
  if (Status s = client_->ping(); !s) {
    drop_session(s, "PINGREQ");
    return;
  }
  last_exchange_ = mono_now();
}

void Device::run(std::stop_token stop) {
  const auto period = std::chrono::duration_cast<MonoClock::duration>(
      std::chrono::duration<double>(1.0 / options_.sample_hz));
  MonoTime next_step = mono_now();
  while (!stop.stop_requested()) {
    // Sleep in slices so a slow sample rate still keeps the session alive.
    while (mono_now() < next_step) {
      if (!sleep_until(stop, std::min(next_step, mono_now() + milliseconds(500)))) return;
      keep_alive();
    }
    const std::span<const SignalValue> readings = machine_->step();
    const TimestampNs ts_ns = unix_now_ns();
    for (const SignalValue& reading : readings) {
      if (deliver(reading.index, ts_ns, reading.value, stop) == Delivery::kStopped) return;
    }
    ++stats_.steps;
    next_step += period;
    // Behind schedule (an outage, a slow gateway): simulate the missed steps without publishing
    // them so simulated time keeps pace with the wall clock.
    for (const MonoTime now = mono_now(); next_step + period <= now; next_step += period) {
      static_cast<void>(machine_->step());
      ++stats_.steps_skipped;
    }
  }
}

void Device::close() {
  if (client_) {
    if (Status s = client_->disconnect(); !s) {
      spdlog::debug("sim {}: DISCONNECT: {}", options_.equipment, s.to_string());
    }
    client_.reset();
  }
}

}  // namespace

std::string topic_name(const DeviceOptions& options, const SignalInfo& signal) {
  return fmt::format("{}/{}/{}/{}/{}", options.site, options.area, options.line,
                     options.equipment, signal.name);
}

Status validate(const DeviceOptions& options) {
  if (!(options.sample_hz > 0 && options.sample_hz <= 1000)) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("sim {}: sample_hz {} is outside (0, 1000]", options.equipment,
                              options.sample_hz));
  }
  if (!(options.time_scale > 0 && options.time_scale <= 3600)) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("sim {}: time_scale {} is outside (0, 3600]", options.equipment,
                              options.time_scale));
  }
  if (options.equipment.empty() || options.equipment.size() > kMaxClientIdBytes) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("sim: equipment '{}' is {} bytes; as the MQTT-SN client id it "
                              "must be 1..{}",
                              options.equipment, options.equipment.size(), kMaxClientIdBytes));
  }
  if (options.retry_timeout_ms <= 0 || options.max_retries < 0 ||
      options.backoff_initial_ms <= 0 || options.backoff_max_ms < options.backoff_initial_ms) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("sim {}: retry and backoff settings must be positive, with "
                              "backoff_max_ms >= backoff_initial_ms",
                              options.equipment));
  }
  const MachineKind* kind = find_machine_kind(options.category);
  if (kind == nullptr) {
    // make_machine's error lists the known categories.
    auto unknown = make_machine(options.category, options.seed, 1.0);
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("sim {}: {}", options.equipment, unknown.error().message()));
  }
  for (const SignalInfo& signal : kind->signals) {
    if (Status s = validate_series_path(topic_name(options, signal)); !s) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("sim {}: topic name: {}", options.equipment, s.message()));
    }
  }
  return Status::ok();
}

Status run_device(const DeviceOptions& options, std::stop_token stop, DeviceStats* stats) {
  return run_device(options, std::move(stop), stats, &mqttsn::Client::connect);
}

Status run_device(const DeviceOptions& options, std::stop_token stop, DeviceStats* stats,
                  const ClientFactory& connect) {
  if (Status s = validate(options); !s) return s;
  std::unique_ptr<AckLog> ack_log;
  if (options.ack_log) {
    auto opened = AckLog::open(*options.ack_log);
    if (!opened) return opened.error();
    ack_log = std::move(*opened);
  }
  auto machine = make_machine(options.category, options.seed,
                              options.time_scale / options.sample_hz, options.model);
  if (!machine) return machine.error();
  DeviceStats unused;
  Device device(options, stats != nullptr ? *stats : unused, connect, std::move(ack_log),
                std::move(*machine));
  spdlog::info("sim {}: {} simulator, seed {}, {} Hz, time scale {}, gateway {}:{}",
               options.equipment, options.category, options.seed, options.sample_hz,
               options.time_scale, options.gateway_host, options.gateway_port);
  device.run(stop);
  device.close();
  return Status::ok();
}

}  // namespace resonance::sim
