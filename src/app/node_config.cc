#include "node_config.h"

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
  schema.add({"historian", "The embedded time-series store (docs/formats/wal.md).",
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
                std::int64_t{1} << 40}}});
  schema.add({"pipeline", "Validation, governance and fan-out between connectors and the historian.",
              {{"max_in_flight_batches", T::kInteger, std::int64_t{4096},
                "Batches accepted but not yet durable; beyond it connectors get RetryLater.", 1, 1'000'000}}});
  schema.add({"api", "HTTP API, Prometheus metrics and the dashboard (docs/api.md).",
              {{"enabled", T::kBool, true, "Serve the API."},
               {"bind", T::kString, std::string("127.0.0.1"),
                "Address to listen on. Loopback by default: exposing the node is a deliberate choice."},
               {"port", T::kInteger, std::int64_t{8080}, "TCP port (0 = any free port).", 0, 65535}}});
  schema.add({"mqttsn", "MQTT-SN v1.2 gateway over UDP (connectors/mqttsn/README.md).",
              {{"enabled", T::kBool, true, "Run the gateway."},
               {"bind", T::kString, std::string("127.0.0.1"),
                "Address to listen on. Loopback by default: exposing the node is a deliberate choice."},
               {"port", T::kInteger, std::int64_t{1884}, "UDP port (0 = any free port).", 0, 65535},
               {"max_clients", T::kInteger, std::int64_t{1024}, "Most concurrent device sessions.", 1, 1'000'000},
               {"gateway_id", T::kInteger, std::int64_t{1}, "GwId sent in GWINFO and ADVERTISE.", 0, 255}}});
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
  n.max_in_flight_batches = c.integer("pipeline.max_in_flight_batches");
  n.api_enabled = c.boolean("api.enabled");
  n.api_bind = c.str("api.bind");
  n.api_port = static_cast<std::uint16_t>(c.integer("api.port"));
  n.mqttsn_enabled = c.boolean("mqttsn.enabled");
  n.mqttsn_bind = c.str("mqttsn.bind");
  n.mqttsn_port = static_cast<std::uint16_t>(c.integer("mqttsn.port"));
  n.mqttsn_max_clients = c.integer("mqttsn.max_clients");
  n.mqttsn_gateway_id = c.integer("mqttsn.gateway_id");
  return n;
}

}  // namespace resonance::app
