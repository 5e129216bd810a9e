#include "connectors/mqttsn/bridge.h"

#include <fmt/format.h>
#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace resonance::mqttsn {

namespace {

// mosquitto_lib_init is process-wide and not thread-safe; it is never undone (other bridges or
// test clients may still use the library).
void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

bool under_prefix(std::string_view topic, std::string_view prefix) {
  return topic.substr(0, prefix.size()) == prefix;
}

struct PendingWill {
  std::string topic;  // broker topic, already mapped
  std::vector<std::uint8_t> message;
  int qos;
  bool retain;
};

}  // namespace

struct Bridge::Core {
  Core(BridgeOptions o, MetricsRegistry& metrics)
      : options(std::move(o)),
        connected_gauge(metrics.gauge("resonance_mqttsn_bridge_connected",
                                      "1 while the upstream MQTT broker connection is up")),
        connects(metrics.counter("resonance_mqttsn_bridge_connects_total",
                                 "Successful connections to the upstream broker")),
        connect_failures(metrics.counter("resonance_mqttsn_bridge_connect_failures_total",
                                         "Connections the broker refused (CONNACK rc != 0)")),
        disconnects(metrics.counter("resonance_mqttsn_bridge_disconnects_total",
                                    "Unexpected losses of the broker connection")),
        down(metrics.counter("resonance_mqttsn_bridge_down_total",
                             "Broker messages handed to the gateway for devices")),
        down_dropped(metrics.counter("resonance_mqttsn_bridge_down_dropped_total",
                                     "Broker messages not handed over (gateway not running)")),
        wills_up(metrics.counter("resonance_mqttsn_bridge_wills_total",
                                 "Wills of lost devices published to the broker")),
        wills_dropped(metrics.counter("resonance_mqttsn_bridge_wills_dropped_total",
                                      "Wills not published (queue full, bridge stopped, publish error)")),
        wills_denied(metrics.counter("resonance_mqttsn_bridge_wills_denied_total",
                                     "Wills the egress gate refused (never published)")) {}

  const BridgeOptions options;
  Gauge& connected_gauge;
  Counter& connects;
  Counter& connect_failures;
  Counter& disconnects;
  Counter& down;
  Counter& down_dropped;
  Counter& wills_up;
  Counter& wills_dropped;
  Counter& wills_denied;

  std::mutex mu;  // guards everything below
  mosquitto* mosq = nullptr;  // null before start() and after stop()
  DeviceSink sink;
  bool is_connected = false;
  std::size_t unacked_subscriptions = 0;
  std::deque<PendingWill> pending;
  bool stopping = false;
  std::condition_variable wake;  // interrupts the backoff sleep on stop()
  std::thread thread;
  int backoff_s = 0;  // next reconnect delay; reset by a successful CONNACK

  // The connection thread: connect, run the network loop until the connection ends, wait with
  // exponential backoff, reconnect. (libmosquitto's own loop thread does not retry a first
  // connect that failed, so a broker that starts after us would never be reached.)
  void run(mosquitto* m) {
    bool first = true;
    bool warned = false;
    while (true) {
      {
        std::lock_guard lock(mu);
        if (stopping) return;
      }
      int rc = first ? mosquitto_connect(m, options.host.c_str(), options.port, options.keep_alive_s)
                     : mosquitto_reconnect(m);
      if (rc == MOSQ_ERR_SUCCESS) {
        first = false;
        while (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop(m, 1000, 1);
      } else if (!warned) {
        warned = true;  // once per outage, not per attempt
        spdlog::warn("mqttsn bridge: broker {}:{} not reachable ({}); retrying with backoff",
                     options.host, options.port, mosquitto_strerror(rc));
      }
      std::unique_lock lock(mu);
      if (stopping) return;
      if (is_connected) {  // the loop ended without on_disconnect (e.g. a socket error)
        is_connected = false;
        connected_gauge.set(0);
        disconnects.inc();
      }
      if (backoff_s == 0) {
        warned = false;  // a fresh outage after a good connection
        backoff_s = options.reconnect_min_s;
      }
      wake.wait_for(lock, std::chrono::seconds(backoff_s), [&] { return stopping; });
      backoff_s = std::min(backoff_s * 2, options.reconnect_max_s);
    }
  }

  // Called with mu held and is_connected true.
  void publish_locked(const PendingWill& w) {
    const int rc = mosquitto_publish(mosq, nullptr, w.topic.c_str(), static_cast<int>(w.message.size()),
                                     w.message.data(), w.qos, w.retain);
    if (rc == MOSQ_ERR_SUCCESS) {
      wills_up.inc();
      return;
    }
    wills_dropped.inc();
    spdlog::warn("mqttsn bridge: Will on '{}' not published: {}", w.topic, mosquitto_strerror(rc));
  }

  void on_will(const std::string& client_id, const std::string& topic,
               std::span<const std::uint8_t> message, int qos, bool retain) {
    if (!options.publish_wills) return;
    // The gate is asked before anything is queued: a denied Will never reaches the broker, not
    // even after a reconnect. Asked outside `mu` (the decision may take the gate's own lock).
    if (!options.allow_will || !options.allow_will(topic)) {
      wills_denied.inc();
      spdlog::info("mqttsn bridge: Will of '{}' on '{}' denied by the egress gate; not published",
                   client_id, topic);
      return;
    }
    PendingWill w{to_broker_topic(options, topic), {message.begin(), message.end()},
                  std::clamp(qos, 0, 2), retain};
    std::lock_guard lock(mu);
    if (!mosq) {
      wills_dropped.inc();
      return;
    }
    if (is_connected) {
      publish_locked(w);
      return;
    }
    if (pending.size() >= options.max_pending_wills) {
      pending.pop_front();
      wills_dropped.inc();
    }
    spdlog::info("mqttsn bridge: broker unreachable; Will of '{}' held until it is back", client_id);
    pending.push_back(std::move(w));
  }

  static void on_connect(mosquitto* m, void* self, int rc) {
    auto& core = *static_cast<Core*>(self);
    if (rc != 0) {
      core.connect_failures.inc();
      spdlog::warn("mqttsn bridge: broker {}:{} refused the connection: {}", core.options.host,
                   core.options.port, mosquitto_connack_string(rc));
      return;
    }
    std::lock_guard lock(core.mu);
    if (!core.mosq) return;  // stop() is under way
    core.backoff_s = 0;
    core.is_connected = true;
    core.connected_gauge.set(1);
    core.connects.inc();
    spdlog::info("mqttsn bridge: connected to {}:{} as '{}'", core.options.host, core.options.port,
                 core.options.client_id);
    core.unacked_subscriptions = core.options.subscribe.size();
    for (const auto& filter : core.options.subscribe) {
      const int s = mosquitto_subscribe(m, nullptr, filter.c_str(), core.options.subscribe_qos);
      if (s != MOSQ_ERR_SUCCESS)
        spdlog::warn("mqttsn bridge: SUBSCRIBE '{}' failed: {}", filter, mosquitto_strerror(s));
    }
    while (!core.pending.empty()) {
      core.publish_locked(core.pending.front());
      core.pending.pop_front();
    }
  }

  static void on_subscribe(mosquitto*, void* self, int, int count, const int* granted) {
    auto& core = *static_cast<Core*>(self);
    for (int i = 0; i < count; ++i)
      if (granted[i] > 2)  // 0x80: the broker refused this filter (e.g. its ACL)
        spdlog::warn("mqttsn bridge: the broker refused a subscription (granted {})", granted[i]);
    std::lock_guard lock(core.mu);
    if (core.unacked_subscriptions > 0) --core.unacked_subscriptions;
  }

  static void on_disconnect(mosquitto*, void* self, int rc) {
    auto& core = *static_cast<Core*>(self);
    std::lock_guard lock(core.mu);
    const bool was = core.is_connected;
    core.is_connected = false;
    core.connected_gauge.set(0);
    if (rc != 0 && was) {
      core.disconnects.inc();
      spdlog::warn("mqttsn bridge: lost broker {}:{} ({}); reconnecting with backoff",
                   core.options.host, core.options.port, mosquitto_strerror(rc));
    }
  }

  static void on_message(mosquitto*, void* self, const mosquitto_message* msg) {
    auto& core = *static_cast<Core*>(self);
    DeviceSink sink;
    {
      std::lock_guard lock(core.mu);
      sink = core.sink;
    }
    const auto* p = static_cast<const std::uint8_t*>(msg->payload);
    std::vector<std::uint8_t> payload(p, p + std::max(msg->payloadlen, 0));
    const int qos = std::min(msg->qos, core.options.max_down_qos);
    if (sink && sink(to_device_topic(core.options, msg->topic), std::move(payload), qos, msg->retain))
      core.down.inc();
    else
      core.down_dropped.inc();
  }
};

Status validate(const BridgeOptions& o) {
  auto bad = [](std::string what) { return Status(StatusCode::kInvalidArgument, "mqtt_bridge." + what); };
  if (o.host.empty()) return bad("host: empty");
  if (o.port == 0) return bad("port: 0 is not a broker port");
  if (o.client_id.empty() || o.client_id.size() > 65535)
    return bad(fmt::format("client_id: length {} (1..65535 bytes)", o.client_id.size()));
  if (o.username.empty() && !o.password.empty()) return bad("password: set without a username");
  if (o.keep_alive_s < 5 || o.keep_alive_s > 65535)
    return bad(fmt::format("keep_alive_s: {} (5..65535)", o.keep_alive_s));
  if (o.reconnect_min_s < 1 || o.reconnect_max_s < o.reconnect_min_s)
    return bad(fmt::format("reconnect_min_s/reconnect_max_s: {}/{} (1 <= min <= max)",
                           o.reconnect_min_s, o.reconnect_max_s));
  if (o.subscribe_qos < 0 || o.subscribe_qos > 2)
    return bad(fmt::format("subscribe_qos: {} (0..2)", o.subscribe_qos));
  if (o.max_down_qos < 0 || o.max_down_qos > 2)
    return bad(fmt::format("max_down_qos: {} (0..2)", o.max_down_qos));
  if (o.max_pending_wills == 0) return bad("max_pending_wills: 0 (at least 1)");
  for (std::size_t i = 0; i < o.subscribe.size(); ++i)
    if (mosquitto_sub_topic_check(o.subscribe[i].c_str()) != MOSQ_ERR_SUCCESS)
      return bad(fmt::format("subscribe entry {} '{}': not a valid MQTT topic filter", i + 1, o.subscribe[i]));
  for (const auto* prefix : {&o.broker_prefix, &o.device_prefix})
    if (prefix->find_first_of("+#") != std::string::npos)
      return bad(fmt::format("{} '{}': wildcards are not allowed in a prefix",
                             prefix == &o.broker_prefix ? "broker_prefix" : "device_prefix", *prefix));
  return Status::ok();
}

std::string to_device_topic(const BridgeOptions& o, std::string_view broker_topic) {
  if (!under_prefix(broker_topic, o.broker_prefix)) return std::string(broker_topic);
  return o.device_prefix + std::string(broker_topic.substr(o.broker_prefix.size()));
}

std::string to_broker_topic(const BridgeOptions& o, std::string_view device_topic) {
  if (!under_prefix(device_topic, o.device_prefix)) return std::string(device_topic);
  return o.broker_prefix + std::string(device_topic.substr(o.device_prefix.size()));
}

DeviceSink device_sink(Gateway& gateway) {
  return [&gateway](std::string topic, std::vector<std::uint8_t> payload, int qos, bool retain) {
    return gateway.publish_to_devices(std::move(topic), std::move(payload), qos, retain);
  };
}

Bridge::Bridge(BridgeOptions options, MetricsRegistry& metrics)
    : core_(std::make_shared<Core>(std::move(options), metrics)) {}

Bridge::~Bridge() { stop(); }

Status Bridge::start(DeviceSink sink) {
  if (Status s = validate(core_->options); !s) return s;
  init_library_once();
  const BridgeOptions& o = core_->options;
  std::lock_guard lock(core_->mu);
  if (core_->mosq) return Status(StatusCode::kFailedPrecondition, "mqttsn bridge: already started");
  mosquitto* m = mosquitto_new(o.client_id.c_str(), /*clean_session=*/true, core_.get());
  if (!m) return Status(StatusCode::kIoError, "mqttsn bridge: mosquitto_new failed (out of memory)");
  auto fail = [&](const char* what, int rc) {
    mosquitto_destroy(m);
    return Status(StatusCode::kIoError, fmt::format("mqttsn bridge: {}: {}", what, mosquitto_strerror(rc)));
  };
  int rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (rc != MOSQ_ERR_SUCCESS) return fail("protocol version", rc);
  // Our own thread runs mosquitto_loop(); publishes from other threads then only queue and wake it.
  rc = mosquitto_threaded_set(m, true);
  if (rc != MOSQ_ERR_SUCCESS) return fail("threaded mode", rc);
  if (!o.username.empty()) {
    rc = mosquitto_username_pw_set(m, o.username.c_str(), o.password.empty() ? nullptr : o.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) return fail("credentials", rc);  // the error text holds no secret
  }
  mosquitto_connect_callback_set(m, &Core::on_connect);
  mosquitto_disconnect_callback_set(m, &Core::on_disconnect);
  mosquitto_subscribe_callback_set(m, &Core::on_subscribe);
  mosquitto_message_callback_set(m, &Core::on_message);
  core_->sink = std::move(sink);
  core_->mosq = m;
  core_->stopping = false;
  core_->thread = std::thread([core = core_.get(), m] { core->run(m); });
  return Status::ok();
}

void Bridge::stop() {
  mosquitto* m = nullptr;
  std::thread thread;
  {
    std::lock_guard lock(core_->mu);
    std::swap(m, core_->mosq);
    core_->sink = nullptr;
    core_->pending.clear();
    core_->stopping = true;
    thread.swap(core_->thread);
  }
  if (!m) return;
  core_->wake.notify_all();
  mosquitto_disconnect(m);  // wakes mosquitto_loop(); the thread then sees `stopping`
  if (thread.joinable()) thread.join();
  mosquitto_destroy(m);
  std::lock_guard lock(core_->mu);
  core_->is_connected = false;
  core_->connected_gauge.set(0);
}

WillSink Bridge::will_sink() const {
  return [core = core_](const std::string& client_id, const std::string& topic,
                        std::span<const std::uint8_t> message, int qos, bool retain) {
    core->on_will(client_id, topic, message, qos, retain);
  };
}

bool Bridge::ready() const {
  std::lock_guard lock(core_->mu);
  return core_->is_connected && core_->unacked_subscriptions == 0;
}

bool Bridge::connected() const {
  std::lock_guard lock(core_->mu);
  return core_->is_connected;
}

}  // namespace resonance::mqttsn
