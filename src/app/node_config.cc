#include "node_config.h"

#include <fmt/core.h>

#include <limits>

#include "resonance/historian/duration.h"

namespace resonance::app {

namespace {

ConfigSchema build_schema() {
  using T = ConfigType;
  ConfigSchema schema;
  schema.add({"node", "Identity and storage location of this node.",
              {{"name", T::kString, std::string("edge-01"), "Name shown in the dashboard, logs and evidence."},
               {"data_dir", T::kString, std::string("./resonance-data"),
                "Directory holding the catalog, the write-ahead log and (later) chunk files."}}});
  schema.add({"log", "Logging.",
              {{"level", T::kString, std::string("info"), "Minimum level written to stderr.", {}, {},
                {"trace", "debug", "info", "warn", "error", "off"}}}});
  schema.add({"historian", "The embedded time-series store (docs/formats/wal.md, docs/formats/chunk.md).",
              {{"durability", T::kString, std::string("sync"),
                "sync: acknowledge after fdatasync (survives power loss); none: after write(2) only "
                "(survives kill -9, not power loss).", {}, {}, {"sync", "none"}},
               {"group_commit_bytes", T::kInteger, std::int64_t{1 << 20},
                "Flush the log when this many bytes are pending.", 4096, std::int64_t{1} << 30},
               {"group_commit_interval_us", T::kInteger, std::int64_t{2000},
                "... or when the oldest pending record is this old (microseconds).", 50, 1'000'000},
               {"max_pending_bytes", T::kInteger, std::int64_t{64} << 20,
                "Bound on unsynced log bytes; beyond it writers get RetryLater.", 65536, std::int64_t{1} << 34},
               {"max_head_samples", T::kInteger, std::int64_t{50'000'000},
                "Bound on samples held in memory; beyond it writers get RetryLater.", 1000,
                std::int64_t{1} << 40},
               {"max_head_bytes", T::kInteger, std::int64_t{1} << 30,
                "Bound on the bytes the in-memory head holds (buffers, sealed chunks, per-series state); "
                "beyond it writers get RetryLater (MQTT-SN: congestion) and the head is written to chunk "
                "files at once.", std::int64_t{1} << 20, std::int64_t{1} << 40},
               {"compaction_interval_ms", T::kInteger, std::int64_t{60'000},
                "How often the compaction thread folds each partition's chunk files (per-flush files, late "
                "data, backfill) into one; 0 turns it off.", 0, 86'400'000},
               {"compaction_bytes_per_s", T::kInteger, std::int64_t{32} << 20,
                "I/O rate limit of compaction (bytes read plus written per second); 0 = unlimited.", 0,
                std::int64_t{1} << 34},
               {"wal_segment_bytes", T::kInteger, std::int64_t{64} << 20,
                "Write-ahead log segments rotate at this size; whole segments are deleted once their samples "
                "are in chunk files.", 65536, std::int64_t{1} << 32},
               {"partition", T::kString, std::string("1h"),
                "Length of a time partition (one chunk file per partition and flush; retention deletes whole "
                "partitions). A duration: 10m, 1h, 1d (1m to 30d). Fixed for a store's lifetime in practice: "
                "files written with another length stay readable.", {}, {}, {}},
               {"chunk_samples", T::kInteger, std::int64_t{1024},
                "Samples per chunk: a series' head buffer is sealed into a compressed chunk at this size.", 16,
                65535},
               {"chunk_flush_interval_ms", T::kInteger, std::int64_t{1000},
                "How often sealed chunks are written to chunk files and covered log segments deleted.", 10,
                3'600'000},
               {"seal_idle", T::kString, std::string("10m"),
                "A head buffer that has not filled within this time is sealed anyway, so a slow series does not "
                "keep log segments alive. A duration: 30s, 10m, 1h (1s to 7d).", {}, {}, {}},
               {"retention", T::kString, std::string("0"),
                "Delete chunk files of partitions that ended longer ago than this, e.g. 30d or 12h; 0 keeps data "
                "forever.", {}, {}, {}}}});
  schema.add({"pipeline", "Validation, governance and fan-out between connectors and the historian.",
              {{"max_in_flight_batches", T::kInteger, std::int64_t{4096},
                "Batches accepted but not yet durable; beyond it connectors get RetryLater.", 1, 1'000'000}}});
  schema.add({"api", "HTTP API, Prometheus metrics and the dashboard (docs/api.md).",
              {{"enabled", T::kBool, true, "Serve the API."},
               {"bind", T::kString, std::string("127.0.0.1"),
                "Address to listen on. Loopback by default: exposing the node is a deliberate choice."},
               {"port", T::kInteger, std::int64_t{8080}, "TCP port (0 = any free port).", 0, 65535},
               {"local_clients", T::kString, std::string("127.0.0.0/8, ::1/128"),
                "Comma-separated networks whose clients are the local operator and read without the egress "
                "gate; any other client is remote access (docs/api.md)."},
               {"remote_destination", T::kString, std::string(""),
                "Destination id (declared in the governance policy) remote clients count as; empty = remote "
                "clients read no data."},
               {"remote_purpose", T::kString, std::string("remote_access"),
                "Purpose the egress gate is asked about for remote reads."}}});
  schema.add({"mqttsn", "MQTT-SN v1.2 gateway over UDP (connectors/mqttsn/README.md).",
              {{"enabled", T::kBool, true, "Run the gateway."},
               {"bind", T::kString, std::string("127.0.0.1"),
                "Address to listen on. Loopback by default: exposing the node is a deliberate choice."},
               {"port", T::kInteger, std::int64_t{1884}, "UDP port (0 = any free port).", 0, 65535},
               {"max_clients", T::kInteger, std::int64_t{1024}, "Most concurrent device sessions.", 1, 1'000'000},
               {"gateway_id", T::kInteger, std::int64_t{1}, "GwId sent in GWINFO and ADVERTISE.", 0, 255},
               {"predefined_topics", T::kString, std::string(""),
                "Predefined topic ids (spec 6.7) as id=topic pairs, comma-separated, e.g. 1=site/area/line/cnc1/temp,2=cmd/all."},
               {"allowed_client_ids", T::kString, std::string(""),
                "Comma-separated ClientIds allowed to CONNECT; empty = any."},
               {"allowed_sources", T::kString, std::string(""),
                "Comma-separated source IP addresses accepted; empty = any."},
               {"advertise_interval_s", T::kInteger, std::int64_t{0},
                "Send ADVERTISE every this many seconds (0 = off, the default on plant networks).", 0, 65535},
               {"advertise_address", T::kString, std::string(""),
                "Where ADVERTISE goes: address:port or [v6-address]:port (multicast or broadcast)."},
               {"retry_timeout_ms", T::kInteger, std::int64_t{10000},
                "T_retry for gateway-to-device REGISTER/PUBLISH/PUBREL.", 10, 600'000},
               {"max_retries", T::kInteger, std::int64_t{3},
                "N_retry; then the device is considered lost and its Will published.", 0, 100},
               {"max_queued_per_client", T::kInteger, std::int64_t{64},
                "Messages buffered for a (sleeping) device; beyond it the oldest is dropped.", 1, 100'000},
               {"persist_sessions", T::kBool, true,
                "Keep sessions, subscriptions, Wills and topic ids across restarts, in mqttsn-sessions.state "
                "in node.data_dir (docs/formats/mqttsn-sessions.md)."},
               {"max_signals_per_equipment", T::kInteger, std::int64_t{1024},
                "Series one equipment may have; a multi-signal payload that would create more is refused and "
                "quarantined (0 = no cap).", 0, 10'000'000}}});
  schema.add({"mqtt_bridge", "Upstream MQTT broker for the MQTT-SN gateway: broker messages down to subscribed "
              "devices, Wills of lost devices up (docs/mqttsn.md).",
              {{"enabled", T::kBool, false, "Run the bridge."},
               {"host", T::kString, std::string("127.0.0.1"), "Broker host."},
               {"port", T::kInteger, std::int64_t{1883}, "Broker TCP port.", 1, 65535},
               {"client_id", T::kString, std::string("resonance-mqttsn"), "MQTT ClientId of the bridge."},
               {"username", T::kString, std::string(""), "Broker user; empty = anonymous."},
               {"password_env", T::kString, std::string(""),
                "Name of the environment variable holding the broker password (never the password itself)."},
               {"keep_alive_s", T::kInteger, std::int64_t{30}, "MQTT keep-alive with the broker.", 5, 65535},
               {"reconnect_min_s", T::kInteger, std::int64_t{1}, "First reconnect delay; doubles up to the max.", 1,
                3600},
               {"reconnect_max_s", T::kInteger, std::int64_t{30}, "Longest reconnect delay.", 1, 3600},
               {"subscribe", T::kString, std::string(""),
                "Comma-separated broker topic filters whose messages go down to devices."},
               {"subscribe_qos", T::kInteger, std::int64_t{1}, "QoS of the broker subscriptions.", 0, 2},
               {"max_down_qos", T::kInteger, std::int64_t{1}, "QoS cap towards devices.", 0, 2},
               {"broker_prefix", T::kString, std::string(""), "Prefix of broker topics (e.g. factory/)."},
               {"device_prefix", T::kString, std::string(""), "Prefix of device topics (e.g. cmd/)."},
               {"publish_wills", T::kBool, true, "Publish the Wills of lost devices to the broker."},
               {"max_pending_wills", T::kInteger, std::int64_t{1024},
                "Wills held while the broker is unreachable.", 1, 1'000'000},
               {"destination", T::kString, std::string(""),
                "Destination id (declared in the governance policy) the broker counts as for the egress gate; "
                "empty = every Will is denied."},
               {"purpose", T::kString, std::string("monitoring"),
                "Purpose the egress gate is asked about for Wills going up."}}});
  schema.add({"opcua", "OPC UA client connector: subscribes to one server's nodes (docs/opcua.md).",
              {{"enabled", T::kBool, false, "Run the connector."},
               {"endpoint", T::kString, std::string(""), "Server endpoint, opc.tcp://host:port/path."},
               {"signals_file", T::kString, std::string(""),
                "TOML file mapping server nodes to information-model series ([[signal]] node_id, series, unit; "
                "docs/opcua.md). Relative paths are taken from the working directory."},
               {"user_name", T::kString, std::string(""), "User name for the session; empty = anonymous."},
               {"password_env", T::kString, std::string(""),
                "Name of the environment variable holding the password (never the password itself: "
                "configuration files get copied and logged)."},
               {"publishing_interval_ms", T::kInteger, std::int64_t{100},
                "Requested publishing interval of the subscription.", 1, 3'600'000},
               {"sampling_interval_ms", T::kInteger, std::int64_t{50},
                "Requested sampling interval of each monitored item.", 0, 3'600'000},
               {"queue_size", T::kInteger, std::int64_t{10},
                "Server-side queue per monitored item, so short bursts between publishes are not lost.", 1,
                100'000},
               {"request_timeout_ms", T::kInteger, std::int64_t{5000}, "Timeout of each service request.", 100,
                600'000},
               {"security_policy", T::kString, std::string("None"),
                "Secure channel policy: None or Basic256Sha256 (docs/opcua.md, Security)."},
               {"security_mode", T::kString, std::string("None"),
                "Message security: None (with policy None), Sign or SignAndEncrypt (with Basic256Sha256)."},
               {"certificate", T::kString, std::string(""),
                "Our application instance certificate (PEM or DER); its subjectAltName URI is sent as "
                "ApplicationUri. Required with Basic256Sha256."},
               {"private_key", T::kString, std::string(""),
                "The certificate's RSA private key file (PEM or DER, unencrypted; keep it readable by the node "
                "only). Its contents are never logged."},
               {"trust_dir", T::kString, std::string(""),
                "Directory of trusted server certificates and CAs (.der .pem .crt .cer); a server certificate "
                "not found there is refused, naming its SHA-1 thumbprint."},
               {"server_certificate", T::kString, std::string(""),
                "One server certificate file trusted explicitly (besides trust_dir)."}}});
  schema.add({"audit", "The transparency log: signed, append-only, verifiable offline (docs/audit.md).",
              {{"enabled", T::kBool, true,
                "Log every durable ingest batch and every policy load into audit/ in node.data_dir."},
               {"key_file", T::kString, std::string(""),
                "Ed25519 signing key of the log (`resonance audit keygen`). Empty: audit-key/node.key in "
                "node.data_dir, generated on the first start; its verifier key (node.vkey beside it) is what "
                "auditors are given."},
               {"origin", T::kString, std::string(""),
                "Name of the log (the key name in checkpoints) when a key is generated; empty: "
                "resonance/<node.name>."}}});
  schema.add({"infomodel", "The information model the node validates against (docs/infomodel/README.md).",
              {{"dir", T::kString, std::string(""),
                "Directory of model files laid over the built-in model: model.toml, units.toml, ai_interfaces.toml "
                "and categories/*.toml each replace the built-in file of the same name or add a category. Empty: "
                "the built-in model."}}});
  schema.add({"governance", "Labels, consent, residency and the egress gate (docs/governance.md).",
              {{"policy", T::kString, std::string(""),
                "Policy file (docs/formats/policy.md). Empty: the built-in policy, which declares no destination, "
                "so nothing leaves the node (deny by default)."},
               {"provenance", T::kBool, true,
                "Record each ingested batch's provenance in provenance.sqlite in node.data_dir "
                "(docs/formats/provenance.md)."}}});
  schema.add({"inference", "Live inference: deployed models run on windows of live data (docs/models.md).",
              {{"enabled", T::kBool, false, "Run the deployed models."},
               {"registry", T::kString, std::string(""),
                "Model registry (registry.sqlite of a model store, `resonance model list`) that `deploy` names "
                "models from."},
               {"models_dir", T::kString, std::string(""),
                "Where a registry model's files are: <models_dir>/<name>/<version>/. Empty: models/ beside the "
                "registry."},
               {"deploy", T::kString, std::string(""),
                "Registry models to run, comma-separated name or name@version (a name alone: its production "
                "version)."},
               {"model_dirs", T::kString, std::string(""),
                "Model directories to run as they are (manifest.json and its files inside), comma-separated."},
               {"log", T::kBool, true,
                "Keep every inference record in inference/inference.jsonl in node.data_dir "
                "(docs/formats/inference-log.md); the audit log gets them either way when [audit] is on."},
               {"max_pending_samples", T::kInteger, std::int64_t{1'000'000},
                "Samples waiting for the inference worker; beyond it samples are skipped and counted.", 1000,
                100'000'000},
               {"output_retry_ms", T::kInteger, std::int64_t{5},
                "Wait before offering model outputs to the pipeline again after it answered RetryLater.", 1,
                10'000},
               {"max_output_attempts", T::kInteger, std::int64_t{200},
                "Attempts per output batch before it is dropped and counted.", 1, 1'000'000}}});
  return schema;
}

}  // namespace

const ConfigSchema& node_schema() {
  static const ConfigSchema schema = build_schema();
  return schema;
}

NodeConfig to_node_config(const Config& c) {
  NodeConfig n;
  n.node_name = c.str("node.name");
  n.data_dir = c.str("node.data_dir");
  n.log_level = c.str("log.level");
  n.historian_durability = c.str("historian.durability");
  n.group_commit_bytes = c.integer("historian.group_commit_bytes");
  n.group_commit_interval_us = c.integer("historian.group_commit_interval_us");
  n.max_pending_bytes = c.integer("historian.max_pending_bytes");
  n.max_head_samples = c.integer("historian.max_head_samples");
  n.max_head_bytes = c.integer("historian.max_head_bytes");
  n.compaction_interval_ms = c.integer("historian.compaction_interval_ms");
  n.compaction_bytes_per_s = c.integer("historian.compaction_bytes_per_s");
  n.wal_segment_bytes = c.integer("historian.wal_segment_bytes");
  n.historian_partition = c.str("historian.partition");
  n.chunk_samples = c.integer("historian.chunk_samples");
  n.chunk_flush_interval_ms = c.integer("historian.chunk_flush_interval_ms");
  n.historian_seal_idle = c.str("historian.seal_idle");
  n.historian_retention = c.str("historian.retention");
  n.max_in_flight_batches = c.integer("pipeline.max_in_flight_batches");
  n.api_enabled = c.boolean("api.enabled");
  n.api_bind = c.str("api.bind");
  n.api_port = static_cast<std::uint16_t>(c.integer("api.port"));
  n.api_local_clients = c.str("api.local_clients");
  n.api_remote_destination = c.str("api.remote_destination");
  n.api_remote_purpose = c.str("api.remote_purpose");
  n.mqttsn_enabled = c.boolean("mqttsn.enabled");
  n.mqttsn_bind = c.str("mqttsn.bind");
  n.mqttsn_port = static_cast<std::uint16_t>(c.integer("mqttsn.port"));
  n.mqttsn_max_clients = c.integer("mqttsn.max_clients");
  n.mqttsn_gateway_id = c.integer("mqttsn.gateway_id");
  n.mqttsn_predefined_topics = c.str("mqttsn.predefined_topics");
  n.mqttsn_allowed_client_ids = c.str("mqttsn.allowed_client_ids");
  n.mqttsn_allowed_sources = c.str("mqttsn.allowed_sources");
  n.mqttsn_advertise_interval_s = c.integer("mqttsn.advertise_interval_s");
  n.mqttsn_advertise_address = c.str("mqttsn.advertise_address");
  n.mqttsn_retry_timeout_ms = c.integer("mqttsn.retry_timeout_ms");
  n.mqttsn_max_retries = c.integer("mqttsn.max_retries");
  n.mqttsn_max_queued_per_client = c.integer("mqttsn.max_queued_per_client");
  n.mqttsn_persist_sessions = c.boolean("mqttsn.persist_sessions");
  n.mqttsn_max_signals_per_equipment = c.integer("mqttsn.max_signals_per_equipment");
  n.bridge_enabled = c.boolean("mqtt_bridge.enabled");
  n.bridge_host = c.str("mqtt_bridge.host");
  n.bridge_port = c.integer("mqtt_bridge.port");
  n.bridge_client_id = c.str("mqtt_bridge.client_id");
  n.bridge_username = c.str("mqtt_bridge.username");
  n.bridge_password_env = c.str("mqtt_bridge.password_env");
  n.bridge_keep_alive_s = c.integer("mqtt_bridge.keep_alive_s");
  n.bridge_reconnect_min_s = c.integer("mqtt_bridge.reconnect_min_s");
  n.bridge_reconnect_max_s = c.integer("mqtt_bridge.reconnect_max_s");
  n.bridge_subscribe = c.str("mqtt_bridge.subscribe");
  n.bridge_subscribe_qos = c.integer("mqtt_bridge.subscribe_qos");
  n.bridge_max_down_qos = c.integer("mqtt_bridge.max_down_qos");
  n.bridge_broker_prefix = c.str("mqtt_bridge.broker_prefix");
  n.bridge_device_prefix = c.str("mqtt_bridge.device_prefix");
  n.bridge_publish_wills = c.boolean("mqtt_bridge.publish_wills");
  n.bridge_max_pending_wills = c.integer("mqtt_bridge.max_pending_wills");
  n.bridge_destination = c.str("mqtt_bridge.destination");
  n.bridge_purpose = c.str("mqtt_bridge.purpose");
  n.opcua_enabled = c.boolean("opcua.enabled");
  n.opcua_endpoint = c.str("opcua.endpoint");
  n.opcua_signals_file = c.str("opcua.signals_file");
  n.opcua_user_name = c.str("opcua.user_name");
  n.opcua_password_env = c.str("opcua.password_env");
  n.opcua_publishing_interval_ms = c.integer("opcua.publishing_interval_ms");
  n.opcua_sampling_interval_ms = c.integer("opcua.sampling_interval_ms");
  n.opcua_queue_size = c.integer("opcua.queue_size");
  n.opcua_request_timeout_ms = c.integer("opcua.request_timeout_ms");
  n.opcua_security_policy = c.str("opcua.security_policy");
  n.opcua_security_mode = c.str("opcua.security_mode");
  n.opcua_certificate = c.str("opcua.certificate");
  n.opcua_private_key = c.str("opcua.private_key");
  n.opcua_trust_dir = c.str("opcua.trust_dir");
  n.opcua_server_certificate = c.str("opcua.server_certificate");
  n.audit_enabled = c.boolean("audit.enabled");
  n.audit_key_file = c.str("audit.key_file");
  n.audit_origin = c.str("audit.origin");
  n.governance_policy = c.str("governance.policy");
  n.infomodel_dir = c.str("infomodel.dir");
  n.governance_provenance = c.boolean("governance.provenance");
  n.inference_enabled = c.boolean("inference.enabled");
  n.inference_registry = c.str("inference.registry");
  n.inference_models_dir = c.str("inference.models_dir");
  n.inference_deploy = c.str("inference.deploy");
  n.inference_model_dirs = c.str("inference.model_dirs");
  n.inference_log = c.boolean("inference.log");
  n.inference_max_pending_samples = c.integer("inference.max_pending_samples");
  n.inference_output_retry_ms = c.integer("inference.output_retry_ms");
  n.inference_max_output_attempts = c.integer("inference.max_output_attempts");
  return n;
}

namespace {
Result<std::int64_t> duration_key(std::string_view key, const std::string& text, std::int64_t min_ns,
                                  std::int64_t max_ns, std::string_view range, bool zero_ok) {
  const auto ns = parse_duration_ns(text);
  const bool ok = ns && ((*ns == 0 && zero_ok) || (*ns >= min_ns && *ns <= max_ns));
  if (!ok)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("config key historian.{}: expected a duration {} (units ns, us, ms, s, m, h, d), "
                             "found \"{}\"",
                             key, range, text));
  return *ns;
}
}  // namespace

Result<HistorianOptions> historian_options(const NodeConfig& c) {
  constexpr std::int64_t kS = 1'000'000'000;
  HistorianOptions o;
  o.durability = c.historian_durability == "none" ? Durability::kNone : Durability::kSync;
  o.group_commit_bytes = static_cast<std::size_t>(c.group_commit_bytes);
  o.group_commit_interval_us = c.group_commit_interval_us;
  o.max_pending_bytes = static_cast<std::size_t>(c.max_pending_bytes);
  o.max_head_samples = static_cast<std::size_t>(c.max_head_samples);
  o.max_head_bytes = static_cast<std::size_t>(c.max_head_bytes);
  o.compaction_interval_ms = c.compaction_interval_ms;
  o.compaction_bytes_per_s = static_cast<std::uint64_t>(c.compaction_bytes_per_s);
  o.wal_segment_bytes = static_cast<std::uint64_t>(c.wal_segment_bytes);
  o.chunk_samples = static_cast<std::size_t>(c.chunk_samples);
  o.chunk_flush_interval_ms = c.chunk_flush_interval_ms;
  auto partition = duration_key("partition", c.historian_partition, 60 * kS, 30 * 86400 * kS, "from 1m to 30d", false);
  if (!partition) return error(partition.error());
  o.partition_ns = *partition;
  auto idle = duration_key("seal_idle", c.historian_seal_idle, kS, 7 * 86400 * kS, "from 1s to 7d", false);
  if (!idle) return error(idle.error());
  o.seal_idle_ms = *idle / 1'000'000;
  auto retention = duration_key("retention", c.historian_retention, 60 * kS,
                                std::numeric_limits<std::int64_t>::max(), "of at least 1m, or 0 (keep forever)", true);
  if (!retention) return error(retention.error());
  o.retention_ns = *retention;
  return o;
}

}  // namespace resonance::app
