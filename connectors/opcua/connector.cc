// The OPC UA connector loop: connect → resolve nodes → subscribe → poll Publish → submit batches;
// on any error: log, count, mark the gap, back off, start over. One thread per connector.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "connectors/opcua/client.h"
#include "connectors/opcua/machine_tool_mapping.h"
#include "connectors/opcua/signal_nodes.h"
#include "resonance/connectors/opcua/opcua_connector.h"
#include "resonance/infomodel/model.h"

namespace resonance {
namespace {

using namespace std::chrono_literals;

// How long after a loss the old session is worth resuming: the session lives for the session
// timeout the client asks for (ClientOptions::session_timeout_ms, 60 s), its subscriptions for
// their lifetime, which the connector asks to be kSubscriptionLifetimeMs; within it a session the
// server timed out is replaced and the subscriptions transferred. Later both are gone anyway.
constexpr double kSubscriptionLifetimeMs = 120'000;
constexpr TimestampNs kResumeWindowNs = static_cast<TimestampNs>(kSubscriptionLifetimeMs) * kNanosPerMilli;

// A number, a boolean, or a String that holds a decimal number in full (OPC 40501 gives the
// program number as ActiveProgram/Name, text); nullopt for anything else.
std::optional<double> numeric_value(const std::optional<opcua::Variant>& v) {
  if (!v) return std::nullopt;
  if (auto d = v->as_double()) return d;
  if (v->type != opcua::BuiltinType::kString || v->is_array || v->values.size() != 1) return std::nullopt;
  std::string_view text = std::get<opcua::UaString>(v->values[0]).view();
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double d = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return d;
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
                                 "endpoint=\"" + config_.endpoint_url + "\"")),
        transfers_(metrics.counter("resonance_opcua_subscription_transfers_total",
                                   "Reconnects whose session was gone and whose subscriptions moved to a new session",
                                   "endpoint=\"" + config_.endpoint_url + "\"")),
        unresolved_(metrics.counter("resonance_opcua_unresolved_signals_total",
                                    "Signals (browse paths, namespace URIs) and machines not found on the server, per connect",
                                    "endpoint=\"" + config_.endpoint_url + "\"")) {}

  ~OpcuaConnector() override { stop(); }

  std::string_view name() const override { return "opcua"; }

  Status start() override {
    if (thread_.joinable()) return Status::ok();
    if (config_.signals.empty() && config_.machines.empty())
      return Status(StatusCode::kInvalidArgument, "opcua connector for " + config_.endpoint_url + ": no signals configured");
    if (auto a = opcua::parse_endpoint_url(config_.endpoint_url); !a) return a.error();
    for (const auto& m : config_.machines)
      if (m.category == nullptr)
        return Status(StatusCode::kInvalidArgument, "opcua machine " + m.equipment_path + ": no information-model category");
    slots_.clear();
    slot_of_series_.clear();
    // Signal i gets slot i (its client handle); machine mappings add theirs after these.
    for (std::size_t i = 0; i < config_.signals.size(); ++i) {
      const auto& s = config_.signals[i];
      auto slot = slot_for(s.series_path, s.unit);
      if (!slot) return slot.error();
      if (*slot != i)  // the config loader refuses this; a connector built in code must too
        return Status(StatusCode::kInvalidArgument, "opcua signal series " + s.series_path + " is fed by two nodes");
    }
    machine_reports_.assign(config_.machines.size(), std::string());
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
        const std::uint64_t transfers_before = lost->counters().subscription_transfers;
        Status resumed = lost->resume();
        if (resumed) {
          client = std::move(lost);
          gap_open = false;
          reconnects_.inc();
          if (client->counters().subscription_transfers > transfers_before) {
            transfers_.inc();
            spdlog::info("opcua: {}: reconnected after {} ms; the session was gone, its subscriptions were "
                         "transferred to a new session",
                         config_.endpoint_url, (unix_now_ns() - lost_at_ns) / kNanosPerMilli);
          } else {
            resumes_.inc();
            spdlog::info("opcua: {}: reconnected after {} ms; session and subscriptions resumed", config_.endpoint_url,
                         (unix_now_ns() - lost_at_ns) / kNanosPerMilli);
          }
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
    // A lifetime beyond the session timeout, so subscriptions survive a session the server timed
    // out and can be transferred (at least the default 300 intervals, and 3 keep-alives).
    sub.requested_lifetime_count = static_cast<std::uint32_t>(std::clamp(
        kSubscriptionLifetimeMs / std::max(config_.publishing_interval_ms, 1.0), 300.0, 1'000'000.0));
    auto created = c.create_subscription(sub);
    if (!created) return error(created.error());
    Subscribing plan;
    auto nodes = opcua::find_signal_nodes(c, config_.signals);
    if (!nodes) return error(nodes.error());
    for (std::size_t i = 0; i < config_.signals.size(); ++i) {
      const auto& s = config_.signals[i];
      if (!(*nodes)[i].node) {
        unresolved_.inc();
        spdlog::error("opcua: {}: series {}: {}; the other signals are subscribed (tried again at the next reconnect)",
                      config_.endpoint_url, s.series_path, (*nodes)[i].why_not);
        continue;
      }
      plan_item(plan, i, std::move(*(*nodes)[i].node), s.node_id.empty() ? s.browse_path_text : s.node_id);
    }
    if (!config_.machines.empty()) {
      // One NamespaceArray read and one instance search per connect, whatever the number of
      // [[machine]] tables.
      auto found = find_machines(c);
      if (!found) return error(found.error());
      for (std::size_t m = 0; m < config_.machines.size(); ++m)
        if (Status s = map_machine(c, *found, m, plan); !s) return error(std::move(s));
    }
    if (plan.items.empty()) return client;
    auto results = c.create_monitored_items(created->subscription_id, std::move(plan.items), config_.monitored_item_batch);
    if (!results) return error(results.error());
    for (std::size_t i = 0; i < results->size() && i < plan.sources.size(); ++i) {
      if ((*results)[i].status.is_bad())
        spdlog::warn("opcua: {}: cannot monitor {} ({}): {}", config_.endpoint_url, plan.sources[i],
                     slots_[plan.slots[i]].series_path, opcua::describe_status((*results)[i].status));
    }
    return client;
  }

  // The monitored items of one connect; `slots` and `sources` run parallel to `items`.
  struct Subscribing {
    std::vector<opcua::MonitoredItemCreateRequest> items;
    std::vector<std::size_t> slots;
    std::vector<std::string> sources;  // node id or browse path, for logs
  };

  void plan_item(Subscribing& plan, std::size_t slot, opcua::NodeId node, std::string source) {
    opcua::MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = std::move(node);
    item.requested_parameters.client_handle = static_cast<std::uint32_t>(slot);
    item.requested_parameters.sampling_interval_ms = config_.sampling_interval_ms;
    item.requested_parameters.queue_size = config_.queue_size;
    plan.items.push_back(std::move(item));
    plan.slots.push_back(slot);
    plan.sources.push_back(std::move(source));
  }

  // The slot of a series a machine mapping found; created (and the series with it) the first
  // time, kept across reconnects so deduplication and gap marking go on where they were.
  Result<std::size_t> slot_for(const std::string& series_path, const std::string& unit) {
    if (auto it = slot_of_series_.find(series_path); it != slot_of_series_.end()) return it->second;
    auto id = catalog_.resolve(series_path, unit);
    if (!id) return error(id.error());
    slot_of_series_[series_path] = slots_.size();
    slots_.push_back(Slot{*id, series_path, 0, {}});
    return slots_.size() - 1;
  }

  // The machine-tool browse for config_.machines[index]: finds the instance, maps its variables
  // and adds them to `plan`. A machine that cannot be found is logged and counted, not fatal:
  // the other signals still flow. Logs what was mapped and what not whenever that changes.
  // The server's companion namespaces and its MachineToolType instances (none when it lacks the
  // OPC 40501 namespace).
  struct FoundMachines {
    opcua::CompanionNamespaces namespaces;
    std::vector<opcua::MachineToolInstance> instances;
  };
  Result<FoundMachines> find_machines(opcua::Client& c) {
    auto namespaces = opcua::companion_namespaces(c);
    if (!namespaces) return error(namespaces.error());
    FoundMachines found{std::move(*namespaces), {}};
    if (found.namespaces.machine_tool == 0) return found;
    auto instances = opcua::find_machine_tools(c, found.namespaces.machine_tool);
    if (!instances) return error(instances.error());
    found.instances = std::move(*instances);
    return found;
  }

  Status map_machine(opcua::Client& c, const FoundMachines& found, std::size_t index, Subscribing& plan) {
    const OpcuaMachineMapping& m = config_.machines[index];
    const std::string who = "machine " + (m.instance.empty() ? std::string("(the only MachineToolType)") : m.instance) +
                            " for " + m.equipment_path;
    const opcua::CompanionNamespaces* namespaces = &found.namespaces;
    auto not_found = [&](const std::string& why) {
      unresolved_.inc();
      spdlog::error("opcua: {}: {}: {}; nothing mapped for it, the other signals are subscribed", config_.endpoint_url,
                    who, why);
      machine_reports_[index].clear();
      return Status::ok();
    };
    if (namespaces->machine_tool == 0)
      return not_found("the server has no namespace " + std::string(opcua::kMachineToolNamespace));
    const std::vector<opcua::MachineToolInstance>* instances = &found.instances;
    std::string names;
    for (const auto& i : *instances) names += (names.empty() ? "" : ", ") + i.name;
    const opcua::MachineToolInstance* instance = nullptr;
    for (const auto& i : *instances)
      if (m.instance.empty() ? instances->size() == 1 : i.name == m.instance) instance = &i;
    if (instance == nullptr)
      return not_found(instances->empty() ? std::string("no MachineToolType instance under Objects or Objects/Machines")
                       : m.instance.empty()
                           ? "several MachineToolType instances (" + names + "): name one with instance = \"...\""
                           : "no MachineToolType instance called \"" + m.instance + "\" (found: " + names + ")");
    opcua::BrowseWalker walker(c, namespaces->indexes);
    auto mapped = opcua::map_machine_tool(walker, *instance, *m.category, namespaces->machine_tool);
    if (!mapped) return mapped.error();
    std::vector<std::string> yes, no;
    for (auto& s : *mapped) {
      const std::string series = m.equipment_path + "/" + s.signal->name;
      if (!s.node) {
        no.push_back(s.signal->name + " (" + s.why_not + ")");
        continue;
      }
      if (auto it = slot_of_series_.find(series); it != slot_of_series_.end() && it->second < config_.signals.size()) {
        no.push_back(s.signal->name + " (fed by a [[signal]] table)");
        continue;
      }
      auto slot = slot_for(series, s.signal->unit);
      if (!slot) {
        no.push_back(s.signal->name + " (" + slot.error().message() + ")");
        continue;
      }
      slots_[*slot].value_map = std::move(s.value_map);
      yes.push_back(s.signal->name + " <- " + s.path + " (" + opcua::to_string(*s.node) + ")");
      plan_item(plan, *slot, std::move(*s.node), instance->name + "/" + s.path);
    }
    auto join = [](const std::vector<std::string>& parts) {
      std::string out;
      for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
      return out.empty() ? std::string("none") : out;
    };
    std::string report = "mapped " + join(yes) + " | not mapped: " + join(no);
    if (report != machine_reports_[index]) {
      spdlog::info("opcua: {}: {} ({}): {}", config_.endpoint_url, who, instance->name, report);
      machine_reports_[index] = std::move(report);
    }
    return Status::ok();
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
        if (ch.client_handle >= slots_.size()) continue;
        Slot& slot = slots_[ch.client_handle];
        auto value = numeric_value(ch.value.value);
        if (value && !slot.value_map.empty()) {
          const auto it = std::find_if(slot.value_map.begin(), slot.value_map.end(),
                                       [&](const auto& p) { return p.first == *value; });
          value = it == slot.value_map.end() ? std::nullopt : std::optional<double>(it->second);
        }
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
        TimestampNs& last = slot.last_ts;
        if (ts == last) continue;
        if (ts > last) last = ts;
        batch.samples.push_back(Sample{slot.series, ts, value.value_or(0.0), q});
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
    for (const Slot& slot : slots_) {
      const TimestampNs ts = slot.last_ts > 0 ? slot.last_ts + 1 : at_ns;
      batch.samples.push_back(Sample{slot.series, ts, 0.0, Quality{Quality::kBadNoCommunication}});
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
  // One per series the connector feeds; index = client handle. First the [[signal]] tables in
  // order, then the series machine mappings found, as they are first found. Touched only by the
  // connector thread once it runs.
  struct Slot {
    SeriesId series;
    std::string series_path;
    TimestampNs last_ts = 0;  // newest sample timestamp submitted
    std::vector<std::pair<double, double>> value_map;  // server value → stored value; empty = as is
  };
  std::vector<Slot> slots_;
  std::map<std::string, std::size_t> slot_of_series_;
  std::vector<std::string> machine_reports_;  // per machine: the last mapping logged

  Counter& reconnects_;
  Counter& connect_failures_;
  Counter& samples_;
  Counter& non_numeric_;
  Counter& retry_later_;
  Counter& dropped_;
  Counter& gaps_;
  Counter& resumes_;
  Counter& transfers_;
  Counter& unresolved_;

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
