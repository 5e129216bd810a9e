// The OPC UA connector loop: connect → resolve nodes → subscribe → poll Publish → submit batches;
// on any error: log, count, mark the gap, back off, start over. One thread per connector.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "connectors/opcua/client.h"
#include "resonance/connectors/opcua/opcua_connector.h"

namespace resonance {
namespace {

using namespace std::chrono_literals;

// How long after a loss the old session is worth resuming: the session timeout the client asks
// for (ClientOptions::session_timeout_ms, 60 s); later the server has dropped it anyway.
constexpr TimestampNs kResumeWindowNs = 60 * kNanosPerSecond;

// "nsu=<uri>;<rest>" → (uri, "ns=<index>;<rest>") once the index is known.
Result<opcua::NodeId> resolve_node(opcua::Client& client, const std::string& text) {
  if (text.starts_with("nsu=")) {
    const auto semi = text.find(';');
    if (semi == std::string::npos)
      return error(StatusCode::kInvalidArgument, "node \"" + text + "\": no ';' after nsu=");
    auto index = client.namespace_index(std::string_view(text).substr(4, semi - 4));
    if (!index) return error(index.error());
    return opcua::parse_node_id("ns=" + std::to_string(*index) + ";" + text.substr(semi + 1));
  }
  return opcua::parse_node_id(text);
}

Quality quality_of(const opcua::DataValue& v) {
  return Quality{v.status ? v.status->code : Quality::kGood};
}

class OpcuaConnector final : public Connector {
 public:
  OpcuaConnector(OpcuaConnectorConfig config, BatchConsumer& pipeline, SeriesCatalog& catalog,
                 MetricsRegistry& metrics)
      : config_(std::move(config)), pipeline_(pipeline), catalog_(catalog),
        reconnects_(metrics.counter("resonance_opcua_reconnects_total",
                                    "Connections to the OPC UA server re-established after a loss",
                                    "endpoint=\"" + config_.endpoint_url + "\"")),
        connect_failures_(metrics.counter("resonance_opcua_connect_failures_total",
                                          "Failed attempts to connect to the OPC UA server",
                                          "endpoint=\"" + config_.endpoint_url + "\"")),
        samples_(metrics.counter("resonance_opcua_samples_total", "Samples submitted from OPC UA data changes",
                                 "endpoint=\"" + config_.endpoint_url + "\"")),
        non_numeric_(metrics.counter("resonance_opcua_non_numeric_total",
                                     "Data changes skipped because the value is not a number",
                                     "endpoint=\"" + config_.endpoint_url + "\"")),
        retry_later_(metrics.counter("resonance_opcua_backpressure_total",
                                     "Batches the pipeline answered RetryLater for",
                                     "endpoint=\"" + config_.endpoint_url + "\"")),
        dropped_(metrics.counter("resonance_opcua_dropped_batches_total",
                                 "Batches dropped after the pipeline kept refusing them",
                                 "endpoint=\"" + config_.endpoint_url + "\"")),
        gaps_(metrics.counter("resonance_opcua_sequence_gaps_total",
                              "Holes in Publish sequence numbers (filled by Republish where possible)",
                              "endpoint=\"" + config_.endpoint_url + "\"")),
        resumes_(metrics.counter("resonance_opcua_session_resumes_total",
                                 "Reconnects that resumed the session and its subscriptions instead of recreating them",
                                 "endpoint=\"" + config_.endpoint_url + "\"")) {}

  ~OpcuaConnector() override { stop(); }

  std::string_view name() const override { return "opcua"; }

  Status start() override {
    if (thread_.joinable()) return Status::ok();
    if (config_.signals.empty())
      return Status(StatusCode::kInvalidArgument, "opcua connector for " + config_.endpoint_url + ": no signals configured");
    if (auto a = opcua::parse_endpoint_url(config_.endpoint_url); !a) return a.error();
    series_.clear();
    for (const auto& s : config_.signals) {
      auto id = catalog_.resolve(s.series_path, s.unit);
      if (!id) return id.error();
      series_.push_back(*id);
    }
    last_ts_.assign(series_.size(), 0);
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  bool sleep_for(std::chrono::milliseconds d) {  // false when stopping
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopping_; });
  }
  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  void run() {
    auto backoff = std::chrono::milliseconds(config_.reconnect_min_ms);
    bool had_session = false;
    TimestampNs lost_at_ns = 0;
    // The client whose connection was lost: its session, and the subscriptions in it, may still
    // live in the server, so reconnecting first resumes it; what the server queued meanwhile then
    // arrives with the next Publish and nothing needs marking. Only when the session is gone (or
    // Republish cannot fill a hole, see poll) is the outage marked as a gap.
    std::unique_ptr<opcua::Client> lost;
    bool gap_open = false;
    while (!stopping()) {
      std::unique_ptr<opcua::Client> client;
      if (lost) {
        Status resumed = lost->resume();
        if (resumed) {
          client = std::move(lost);
          gap_open = false;
          reconnects_.inc();
          resumes_.inc();
          spdlog::info("opcua: {}: reconnected after {} ms; session and subscriptions resumed", config_.endpoint_url,
                       (unix_now_ns() - lost_at_ns) / kNanosPerMilli);
        } else if (resumed.code() == StatusCode::kUnavailable && unix_now_ns() - lost_at_ns < kResumeWindowNs) {
          connect_failures_.inc();
          spdlog::warn("opcua: {}: {}; retrying in {} ms", config_.endpoint_url, resumed.message(), backoff.count());
          if (!sleep_for(backoff)) break;
          backoff = std::min(backoff * 2, std::chrono::milliseconds(config_.reconnect_max_ms));
          continue;
        } else {
          spdlog::info("opcua: {}: the session cannot be resumed ({}); creating a new one", config_.endpoint_url,
                       resumed.message());
          lost.reset();
        }
      }
      if (!client) {
        if (gap_open) {
          mark_gap(lost_at_ns);
          gap_open = false;
        }
        auto created = connect_and_subscribe();
        if (!created) {
          connect_failures_.inc();
          spdlog::warn("opcua: {}: {}; retrying in {} ms", config_.endpoint_url, created.error().message(),
                       backoff.count());
          if (!sleep_for(backoff)) break;
          backoff = std::min(backoff * 2, std::chrono::milliseconds(config_.reconnect_max_ms));
          continue;
        }
        client = std::move(*created);
        if (had_session) {
          reconnects_.inc();
          spdlog::info("opcua: {}: reconnected after {} ms; subscriptions recreated", config_.endpoint_url,
                       (unix_now_ns() - lost_at_ns) / kNanosPerMilli);
        }
      }
      backoff = std::chrono::milliseconds(config_.reconnect_min_ms);
      had_session = true;
      Status why = poll(*client);
      if (stopping()) {
        (void)client->close();
        break;
      }
      lost_at_ns = unix_now_ns();
      gap_open = true;
      spdlog::warn("opcua: {}: connection lost: {}", config_.endpoint_url, why.message());
      // Subscriptions gone from a live session: resuming would find them gone again.
      if (why.code() != StatusCode::kNotFound) lost = std::move(client);
    }
    // Stopped during an outage that was never resolved: the hole is marked all the same.
    if (gap_open) mark_gap(lost_at_ns);
  }

  Result<std::unique_ptr<opcua::Client>> connect_and_subscribe() {
    opcua::ClientOptions o;
    o.endpoint_url = config_.endpoint_url;
    o.allow_write = config_.allow_write;
    o.request_timeout_ms = config_.request_timeout_ms;
    if (!config_.user_name.empty()) o.user = opcua::UserIdentity{config_.user_name, config_.password};
    auto security = opcua::parse_security(config_.security_policy, config_.security_mode);
    if (!security) return error(security.error());
    o.security.policy = security->first;
    o.security.mode = security->second;
    o.security.certificate_file = config_.certificate_file;
    o.security.private_key_file = config_.private_key_file;
    o.security.trust_dir = config_.trust_dir;
    o.security.server_certificate_file = config_.server_certificate_file;
    auto client = opcua::Client::connect(o);
    if (!client) return error(client.error());
    auto& c = **client;
    c.set_publish_in_flight(config_.publish_in_flight);
    opcua::CreateSubscriptionRequest sub;
    sub.requested_publishing_interval_ms = config_.publishing_interval_ms;
    auto created = c.create_subscription(sub);
    if (!created) return error(created.error());
    std::vector<opcua::MonitoredItemCreateRequest> items;
    items.reserve(config_.signals.size());
    for (std::size_t i = 0; i < config_.signals.size(); ++i) {
      auto node = resolve_node(c, config_.signals[i].node_id);
      if (!node) return error(node.error());
      opcua::MonitoredItemCreateRequest item;
      item.item_to_monitor.node_id = *node;
      item.requested_parameters.client_handle = static_cast<std::uint32_t>(i);
      item.requested_parameters.sampling_interval_ms = config_.sampling_interval_ms;
      item.requested_parameters.queue_size = config_.queue_size;
      items.push_back(std::move(item));
    }
    auto results = c.create_monitored_items(created->subscription_id, std::move(items), config_.monitored_item_batch);
    if (!results) return error(results.error());
    for (std::size_t i = 0; i < results->size(); ++i) {
      if ((*results)[i].status.is_bad())
        spdlog::warn("opcua: {}: cannot monitor {} ({}): {}", config_.endpoint_url, config_.signals[i].node_id,
                     config_.signals[i].series_path, opcua::describe_status((*results)[i].status));
    }
    return client;
  }

  // Runs until the connection fails or stop(); returns why it ended.
  Status poll(opcua::Client& c) {
    std::vector<opcua::DataChange> changes;
    // Counters are per client and survive a resume: count only what is new.
    std::uint64_t gaps_seen = c.counters().sequence_gaps;
    std::uint64_t lost_seen = c.counters().lost_notification_messages;
    while (!stopping()) {
      changes.clear();
      if (auto s = c.poll_notifications(200ms, changes); !s) return s;
      if (c.counters().sequence_gaps > gaps_seen) {
        gaps_.inc(c.counters().sequence_gaps - gaps_seen);
        gaps_seen = c.counters().sequence_gaps;
      }
      // Notification messages Republish could not bring back: the data between the last sample
      // and this batch are missing, so the marker goes before the batch.
      if (c.counters().lost_notification_messages > lost_seen) {
        lost_seen = c.counters().lost_notification_messages;
        mark_gap(unix_now_ns());
      }
      if (changes.empty()) continue;
      const TimestampNs now = unix_now_ns();
      SampleBatch batch;
      batch.provenance = Provenance{"opcua", config_.endpoint_url, now, {}};
      batch.samples.reserve(changes.size());
      for (const auto& ch : changes) {
        if (ch.client_handle >= series_.size()) continue;
        const auto value = ch.value.value ? ch.value.value->as_double() : std::optional<double>();
        const Quality q = quality_of(ch.value);
        // A Bad status may come without a value: keep it, as a gap marker.
        if (!value && q.severity() != Severity::kBad) {
          non_numeric_.inc();
          continue;
        }
        TimestampNs ts = now;
        if (ch.value.source_timestamp && !ch.value.source_timestamp->is_null()) ts = ch.value.source_timestamp->to_unix_ns();
        else if (ch.value.server_timestamp && !ch.value.server_timestamp->is_null()) ts = ch.value.server_timestamp->to_unix_ns();
        // After a reconnect the server re-sends each item's current value with its old source
        // timestamp: a sample we already hold, not a new one.
        TimestampNs& last = last_ts_[ch.client_handle];
        if (ts == last) continue;
        if (ts > last) last = ts;
        batch.samples.push_back(Sample{series_[ch.client_handle], ts, value.value_or(0.0), q});
      }
      submit(std::move(batch));
    }
    return Status::ok();
  }

  // Every signal gets one BadNoCommunication sample at the moment the loss was noticed, so the
  // historian shows the hole instead of interpolating across it.
  void mark_gap(TimestampNs at_ns) {
    SampleBatch batch;
    batch.provenance = Provenance{"opcua", config_.endpoint_url, at_ns, {}};
    // The marker goes right after the series' last sample (source time), not at our clock's
    // "now": with a PLC clock behind ours, a marker at now would make the first samples after
    // the reconnect look non-monotonic and send them to the quarantine.
    for (std::size_t i = 0; i < series_.size(); ++i) {
      const TimestampNs ts = last_ts_[i] > 0 ? last_ts_[i] + 1 : at_ns;
      batch.samples.push_back(Sample{series_[i], ts, 0.0, Quality{Quality::kBadNoCommunication}});
    }
    submit(std::move(batch));
  }

  void submit(SampleBatch&& batch) {
    if (batch.samples.empty()) return;
    const auto n = batch.samples.size();
    // RetryLater: hold the batch briefly (Publish acknowledgements keep flowing; the server's
    // queue absorbs the rest); give up after ~1 s and count the drop.
    for (int attempt = 0; attempt < 20; ++attempt) {
      SampleBatch copy = batch;
      const auto a = pipeline_.submit(std::move(copy), [](const Status&) {});
      if (a == Admission::kAccepted) {
        samples_.inc(n);
        return;
      }
      if (a == Admission::kRejected) break;
      retry_later_.inc();
      if (!sleep_for(50ms)) break;
    }
    dropped_.inc();
  }

  OpcuaConnectorConfig config_;
  BatchConsumer& pipeline_;
  SeriesCatalog& catalog_;
  std::vector<SeriesId> series_;  // index = client handle = position in config_.signals
  std::vector<TimestampNs> last_ts_;  // per client handle: newest sample timestamp submitted

  Counter& reconnects_;
  Counter& connect_failures_;
  Counter& samples_;
  Counter& non_numeric_;
  Counter& retry_later_;
  Counter& dropped_;
  Counter& gaps_;
  Counter& resumes_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

Status check_opcua_security(const OpcuaConnectorConfig& config) {
  auto security = opcua::parse_security(config.security_policy, config.security_mode);
  if (!security) return Status(security.error().code(), "opcua.security_policy/security_mode: " + security.error().message());
  if (security->first == opcua::SecurityPolicy::kNone) return Status::ok();
  if (config.certificate_file.empty()) return Status(StatusCode::kInvalidArgument, "opcua.certificate: required with Basic256Sha256");
  if (config.private_key_file.empty()) return Status(StatusCode::kInvalidArgument, "opcua.private_key: required with Basic256Sha256");
  if (config.trust_dir.empty() && config.server_certificate_file.empty())
    return Status(StatusCode::kInvalidArgument,
                  "opcua.trust_dir or opcua.server_certificate: one is required with Basic256Sha256 (the server "
                  "certificate must be checked against something)");
  if (auto c = opcua::load_certificate_file(config.certificate_file); !c)
    return Status(c.error().code(), "opcua.certificate: " + c.error().message());
  if (auto k = opcua::load_private_key_file(config.private_key_file); !k)
    return Status(k.error().code(), "opcua.private_key: " + k.error().message());
  opcua::TrustList trust;
  if (!config.trust_dir.empty())
    if (auto s = trust.add_directory(config.trust_dir); !s) return Status(s.code(), "opcua.trust_dir: " + s.message());
  if (!config.server_certificate_file.empty())
    if (auto s = trust.add_file(config.server_certificate_file); !s)
      return Status(s.code(), "opcua.server_certificate: " + s.message());
  return Status::ok();
}

std::unique_ptr<Connector> make_opcua_connector(OpcuaConnectorConfig config, BatchConsumer& pipeline,
                                                SeriesCatalog& catalog, MetricsRegistry& metrics) {
  return std::make_unique<OpcuaConnector>(std::move(config), pipeline, catalog, metrics);
}

}  // namespace resonance
