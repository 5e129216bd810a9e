#include "connectors/opcua/client.h"
#include "connectors/opcua/client_call.h"

#include <poll.h>

#include <cerrno>

#include <openssl/crypto.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>

namespace resonance::opcua {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint32_t kNamespaceArray = 2255;

struct KnownStatus {
  std::uint32_t code;
  const char* name;
};
// The codes a user meets most (values from OPC 10000-6 Annex A, StatusCode.csv).
constexpr KnownStatus kKnownStatus[] = {
    {0x80010000, "BadUnexpectedError"},
    {0x80020000, "BadInternalError"},
    {0x800a0000, "BadTimeout"},
    {0x800b0000, "BadServiceUnsupported"},
    {0x800f0000, "BadNothingToDo"},
    {0x80100000, "BadTooManyOperations"},
    {0x80070000, "BadDecodingError"},
    {0x80080000, "BadEncodingLimitsExceeded"},
    {0x80800000, "BadTcpMessageTooLarge"},
    {0x80220000, "BadSecureChannelIdInvalid"},
    {0x80250000, "BadSessionIdInvalid"},
    {0x80260000, "BadSessionClosed"},
    {0x80270000, "BadSessionNotActivated"},
    {0x80280000, "BadSubscriptionIdInvalid"},
    {0x80200000, "BadIdentityTokenInvalid"},
    {0x80210000, "BadIdentityTokenRejected"},
    {0x801f0000, "BadUserAccessDenied"},
    {0x80340000, "BadNodeIdUnknown"},
    {0x80330000, "BadNodeIdInvalid"},
    {0x80350000, "BadAttributeIdInvalid"},
    {0x803b0000, "BadNotWritable"},
    {0x803a0000, "BadNotReadable"},
    {0x80740000, "BadTypeMismatch"},
    {0x80780000, "BadTooManyPublishRequests"},
    {0x80790000, "BadNoSubscription"},
    {0x807b0000, "BadMessageNotAvailable"},
    {0x807a0000, "BadSequenceNumberUnknown"},
    {0x80310000, "BadNoCommunication"},
    {0x80320000, "BadWaitingForInitialData"},
    {0x80560000, "BadTooManySessions"},
    {0x80770000, "BadTooManySubscriptions"},
    {0x80db0000, "BadTooManyMonitoredItems"},
    {0x80ae0000, "BadConnectionClosed"},
    {0x800e0000, "BadServerHalted"},
    {0x800c0000, "BadShutdown"},
    {0x80050000, "BadCommunicationError"},
    {0x80850000, "BadRequestTimeout"},
    {0x80130000, "BadSecurityChecksFailed"},
    {0x803c0000, "BadOutOfRange"},
    {0x806f0000, "BadNoMatch"},
    {0x80600000, "BadBrowseNameInvalid"},
    {0x804a0000, "BadContinuationPointInvalid"},
    {0x2d0000, "GoodSubscriptionTransferred"},
    {0x2f0000, "GoodOverload"},
    {0x40900000, "UncertainLastUsableValue"},
    {0x80420000, "BadMonitoredItemIdInvalid"},
    {0x80550000, "BadSecurityPolicyRejected"},
    {0x80120000, "BadCertificateInvalid"},
    {0x80140000, "BadCertificateTimeInvalid"},
    {0x80170000, "BadCertificateUriInvalid"},
    {0x80180000, "BadCertificateUseNotAllowed"},
    {0x801a0000, "BadCertificateUntrusted"},
    {0x801b0000, "BadCertificateRevocationUnknown"},
    {0x80240000, "BadNonceInvalid"},
    {0x80540000, "BadSecurityModeRejected"},
    {0x80570000, "BadUserSignatureInvalid"},
    {0x80580000, "BadApplicationSignatureInvalid"},
    {0x80b80000, "BadRequestTooLarge"},
    {0x80b90000, "BadResponseTooLarge"},
};

Status channel_error(std::string message) {
  return Status(resonance::StatusCode::kUnavailable, std::move(message));
}

MessageSecurityMode wire_mode(ChunkSecurity m) { return static_cast<MessageSecurityMode>(static_cast<int>(m)); }
std::string_view mode_name(MessageSecurityMode m) {
  switch (m) {
    case MessageSecurityMode::kNone: return "None";
    case MessageSecurityMode::kSign: return "Sign";
    case MessageSecurityMode::kSignAndEncrypt: return "SignAndEncrypt";
    default: return "Invalid";
  }
}
ByteString to_byte_string(std::span<const std::uint8_t> b) { return ByteString{std::string(b.begin(), b.end())}; }
std::span<const std::uint8_t> bytes_of(const ByteString& b) {
  if (!b.bytes) return {};
  return {reinterpret_cast<const std::uint8_t*>(b.bytes->data()), b.bytes->size()};
}
Bytes concat(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

std::string describe_status(StatusCode code) {
  char hex[11];
  std::snprintf(hex, sizeof hex, "0x%08X", code.code);
  for (const auto& k : kKnownStatus) {
    if (k.code == (code.code & 0xFFFF0000u)) return std::string(hex) + " " + k.name;
  }
  return hex;
}

Result<EndpointAddress> parse_endpoint_url(std::string_view url) {
  constexpr std::string_view kScheme = "opc.tcp://";
  if (!url.starts_with(kScheme))
    return error(resonance::StatusCode::kInvalidArgument,
                 "endpoint URL \"" + std::string(url) + "\": must start with opc.tcp://");
  std::string_view rest = url.substr(kScheme.size());
  EndpointAddress out;
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return error(resonance::StatusCode::kInvalidArgument, "endpoint URL \"" + std::string(url) + "\": unclosed [");
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) port_text = authority.substr(1);
  } else {
    // user:password@host would put a secret in every log line and metric label that names the
    // endpoint: credentials belong in user_name / password_env. The URL is not echoed.
    if (authority.find('@') != std::string_view::npos)
      return error(resonance::StatusCode::kInvalidArgument,
                   "endpoint URL: credentials in the URL (user@host) are refused; use user_name and password_env");
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty())
    return error(resonance::StatusCode::kInvalidArgument, "endpoint URL \"" + std::string(url) + "\": no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return error(resonance::StatusCode::kInvalidArgument,
                   "endpoint URL \"" + std::string(url) + "\": port \"" + std::string(port_text) + "\" is not 1..65535");
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

Result<std::pair<SecurityPolicy, ChunkSecurity>> parse_security(std::string_view policy, std::string_view mode) {
  SecurityPolicy p;
  if (policy == "None" || policy == kSecurityPolicyNone) p = SecurityPolicy::kNone;
  else if (policy == "Basic256Sha256" || policy == kSecurityPolicyBasic256Sha256) p = SecurityPolicy::kBasic256Sha256;
  else
    return error(resonance::StatusCode::kInvalidArgument,
                 "security policy \"" + std::string(policy) + "\": expected None or Basic256Sha256");
  ChunkSecurity m;
  if (mode == "None") m = ChunkSecurity::kNone;
  else if (mode == "Sign") m = ChunkSecurity::kSign;
  else if (mode == "SignAndEncrypt") m = ChunkSecurity::kSignAndEncrypt;
  else
    return error(resonance::StatusCode::kInvalidArgument,
                 "security mode \"" + std::string(mode) + "\": expected None, Sign or SignAndEncrypt");
  if ((p == SecurityPolicy::kNone) != (m == ChunkSecurity::kNone))
    return error(resonance::StatusCode::kInvalidArgument,
                 "security policy " + std::string(policy) + " with mode " + std::string(mode) +
                     ": None goes with None, Basic256Sha256 with Sign or SignAndEncrypt");
  return std::pair{p, m};
}

Client::Client(ClientOptions options) : options_(std::move(options)) {}

Client::~Client() { (void)close(); }

Result<std::unique_ptr<Client>> Client::connect(ClientOptions options) {
  auto address = parse_endpoint_url(options.endpoint_url);
  if (!address) return error(address.error());
  std::unique_ptr<Client> c(new Client(std::move(options)));
  c->address_ = *address;
  if (c->options_.security.policy != SecurityPolicy::kNone) {
    if (auto s = c->load_security(); !s) return error(std::move(s));
    if (auto s = c->discover_server_certificate(); !s) return error(std::move(s));
  }
  if (auto s = c->open_transport(); !s) return error(std::move(s));
  if (auto s = c->open_channel(SecurityTokenRequestType::kIssue); !s) return error(std::move(s));
  if (auto s = c->create_and_activate_session(); !s) return error(std::move(s));
  return c;
}

Status Client::fail(Status s) {
  broken_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  return s;
}

Status Client::load_security() {
  const auto& o = options_.security;
  if (o.mode != ChunkSecurity::kSign && o.mode != ChunkSecurity::kSignAndEncrypt)
    return Status(resonance::StatusCode::kInvalidArgument,
                  "SecurityPolicy Basic256Sha256 needs security mode Sign or SignAndEncrypt");
  if (o.certificate_file.empty() || o.private_key_file.empty())
    return Status(resonance::StatusCode::kInvalidArgument,
                  "SecurityPolicy Basic256Sha256 needs a client certificate and private key file");
  if (o.trust_dir.empty() && o.server_certificate_file.empty())
    return Status(resonance::StatusCode::kInvalidArgument,
                  "SecurityPolicy Basic256Sha256 needs a trust_dir or a server_certificate to check the server against");
  auto sec = std::make_unique<Security>();
  auto cert = load_certificate_file(o.certificate_file);
  if (!cert) return with_context(cert.error(), "client certificate:");
  sec->own_certificate = std::move(*cert);
  auto key = load_private_key_file(o.private_key_file);
  if (!key) return with_context(key.error(), "client private key:");
  sec->own_key = std::move(*key);
  if (!o.trust_dir.empty())
    if (auto s = sec->trust.add_directory(o.trust_dir); !s) return s;
  if (!o.server_certificate_file.empty())
    if (auto s = sec->trust.add_file(o.server_certificate_file); !s) return s;
  security_ = std::move(sec);
  return Status::ok();
}

void Client::reset_transport() {
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  socket_ = boost::asio::ip::tcp::socket(io_);
  inbox_.clear();
  channel_id_ = 0;
  token_id_ = 0;
  send_sequence_ = 1;
  reassembler_ = Reassembler(TransportLimits{});
  broken_ = false;
}

Status Client::discover_server_certificate() {
  // GetEndpoints over SecurityPolicy None on a connection of its own: the only way to learn the
  // server's certificate before the secured OPN, which must be encrypted with it.
  if (auto s = open_transport(); !s) return s;
  if (auto s = open_channel(SecurityTokenRequestType::kIssue); !s)
    return with_context(std::move(s), "discovery (GetEndpoints over SecurityPolicy None):");
  GetEndpointsRequest req;
  req.endpoint_url = UaString(options_.endpoint_url);
  auto resp = call<GetEndpointsResponse>(req);
  if (resp) {
    ServiceMessage clo{CloseSecureChannelRequest{}};
    (void)send(clo, std::get<CloseSecureChannelRequest>(clo).header);
  }
  reset_transport();
  if (!resp) return with_context(resp.error(), "discovery:");
  const auto wanted = wire_mode(options_.security.mode);
  const EndpointDescription* chosen = nullptr;
  std::string offered;
  for (const auto& ep : resp->endpoints) {
    offered += (offered.empty() ? "" : ", ") + std::string(ep.security_policy_uri.view()) + " " +
               std::string(mode_name(ep.security_mode));
    if (!chosen && ep.security_policy_uri.view() == kSecurityPolicyBasic256Sha256 && ep.security_mode == wanted)
      chosen = &ep;
  }
  if (!chosen)
    return Status(resonance::StatusCode::kFailedPrecondition,
                  options_.endpoint_url + " offers no Basic256Sha256 " + std::string(mode_name(wanted)) +
                      " endpoint (offered: " + (offered.empty() ? "none" : offered) + ")");
  auto cert = parse_certificate_der(bytes_of(chosen->server_certificate));
  if (!cert) return with_context(cert.error(), "the endpoint's ServerCertificate:");
  if (auto s = security_->trust.check(*cert); !s) return s;
  security_->server_certificate = std::move(*cert);
  security_->active = true;
  return Status::ok();
}

Result<Bytes> Client::unprotect(std::span<const std::uint8_t> chunk) {
  if (chunk.size() < 16) return error(channel_error("secured chunk of " + std::to_string(chunk.size()) + " bytes"));
  const std::uint32_t token = static_cast<std::uint32_t>(chunk[12]) | static_cast<std::uint32_t>(chunk[13]) << 8 |
                              static_cast<std::uint32_t>(chunk[14]) << 16 | static_cast<std::uint32_t>(chunk[15]) << 24;
  auto& sec = *security_;
  const Token* keys = nullptr;
  if (sec.current && sec.current->id == token) {
    keys = &*sec.current;
    sec.previous.reset();  // the server has switched: the old token is done
  } else if (sec.previous && sec.previous->id == token) {
    keys = &*sec.previous;
    ++counters_.old_token_messages;
  }
  if (!keys)
    return error(Status(resonance::StatusCode::kInvalidArgument,
                        "chunk TokenId at offset 12: " + std::to_string(token) + " is not the channel's token " +
                            (sec.current ? std::to_string(sec.current->id) : std::string("(none)"))));
  return unprotect_symmetric_chunk(options_.security.mode, keys->server, chunk);
}

// A new connection and a newly issued channel; the old channel's keys are dropped with it.
Status Client::reopen_channel() {
  reset_transport();
  if (security_) {
    security_->current.reset();
    security_->previous.reset();
  }
  if (auto s = open_transport(); !s) return s;
  return open_channel(SecurityTokenRequestType::kIssue);
}

Status Client::resume() {
  if (!session_open_)
    return Status(resonance::StatusCode::kFailedPrecondition, "no activated session to resume");
  if (auto s = reopen_channel(); !s) return s;
  // Requests in flight died with the old connection; the server still holds the notification
  // messages it sent in reply (until acknowledged) and queues new ones for our next Publish.
  publish_outstanding_.clear();
  if (Status activated = activate_session(); !activated) {
    if (subscriptions_.empty())
      return Status(resonance::StatusCode::kFailedPrecondition, "resuming the session: " + activated.message());
    if (Status moved = transfer_subscriptions_to_new_session(); !moved)
      return Status(moved.code() == resonance::StatusCode::kUnavailable ? moved.code()
                                                                       : resonance::StatusCode::kFailedPrecondition,
                    "resuming the session: " + activated.message() +
                        "; taking its subscriptions over in a new session: " + moved.message());
    last_publish_response_ = Clock::now();
    ++counters_.subscription_transfers;
    return Status::ok();
  }
  last_publish_response_ = Clock::now();
  ++counters_.session_resumes;
  return Status::ok();
}

// The session is gone (ActivateSession refused, which also closed the connection), but a server
// that timed the session out keeps its subscriptions until their lifetime ends (OPC 10000-4,
// 5.13.7): a new session on a new channel takes them over, with the same user identity (servers
// refuse the transfer otherwise). Sequence numbers go on, so the Publish loop's gap detection and
// Republish recover what was sent to the dead session; no initial values, so nothing is repeated.
Status Client::transfer_subscriptions_to_new_session() {
  if (auto s = reopen_channel(); !s) return s;
  if (auto s = create_and_activate_session(); !s) return s;
  TransferSubscriptionsRequest req;
  req.subscription_ids = subscriptions_;
  req.send_initial_values = false;
  auto r = call<TransferSubscriptionsResponse>(req);
  // Past this point a new, empty session exists: a later resume() would reactivate it and look
  // like a success. Whatever went wrong, the subscriptions are not ours: recreate, mark the gap.
  if (!r)
    return Status(resonance::StatusCode::kFailedPrecondition,
                  "TransferSubscriptions in the new session: " + r.error().message());
  if (r->results.size() != subscriptions_.size())
    return Status(resonance::StatusCode::kInvalidArgument,
                  "TransferSubscriptionsResponse has " + std::to_string(r->results.size()) + " results for " +
                      std::to_string(subscriptions_.size()) + " subscriptions");
  std::string refused;
  for (std::size_t i = 0; i < subscriptions_.size(); ++i)
    if (r->results[i].status.is_bad())
      refused += (refused.empty() ? "" : ", ") + ("subscription " + std::to_string(subscriptions_[i]) + ": " +
                                                  describe_status(r->results[i].status));
  if (!refused.empty()) return Status(resonance::StatusCode::kNotFound, "refused: " + refused);
  return Status::ok();
}

Status Client::open_transport() {
  boost::system::error_code ec;
  boost::asio::ip::tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(address_.host, std::to_string(address_.port), ec);
  if (ec)
    return channel_error("resolving " + address_.host + ": " + ec.message());
  boost::asio::connect(socket_, endpoints, ec);
  if (ec)
    return channel_error("connecting to " + options_.endpoint_url + ": " + ec.message());
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  Hello hello;
  hello.limits = options_.limits;
  hello.endpoint_url = options_.endpoint_url;
  if (auto s = write_all(encode_hello(hello)); !s) return fail(std::move(s));
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms);
  auto chunk = receive_chunk(deadline);
  if (!chunk) return fail(chunk.error());
  if (!*chunk) return fail(channel_error("no ACK from " + options_.endpoint_url + " within " +
                                         std::to_string(options_.request_timeout_ms) + " ms"));
  const auto& bytes = **chunk;
  if (bytes[0] == 'E') {
    auto e = decode_transport_error(bytes);
    if (!e) return fail(e.error());
    return fail(channel_error("server refused HEL: " + describe_status({e->status}) + " " + e->reason));
  }
  if (bytes[0] != 'A') return fail(channel_error("expected ACK after HEL"));
  auto ack = decode_acknowledge(bytes);
  if (!ack) return fail(ack.error());
  // The server's receive buffer bounds what we send; its send buffer bounds what we receive.
  limits_.send_buffer_size = std::min(options_.limits.send_buffer_size, ack->limits.receive_buffer_size);
  limits_.receive_buffer_size = std::min(options_.limits.receive_buffer_size, ack->limits.send_buffer_size);
  limits_.max_message_size = ack->limits.max_message_size;  // what the server accepts from us
  limits_.max_chunk_count = ack->limits.max_chunk_count;
  TransportLimits receive = options_.limits;  // what we accept: our own limits
  reassembler_ = Reassembler(receive);
  return Status::ok();
}

Status Client::write_all(std::span<const std::uint8_t> bytes) {
  boost::system::error_code ec;
  boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec) return channel_error("sending to " + options_.endpoint_url + ": " + ec.message());
  return Status::ok();
}

Result<std::optional<std::vector<std::uint8_t>>> Client::receive_chunk(Clock::time_point deadline) {
  using Out = std::optional<std::vector<std::uint8_t>>;
  std::uint8_t buf[65536];
  for (;;) {
    if (inbox_.size() >= kChunkHeaderSize) {
      auto h = parse_chunk_header(std::span(inbox_).first(kChunkHeaderSize), options_.limits.receive_buffer_size);
      if (!h) return error(fail(with_context(h.error(), "from " + options_.endpoint_url + ":")));
      if (inbox_.size() >= h->size) {
        std::vector<std::uint8_t> chunk(inbox_.begin(), inbox_.begin() + h->size);
        inbox_.erase(inbox_.begin(), inbox_.begin() + h->size);
        return Out(std::move(chunk));
      }
    }
    const auto now = Clock::now();
    if (now >= deadline) return Out();
    // Asio's blocking read ignores SO_RCVTIMEO (it polls again on EAGAIN), so wait with poll()
    // and read only when bytes are there: a silent server costs at most the deadline.
    const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::clamp<long long>(left_ms, 1, 1000)));
    if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    boost::system::error_code ec;
    const std::size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
    if (ec) return error(fail(channel_error("receiving from " + options_.endpoint_url + ": " + ec.message())));
    inbox_.insert(inbox_.end(), buf, buf + n);
  }
}

Result<std::optional<std::pair<std::uint32_t, ServiceMessage>>> Client::receive_message(Clock::time_point deadline) {
  using Out = std::optional<std::pair<std::uint32_t, ServiceMessage>>;
  for (;;) {
    auto chunk = receive_chunk(deadline);
    if (!chunk) return error(chunk.error());
    if (!*chunk) return Out();
    const auto& bytes = **chunk;
    std::span<const std::uint8_t> body;
    std::uint32_t request_id = 0;
    std::vector<std::uint8_t> whole;
    if (bytes[0] == 'E') {
      auto e = decode_transport_error(bytes);
      if (!e) return error(fail(e.error()));
      return error(fail(channel_error("server closed the connection: " + describe_status({e->status}) + " " + e->reason)));
    }
    if (bytes[0] == 'O' && security_ && security_->active) {
      auto o = decode_secured_open_chunk(bytes, security_->asymmetric());
      if (!o) return error(fail(with_context(o.error(), "from " + options_.endpoint_url + ":")));
      reassembler_.expect_sequence_after(o->sequence_number);
      whole = std::move(o->body);
      body = whole;
      request_id = o->request_id;
    } else if (bytes[0] == 'O') {
      auto o = parse_open_chunk(bytes);
      if (!o) return error(fail(o.error()));
      reassembler_.expect_sequence_after(o->sequence_number);
      body = o->body;
      request_id = o->request_id;
    } else {
      Bytes plain;
      if (security_ && security_->active) {
        auto p = unprotect(bytes);
        if (!p) return error(fail(with_context(p.error(), "from " + options_.endpoint_url + ":")));
        plain = std::move(*p);
      }
      auto c = parse_symmetric_chunk(plain.empty() ? std::span<const std::uint8_t>(bytes) : plain);
      if (!c) return error(fail(c.error()));
      if (c->channel_id != channel_id_)
        return error(fail(channel_error("MSG SecureChannelId at offset 8: " + std::to_string(c->channel_id) +
                                        " is not our channel " + std::to_string(channel_id_))));
      auto done = reassembler_.add(*c);
      if (!done) return error(fail(done.error()));
      if (!*done) continue;
      whole = std::move(**done);
      body = whole;
      request_id = c->request_id;
    }
    auto m = decode_message(body, options_.decode_limits);
    if (!m) return error(fail(with_context(m.error(), "response to request " + std::to_string(request_id) + ":")));
    return Out(std::pair{request_id, std::move(*m)});
  }
}

Result<std::uint32_t> Client::send(const ServiceMessage& message, RequestHeader& header) {
  header.authentication_token = authentication_token_;
  header.timestamp = DateTime::from_unix_ns(unix_now_ns());
  header.request_handle = next_request_handle_++;
  header.timeout_hint_ms = options_.request_timeout_ms;
  Writer w;
  encode_message(w, message);
  const std::uint32_t request_id = next_request_id_++;
  const bool is_open = std::holds_alternative<OpenSecureChannelRequest>(message);
  const bool secured = security_ && security_->active;
  if (is_open && secured) {
    auto chunk = encode_secured_open_chunk(channel_id_, send_sequence_, request_id, w.data(), security_->asymmetric());
    if (!chunk) return error(fail(std::move(chunk.error())));
    send_sequence_ = next_sequence_number(send_sequence_);
    if (auto s = write_all(*chunk); !s) return error(fail(std::move(s)));
  } else if (is_open) {
    auto chunk = encode_open_chunk(channel_id_, send_sequence_, request_id, w.data());
    send_sequence_ = next_sequence_number(send_sequence_);
    if (auto s = write_all(chunk); !s) return error(fail(std::move(s)));
  } else {
    const auto type = std::holds_alternative<CloseSecureChannelRequest>(message) ? MessageType::kClose
                                                                                : MessageType::kMessage;
    if (limits_.max_message_size != 0 && w.size() > limits_.max_message_size)
      return error(resonance::StatusCode::kResourceExhausted,
                   std::string(message_name(message)) + " of " + std::to_string(w.size()) +
                       " bytes exceeds the server's MaxMessageSize " + std::to_string(limits_.max_message_size));
    const ChunkSecurity mode = secured ? options_.security.mode : ChunkSecurity::kNone;
    auto chunks = encode_symmetric_chunks(type, channel_id_, token_id_, send_sequence_, request_id, w.data(),
                                          limits_.send_buffer_size, limits_.max_chunk_count,
                                          symmetric_max_body(mode, limits_.send_buffer_size));
    if (!chunks) return error(chunks.error());
    for (const auto& c : *chunks) {
      if (!secured) {
        if (auto s = write_all(c); !s) return error(fail(std::move(s)));
        continue;
      }
      auto protected_chunk = protect_symmetric_chunk(mode, security_->current->client, c);
      if (!protected_chunk) return error(fail(std::move(protected_chunk.error())));
      if (auto s = write_all(*protected_chunk); !s) return error(fail(std::move(s)));
    }
  }
  ++counters_.requests;
  return request_id;
}

Result<ServiceMessage> Client::wait_for(std::uint32_t request_id, std::string_view what) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms);
  for (;;) {
    auto m = receive_message(deadline);
    if (!m) return error(m.error());
    if (!*m)
      return error(fail(Status(resonance::StatusCode::kUnavailable,
                               std::string(what) + ": no response within " +
                                   std::to_string(options_.request_timeout_ms) + " ms")));
    auto& [id, message] = **m;
    if (id == request_id) return std::move(message);
    auto it = std::find(publish_outstanding_.begin(), publish_outstanding_.end(), id);
    if (it != publish_outstanding_.end()) {
      publish_outstanding_.erase(it);
      if (auto* p = std::get_if<PublishResponse>(&message)) {
        publish_queue_.push_back(std::move(*p));
        continue;
      }
      // A ServiceFault for a Publish (e.g. BadNoSubscription): nothing to hand out.
      continue;
    }
    ++counters_.dropped_responses;  // late answers after a timeout or a deleted subscription
  }
}

Status Client::open_channel(SecurityTokenRequestType type) {
  OpenSecureChannelRequest req;
  req.request_type = type;
  const bool secured = security_ && security_->active;
  req.security_mode = secured ? wire_mode(options_.security.mode) : MessageSecurityMode::kNone;
  if (secured) {
    security_->client_nonce = random_bytes(kBasic256Sha256NonceSize);
    req.client_nonce = to_byte_string(security_->client_nonce);
  }
  req.requested_lifetime_ms = options_.channel_lifetime_ms;
  auto resp = call<OpenSecureChannelResponse>(req);
  if (!resp) return fail(with_context(resp.error(), "opening the secure channel:"));
  channel_id_ = resp->security_token.channel_id;
  token_id_ = resp->security_token.token_id;
  if (secured) {
    const auto server_nonce = bytes_of(resp->server_nonce);
    if (server_nonce.size() != kBasic256Sha256NonceSize)
      return fail(channel_error("OpenSecureChannelResponse ServerNonce has " + std::to_string(server_nonce.size()) +
                                " bytes, Basic256Sha256 needs " + std::to_string(kBasic256Sha256NonceSize)));
    // Our keys from (ServerNonce, ClientNonce), the server's from (ClientNonce, ServerNonce): 6.7.5.
    Token t{token_id_, derive_keys(server_nonce, security_->client_nonce),
            derive_keys(security_->client_nonce, server_nonce)};
    // After a renewal we send with the new token at once; the server may still answer under the
    // old one until it sees ours, so its keys stay until then.
    if (type == SecurityTokenRequestType::kRenew) security_->previous = std::move(security_->current);
    else security_->previous.reset();
    security_->current = std::move(t);
  }
  const auto lifetime = std::chrono::milliseconds(std::max<std::uint32_t>(resp->security_token.revised_lifetime_ms, 1000));
  token_renew_at_ = Clock::now() + lifetime * 3 / 4;
  if (type == SecurityTokenRequestType::kRenew) ++counters_.channel_renewals;
  return Status::ok();
}

Status Client::renew_channel_if_due() {
  if (Clock::now() < token_renew_at_) return Status::ok();
  return open_channel(SecurityTokenRequestType::kRenew);
}

Status Client::create_and_activate_session() {
  CreateSessionRequest create;
  create.client_description.application_uri = UaString("urn:resonance:opcua-client");
  create.client_description.product_uri = UaString("urn:resonance");
  create.client_description.application_name = LocalizedText{UaString("en"), UaString("Resonance")};
  create.client_description.application_type = ApplicationType::kClient;
  create.endpoint_url = UaString(options_.endpoint_url);
  create.session_name = UaString(options_.session_name);
  create.requested_session_timeout_ms = options_.session_timeout_ms;
  create.max_response_message_size = options_.limits.max_message_size;
  const bool secured = security_ && security_->active;
  Bytes session_client_nonce;
  if (secured) {
    // The server signs our certificate + nonce (proof it holds its key); node-opcua and others
    // also insist that ApplicationUri matches the certificate's subjectAltName URI.
    session_client_nonce = random_bytes(kBasic256Sha256NonceSize);
    create.client_nonce = to_byte_string(session_client_nonce);
    create.client_certificate = to_byte_string(security_->own_certificate.der);
    if (auto uri = security_->own_certificate.application_uri(); !uri.empty())
      create.client_description.application_uri = UaString(uri);
  }
  auto created = call<CreateSessionResponse>(create);
  if (!created) return fail(created.error());
  session_id_ = created->session_id;
  authentication_token_ = created->authentication_token;
  const auto server_nonce = bytes_of(created->server_nonce);
  if (secured) {
    const auto& server_cert = *security_->server_certificate;
    const auto announced = bytes_of(created->server_certificate);
    if (announced.size() < server_cert.der.size() ||
        !std::equal(server_cert.der.begin(), server_cert.der.end(), announced.begin()))
      return fail(Status(resonance::StatusCode::kFailedPrecondition,
                         "CreateSessionResponse ServerCertificate is not the endpoint's certificate " +
                             server_cert.thumbprint_hex()));
    if (created->server_signature.algorithm.view() != kRsaSha256Uri ||
        !rsa_verify_sha256(server_cert.public_key(),
                           concat(security_->own_certificate.der, session_client_nonce),
                           bytes_of(created->server_signature.signature)))
      return fail(Status(resonance::StatusCode::kFailedPrecondition,
                         "CreateSessionResponse ServerSignature (algorithm \"" +
                             std::string(created->server_signature.algorithm.view()) +
                             "\") does not verify with the server certificate " + server_cert.thumbprint_hex()));
    if (server_nonce.size() < kBasic256Sha256NonceSize)
      return fail(Status(resonance::StatusCode::kFailedPrecondition,
                         "CreateSessionResponse ServerNonce has " + std::to_string(server_nonce.size()) +
                             " bytes, at least 32 are required"));
  }

  // The user token policy comes from the server's endpoint for our policy and mode.
  const auto channel_mode = secured ? wire_mode(options_.security.mode) : MessageSecurityMode::kNone;
  const std::string_view channel_policy = secured ? kSecurityPolicyBasic256Sha256 : kSecurityPolicyNone;
  const UserTokenType wanted = options_.user ? UserTokenType::kUserName : UserTokenType::kAnonymous;
  std::optional<std::string> policy_id;
  bool encrypt_password = false;
  for (const auto& ep : created->server_endpoints) {
    if (ep.security_mode != channel_mode || ep.security_policy_uri.view() != channel_policy) continue;
    for (const auto& p : ep.user_identity_tokens) {
      if (p.token_type != wanted || policy_id) continue;
      // A username policy's SecurityPolicyUri (empty = the channel's) says how to protect the
      // password: None = plain bytes, Basic256Sha256 = RSA-OAEP with the server certificate.
      const auto uri = p.security_policy_uri.view().empty() ? channel_policy : p.security_policy_uri.view();
      if (wanted == UserTokenType::kUserName) {
        if (uri == kSecurityPolicyBasic256Sha256 && secured) encrypt_password = true;
        else if (uri != kSecurityPolicyNone) continue;
      }
      policy_id = p.policy_id.value.value_or("");
    }
  }
  if (!policy_id)
    return fail(Status(resonance::StatusCode::kFailedPrecondition,
                       std::string("the server offers no ") +
                           (options_.user ? "username policy we can serve (plain, or Basic256Sha256 on a secured channel)"
                                          : "anonymous user token policy") +
                           " on its " + std::string(channel_policy) + " " + std::string(mode_name(channel_mode)) +
                           " endpoint"));
  session_user_policy_id_ = *policy_id;
  session_encrypt_password_ = encrypt_password;
  const auto announced_certificate = bytes_of(created->server_certificate);
  session_server_certificate_.assign(announced_certificate.begin(), announced_certificate.end());
  session_server_nonce_.assign(server_nonce.begin(), server_nonce.end());
  return activate_session();
}

// ActivateSession for the session we hold: after CreateSession, and again on a new channel after a
// connection loss (resume). Each response's ServerNonce is the one the next activation signs.
Status Client::activate_session() {
  const bool secured = security_ && security_->active;
  const std::span<const std::uint8_t> server_nonce = session_server_nonce_;
  const std::optional<std::string> policy_id = session_user_policy_id_;
  const bool encrypt_password = session_encrypt_password_;
  ActivateSessionRequest activate;
  activate.locale_ids = {UaString("en")};
  if (secured) {
    // Proof of possession of our key, bound to this session: sign ServerCertificate + ServerNonce.
    auto sig = rsa_sign_sha256(security_->own_key.get(), concat(session_server_certificate_, server_nonce));
    if (!sig) return fail(with_context(sig.error(), "ActivateSession ClientSignature:"));
    activate.client_signature.algorithm = UaString(std::string(kRsaSha256Uri));
    activate.client_signature.signature = to_byte_string(*sig);
  }
  if (options_.user) {
    UserNameIdentityToken token;
    token.policy_id = UaString(*policy_id);
    token.user_name = UaString(options_.user->user_name);
    if (encrypt_password) {
      // OPC 10000-4, 7.41.2.2: UInt32 length of (password + nonce), password, ServerNonce,
      // encrypted with the server's public key.
      const auto& pw = options_.user->password;
      Writer secret;
      secret.u32(static_cast<std::uint32_t>(pw.size() + server_nonce.size()));
      secret.bytes(std::string_view(pw));
      secret.bytes(server_nonce);
      Bytes plain = secret.take();
      auto cipher = rsa_oaep_encrypt(security_->server_certificate->public_key(), plain);
      OPENSSL_cleanse(plain.data(), plain.size());
      if (!cipher) return fail(with_context(cipher.error(), "encrypting the password:"));
      token.password = to_byte_string(*cipher);
      token.encryption_algorithm = UaString(std::string(kRsaOaepUri));
    } else {
      token.password = ByteString{options_.user->password};
    }
    activate.user_identity_token = make_extension_object(token);
  } else {
    activate.user_identity_token = make_extension_object(AnonymousIdentityToken{UaString(*policy_id)});
  }
  auto activated = call<ActivateSessionResponse>(activate);
  if (!activated) return fail(with_context(activated.error(), "activating the session:"));
  const auto next_nonce = bytes_of(activated->server_nonce);
  session_server_nonce_.assign(next_nonce.begin(), next_nonce.end());
  session_open_ = true;
  return Status::ok();
}

Result<std::vector<DataValue>> Client::read(std::vector<ReadValueId> nodes) {
  ReadRequest req;
  req.timestamps_to_return = TimestampsToReturn::kBoth;
  req.nodes_to_read = std::move(nodes);
  auto resp = call<ReadResponse>(req);
  if (!resp) return error(resp.error());
  if (resp->results.size() != req.nodes_to_read.size())
    return error(resonance::StatusCode::kInvalidArgument,
                 "ReadResponse has " + std::to_string(resp->results.size()) + " results for " +
                     std::to_string(req.nodes_to_read.size()) + " nodes");
  return std::move(resp->results);
}

Result<DataValue> Client::read_value(const NodeId& node) {
  auto r = read({ReadValueId{node, kAttributeValue, {}, {}}});
  if (!r) return error(r.error());
  return std::move(r->front());
}

Result<std::vector<StatusCode>> Client::write(std::vector<WriteValue> nodes) {
  if (!options_.allow_write)
    return error(resonance::StatusCode::kFailedPrecondition,
                 "writing to " + options_.endpoint_url + " is not allowed (the connector's allow_write switch is off)");
  WriteRequest req;
  req.nodes_to_write = std::move(nodes);
  auto resp = call<WriteResponse>(req);
  if (!resp) return error(resp.error());
  return std::move(resp->results);
}

Result<std::vector<ReferenceDescription>> Client::browse(const BrowseDescription& what,
                                                         std::uint32_t max_references_per_request) {
  BrowseRequest req;
  req.requested_max_references_per_node = max_references_per_request;
  req.nodes_to_browse = {what};
  auto resp = call<BrowseResponse>(req);
  if (!resp) return error(resp.error());
  if (resp->results.size() != 1)
    return error(resonance::StatusCode::kInvalidArgument, "BrowseResponse without exactly one result");
  std::vector<ReferenceDescription> out = std::move(resp->results[0].references);
  StatusCode status = resp->results[0].status;
  ByteString continuation = std::move(resp->results[0].continuation_point);
  // A server may hand out continuation points forever; stop at a generous bound.
  for (int round = 0; status.is_good() && continuation.bytes && !continuation.bytes->empty(); ++round) {
    if (round == 100000)
      return error(resonance::StatusCode::kResourceExhausted, "browsing " + to_string(what.node_id) + ": too many BrowseNext rounds");
    BrowseNextRequest next;
    next.continuation_points = {continuation};
    auto more = call<BrowseNextResponse>(next);
    if (!more) return error(more.error());
    if (more->results.size() != 1)
      return error(resonance::StatusCode::kInvalidArgument, "BrowseNextResponse without exactly one result");
    auto& r = more->results[0];
    std::move(r.references.begin(), r.references.end(), std::back_inserter(out));
    status = r.status;
    continuation = std::move(r.continuation_point);
  }
  if (status.is_bad())
    return error(resonance::StatusCode::kNotFound, "browsing " + to_string(what.node_id) + ": " + describe_status(status));
  return out;
}

Result<std::vector<BrowsePathResult>> Client::translate(std::vector<BrowsePath> paths) {
  TranslateBrowsePathsToNodeIdsRequest req;
  req.browse_paths = std::move(paths);
  auto resp = call<TranslateBrowsePathsToNodeIdsResponse>(req);
  if (!resp) return error(resp.error());
  return std::move(resp->results);
}

Result<NodeId> Client::resolve_path(const NodeId& start, const std::vector<QualifiedName>& path) {
  BrowsePath bp;
  bp.starting_node = start;
  std::string shown = to_string(start);
  for (const auto& name : path) {
    RelativePathElement e;
    e.target_name = name;
    bp.relative_path.elements.push_back(e);
    shown += "/" + std::to_string(name.ns) + ":" + std::string(name.name.view());
  }
  auto r = translate({bp});
  if (!r) return error(r.error());
  if (r->size() != 1 || (*r)[0].status.is_bad() || (*r)[0].targets.empty())
    return error(resonance::StatusCode::kNotFound,
                 "browse path " + shown + " not found" +
                     (r->size() == 1 ? ": " + describe_status((*r)[0].status) : std::string()));
  return (*r)[0].targets[0].target_id.node;
}

Result<std::vector<std::string>> Client::namespace_array() {
  auto v = read_value(NodeId::numeric(0, kNamespaceArray));
  if (!v) return error(v.error());
  if (!v->value || v->value->type != BuiltinType::kString)
    return error(resonance::StatusCode::kInvalidArgument, "NamespaceArray (i=2255) is not a String array");
  std::vector<std::string> out;
  out.reserve(v->value->values.size());
  for (const auto& uri : v->value->values) out.emplace_back(std::get<UaString>(uri).view());
  return out;
}

Result<std::uint16_t> Client::namespace_index(std::string_view uri) {
  auto all = namespace_array();
  if (!all) return error(all.error());
  for (std::size_t i = 0; i < all->size() && i <= 0xFFFF; ++i) {
    if ((*all)[i] == uri) return static_cast<std::uint16_t>(i);
  }
  return error(resonance::StatusCode::kNotFound, "namespace \"" + std::string(uri) + "\" is not in the server's NamespaceArray");
}

Status Client::close() {
  if (broken_ || !socket_.is_open()) return Status::ok();
  Status result;
  if (session_open_) {
    CloseSessionRequest req;
    req.delete_subscriptions = true;
    auto r = call<CloseSessionResponse>(req);
    session_open_ = false;
    if (!r) result = r.error();
  }
  if (!broken_) {
    CloseSecureChannelRequest clo;
    ServiceMessage m(std::move(clo));
    (void)send(m, std::get<CloseSecureChannelRequest>(m).header);  // no response by design
  }
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  return result;
}


}  // namespace resonance::opcua
