#pragma once
// A synchronous OPC UA client over one TCP connection: UACP Hello/Acknowledge, a secure channel
// with SecurityPolicy None or Basic256Sha256 Sign / SignAndEncrypt (renewed at 75 % of its
// lifetime), one session (anonymous or username/password), the attribute and view services, and
// subscriptions whose Publish requests stay several in flight while other calls run.
//
// With Basic256Sha256 the client first asks the endpoint for its certificate (GetEndpoints over
// SecurityPolicy None, on a connection of its own), checks it against the trust list, then opens
// the secured channel on a new connection.
//
// Threading: a Client is used from one thread at a time (the connector's loop thread). Every call
// blocks at most its timeout. Publish responses that arrive while another call waits are queued
// and handed out by poll_notifications(). Errors are values; a transport or channel error leaves
// the client `broken()`; the owner then calls resume() (same session, new connection) or, when the
// session is gone, creates a new Client.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "connectors/opcua/message.h"
#include "connectors/opcua/secure_channel.h"
#include "connectors/opcua/transport.h"

namespace resonance::opcua {

struct UserIdentity {
  std::string user_name;
  std::string password;  // never logged
};

// Channel security. Files are read at connect; paths may appear in errors, contents never do.
struct SecurityOptions {
  SecurityPolicy policy = SecurityPolicy::kNone;
  ChunkSecurity mode = ChunkSecurity::kNone;  // kSign or kSignAndEncrypt with Basic256Sha256
  std::string certificate_file;         // our application instance certificate, PEM or DER
  std::string private_key_file;         // its RSA key, PEM or DER, unencrypted
  std::string trust_dir;                // trusted server certificates and CAs (.der .pem .crt .cer)
  std::string server_certificate_file;  // one server certificate trusted explicitly
};

// "None" / "Basic256Sha256" (or the policy URI) and "None" / "Sign" / "SignAndEncrypt"; an error
// names the accepted values. Basic256Sha256 with None, or None with Sign, is refused.
Result<std::pair<SecurityPolicy, ChunkSecurity>> parse_security(std::string_view policy, std::string_view mode);

struct ClientOptions {
  std::string endpoint_url;                // opc.tcp://host:port[/path]
  std::string session_name = "resonance";
  std::optional<UserIdentity> user;        // anonymous when empty
  bool allow_write = false;                // permission switch: Write is refused locally unless set
  std::uint32_t request_timeout_ms = 5000;
  std::uint32_t channel_lifetime_ms = 600'000;
  double session_timeout_ms = 60'000;
  TransportLimits limits;
  DecodeLimits decode_limits;
  SecurityOptions security;
};

struct EndpointAddress {
  std::string host;
  std::uint16_t port = 4840;
  std::string path;
};
Result<EndpointAddress> parse_endpoint_url(std::string_view url);

// One data change from a subscription, in arrival order.
struct DataChange {
  std::uint32_t subscription_id = 0;
  std::uint32_t client_handle = 0;
  DataValue value;
};

// What a client counted since it connected; the connector turns these into metrics.
struct ClientCounters {
  std::uint64_t requests = 0;
  std::uint64_t publish_responses = 0;
  std::uint64_t keep_alives = 0;
  std::uint64_t notifications = 0;
  std::uint64_t sequence_gaps = 0;        // detected holes in a subscription's sequence numbers
  std::uint64_t republished = 0;          // notification messages recovered with Republish
  std::uint64_t lost_notification_messages = 0;  // holes Republish could not fill
  std::uint64_t dropped_responses = 0;    // responses for requests nobody waits for
  std::uint64_t channel_renewals = 0;
  std::uint64_t old_token_messages = 0;   // chunks still secured with the token before a renewal
  std::uint64_t session_resumes = 0;      // sessions reactivated on a new connection after a loss
  std::uint64_t subscription_transfers = 0;  // resumes whose session was gone: subscriptions moved to a new one
};

class Client {
 public:
  // Connects, opens the secure channel, creates and activates the session.
  static Result<std::unique_ptr<Client>> connect(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Attribute services. Per-node failures are in each DataValue's status / StatusCode.
  Result<std::vector<DataValue>> read(std::vector<ReadValueId> nodes);
  Result<DataValue> read_value(const NodeId& node);
  Result<std::vector<StatusCode>> write(std::vector<WriteValue> nodes);

  // Every reference of `node` (follows continuation points with BrowseNext).
  Result<std::vector<ReferenceDescription>> browse(const BrowseDescription& what,
                                                   std::uint32_t max_references_per_request = 0);
  Result<std::vector<BrowsePathResult>> translate(std::vector<BrowsePath> paths);
  // The node at `start`/`path` (hierarchical references), or kNotFound naming the path.
  Result<NodeId> resolve_path(const NodeId& start, const std::vector<QualifiedName>& path);
  // Namespace index of `uri` from the server's NamespaceArray (i=2255); kNotFound if absent.
  Result<std::uint16_t> namespace_index(std::string_view uri);
  // The whole NamespaceArray (index → URI), for callers that look up many URIs at once.
  Result<std::vector<std::string>> namespace_array();

  // Subscriptions.
  Result<CreateSubscriptionResponse> create_subscription(const CreateSubscriptionRequest& request);
  // Creates the items in batches of `batch_size` per CreateMonitoredItems request.
  Result<std::vector<MonitoredItemCreateResult>> create_monitored_items(
      std::uint32_t subscription_id, std::vector<MonitoredItemCreateRequest> items,
      std::size_t batch_size = 1000);
  Status delete_subscriptions(std::vector<std::uint32_t> subscription_ids);
  // Keeps `publish_in_flight` Publish requests outstanding, waits up to `timeout` for responses,
  // acknowledges what arrived, republishes gaps, and appends the data changes to `out`.
  Status poll_notifications(std::chrono::milliseconds timeout, std::vector<DataChange>& out);
  void set_publish_in_flight(std::uint32_t n) { publish_target_ = n == 0 ? 1 : n; }

  // After a connection loss (broken()): a new connection and secure channel, then ActivateSession
  // on the session we had, whose subscriptions live on in the server. The next Publish gets what
  // the server queued meanwhile, and sequence gaps are filled with Republish, so a short outage
  // loses nothing. When the session is gone but its subscriptions may not be (a session timeout
  // leaves them to their own lifetime), a new session takes them over with TransferSubscriptions
  // (counters().subscription_transfers) and the same holds. kUnavailable: the server cannot be
  // reached (try again later); another code: session and subscriptions are gone (server restart,
  // subscription lifetime over, transfer refused) and the owner must create a new client.
  Status resume();

  // CloseSession (deleting subscriptions) and CloseSecureChannel; idempotent.
  Status close();

  bool broken() const { return broken_; }
  const ClientCounters& counters() const { return counters_; }
  const NodeId& session_id() const { return session_id_; }
  const TransportLimits& negotiated_limits() const { return limits_; }
  // How long the keep-alive of the slowest subscription may be silent before the link counts as dead.
  std::chrono::milliseconds keep_alive_timeout() const { return keep_alive_timeout_; }
  std::chrono::steady_clock::time_point last_publish_response() const { return last_publish_response_; }

 private:
  explicit Client(ClientOptions options);

  Status open_transport();
  void reset_transport();  // back to a fresh socket and channel state (after discovery)
  Status load_security();
  Status discover_server_certificate();
  Status open_channel(SecurityTokenRequestType type);
  Status reopen_channel();  // reset_transport, forget the channel keys, connect, issue
  Status create_and_activate_session();
  Status activate_session();
  Status transfer_subscriptions_to_new_session();

  // Sends a request and waits for its response; other responses that arrive meanwhile are
  // routed (Publish) or dropped. A ServiceFault or a bad ServiceResult becomes an error naming
  // the request.
  template <typename Response, typename Request>
  Result<Response> call(Request& request);
  Result<std::uint32_t> send(const ServiceMessage& message, RequestHeader& header);
  Result<ServiceMessage> wait_for(std::uint32_t request_id, std::string_view what);
  // One complete message (all chunks) or nullopt when `deadline` passed.
  Result<std::optional<std::pair<std::uint32_t, ServiceMessage>>> receive_message(
      std::chrono::steady_clock::time_point deadline);
  Result<std::optional<std::vector<std::uint8_t>>> receive_chunk(std::chrono::steady_clock::time_point deadline);
  Status write_all(std::span<const std::uint8_t> bytes);
  Status renew_channel_if_due();
  Status fail(Status s);  // marks the client broken
  // The plain chunk of a secured MSG/CLO (the token's keys picked by its TokenId).
  Result<Bytes> unprotect(std::span<const std::uint8_t> chunk);

  Status send_publish();
  void handle_publish(PublishResponse&& response, std::vector<DataChange>& out);
  void collect(std::uint32_t subscription_id, const NotificationMessage& message, std::vector<DataChange>& out);

  ClientOptions options_;
  EndpointAddress address_;

  // Basic256Sha256 state; null with SecurityPolicy None. `active` turns on once discovery is done
  // and the secured channel is being opened.
  struct Token {
    std::uint32_t id = 0;
    SymmetricKeys client;  // what we sign/encrypt with
    SymmetricKeys server;  // what the server signs/encrypts with
  };
  struct Security {
    Certificate own_certificate;
    PrivateKey own_key;
    TrustList trust;
    std::optional<Certificate> server_certificate;  // from GetEndpoints, trusted
    bool active = false;
    Bytes client_nonce;   // of the OPN in flight
    std::optional<Token> current;
    std::optional<Token> previous;  // still accepted until the server uses `current`
    AsymmetricContext asymmetric() const {
      return {&own_certificate, own_key.get(), server_certificate ? &*server_certificate : nullptr};
    }
  };
  std::unique_ptr<Security> security_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
  std::vector<std::uint8_t> inbox_;  // bytes read but not yet a complete chunk
  TransportLimits limits_;           // after ACK
  Reassembler reassembler_{TransportLimits{}};

  std::uint32_t channel_id_ = 0;
  std::uint32_t token_id_ = 0;
  std::chrono::steady_clock::time_point token_renew_at_{};
  std::uint32_t send_sequence_ = 1;
  std::uint32_t next_request_id_ = 1;
  std::uint32_t next_request_handle_ = 1;

  NodeId session_id_;
  NodeId authentication_token_;
  // What ActivateSession needs again when the session is resumed on a new channel.
  std::string session_user_policy_id_;
  bool session_encrypt_password_ = false;
  Bytes session_server_certificate_;
  Bytes session_server_nonce_;
  bool session_open_ = false;
  bool broken_ = false;

  // Subscriptions: outstanding Publish request ids, queued responses, acknowledgements to send,
  // and the last sequence number seen per subscription.
  std::uint32_t publish_target_ = 3;
  std::vector<std::uint32_t> publish_outstanding_;
  std::deque<PublishResponse> publish_queue_;
  std::vector<SubscriptionAcknowledgement> acks_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> last_sequence_;  // (subscription, seq)
  std::vector<std::uint32_t> subscriptions_;
  std::chrono::milliseconds keep_alive_timeout_{0};
  std::chrono::steady_clock::time_point last_publish_response_{};

  ClientCounters counters_;
};

// "0x80340000" plus the symbolic name when we know it ("BadNodeIdUnknown").
std::string describe_status(StatusCode code);

}  // namespace resonance::opcua
