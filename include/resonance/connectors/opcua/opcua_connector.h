#pragma once
// The OPC UA southbound connector: subscribes to nodes of one server and submits their data
// changes as SampleBatches. It reconnects by itself (new channel, session and subscriptions),
// marks every outage in the data with BadNoCommunication samples, and counts and logs each
// reconnect.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "resonance/connectors/connector.h"
#include "resonance/core/catalog.h"
#include "resonance/core/metrics.h"
#include "resonance/pipeline/pipeline.h"

namespace resonance {

namespace infomodel {
struct Category;
}

// One step of a browse path: a browse name with its namespace by URI, never by index.
struct OpcuaBrowseName {
  std::string namespace_uri;
  std::string name;
};

struct OpcuaSignalMapping {
  // "ns=1;s=CNC1.SpindleSpeed", "i=2258", or by namespace URI (resolved on every connect, never
  // by a hard-coded index): "nsu=http://example.com/UA/;s=Spindle". Empty when browse_path is set.
  std::string node_id;
  std::string series_path;  // the information-model signal, site/area/line/equipment/signal, e.g. "plant/hall1/line1/cnc1/spindle_speed"
  std::string unit;         // stored with the series when it is created
  // Instead of node_id: the node reached from `start` (a node id as above; empty = the Objects
  // folder, i=85) along hierarchical references with these browse names, found with
  // TranslateBrowsePathsToNodeIds on every connect that creates the subscription.
  // `browse_path_text` is the path as written in the signals file, for logs.
  std::vector<OpcuaBrowseName> browse_path;
  std::string browse_path_text;
  std::string start;
};

// Signals found by browsing (docs/opcua.md, "Signals file"): on every connect that creates the
// subscription the connector finds the OPC 40501-1 MachineToolType instance under Objects or
// Objects/Machines and maps its variables onto the signals of `category` for `equipment_path`.
struct OpcuaMachineMapping {
  std::string profile = "machine-tool";  // the only one today
  std::string instance;        // browse name of the instance; empty = the only one on the server
  std::string equipment_path;  // site/area/line/equipment; series are equipment_path + "/" + signal
  const infomodel::Category* category = nullptr;  // the equipment's category; must outlive the connector
};

struct OpcuaConnectorConfig {
  std::string endpoint_url;            // opc.tcp://host:port/path
  std::string user_name;               // empty = anonymous
  std::string password;                // never logged
  bool allow_write = false;            // the connector never writes today; kept for the client
  double publishing_interval_ms = 100;
  double sampling_interval_ms = 50;
  std::uint32_t queue_size = 10;
  std::uint32_t publish_in_flight = 3;
  std::size_t monitored_item_batch = 1000;
  std::uint32_t request_timeout_ms = 5000;
  std::uint32_t reconnect_min_ms = 100;
  std::uint32_t reconnect_max_ms = 2000;
  // Channel security (docs/opcua.md, "Security"): "None" or "Basic256Sha256"; mode "None", "Sign"
  // or "SignAndEncrypt". Basic256Sha256 needs the certificate and key files and a trust_dir or a
  // server_certificate. Key contents are never logged.
  std::string security_policy = "None";
  std::string security_mode = "None";
  std::string certificate_file;
  std::string private_key_file;
  std::string trust_dir;
  std::string server_certificate_file;
  std::vector<OpcuaSignalMapping> signals;
  // A [[signal]] whose series a machine mapping would also feed wins: the machine's is skipped.
  std::vector<OpcuaMachineMapping> machines;
};

// The security settings, checked as a node start would want them: known policy and mode names that
// fit together, and for Basic256Sha256 a readable certificate, RSA key and trust list. Errors name
// the opcua.* key and the file.
Status check_opcua_security(const OpcuaConnectorConfig& config);

// The connector holds references to `pipeline`, `catalog` and `metrics`; they must outlive it.
std::unique_ptr<Connector> make_opcua_connector(OpcuaConnectorConfig config, BatchConsumer& pipeline,
                                                SeriesCatalog& catalog, MetricsRegistry& metrics);

}  // namespace resonance
