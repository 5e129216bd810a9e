// The synchronous MQTT-SN client over a connected POSIX UDP socket: connect(2) makes the kernel
// drop datagrams from anyone but the gateway, and poll(2) gives every wait a deadline.

#include "connectors/mqttsn/client.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "connectors/mqttsn/codec.h"

namespace resonance::mqttsn {
namespace {

using Clock = std::chrono::steady_clock;

class UdpClient final : public Client {
 public:
  UdpClient(int fd, ClientOptions options) : fd_(fd), options_(std::move(options)) {}
  ~UdpClient() override { ::close(fd_); }
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  Status do_connect();
  Result<std::uint16_t> register_topic(std::string_view topic_name) override;
  Status publish_qos0(std::uint16_t topic_id, std::span<const std::uint8_t> payload) override;
  Result<PublishOutcome> publish_qos1(std::uint16_t topic_id,
                                      std::span<const std::uint8_t> payload) override;
  Status ping() override;
  Status disconnect() override;
  Result<PublishOutcome> publish(std::uint16_t topic_id, std::uint8_t topic_id_type, int qos,
                                 std::span<const std::uint8_t> payload) override;
  Result<SubscribeResult> subscribe(std::string_view topic_filter, int qos) override;
  Result<SubscribeResult> subscribe_id(std::uint8_t topic_id_type, std::uint16_t topic_id,
                                       int qos) override;
  Status unsubscribe(std::string_view topic_filter) override;
  Result<std::optional<Received>> receive(int timeout_ms) override;
  Status update_will_topic(std::string_view topic, int qos) override;
  Status update_will_message(std::string_view message) override;
  Status sleep(std::uint16_t duration_s) override;
  Result<std::vector<Received>> wake() override;

 private:
  // Answers what the gateway starts on its own; true if `m` was such a message (consumed).
  bool handle_unsolicited(const Message& m);
  Result<SubscribeResult> do_subscribe(const Subscribe& s);
  static PublishOutcome outcome(ReturnCode rc);
  // Stores in `out` the first message for which `match` is true and returns true, or returns
  // false at the deadline. Other datagrams (late replies to earlier requests, malformed bytes)
  // are skipped. (An out-parameter rather than optional<Message>: GCC 12 warns falsely on it.)
  using Matcher = std::function<bool(const Message&)>;
  Result<bool> wait_for(const Matcher& match, Clock::time_point deadline, Message& out);
  Status send(const Message& message);
  // Sends `first` then, after each retry timeout, `again`; up to max_retries retransmissions.
  Result<Message> request(const Message& first, const Message& again, const Matcher& match,
                          std::string_view what);
  std::uint16_t next_msg_id() {
    if (++msg_id_ == 0) msg_id_ = 1;  // 0 is not a valid MsgId
    return msg_id_;
  }

  int fd_;
  ClientOptions options_;
  std::uint16_t msg_id_ = 0;
  std::array<std::uint8_t, 65536> buffer_{};
  std::map<std::uint16_t, std::string> gw_topics_;  // ids the gateway REGISTERed or SUBACKed
  std::set<std::uint16_t> qos2_in_;                 // inbound QoS 2 awaiting PUBREL
  std::deque<Received> inbox_;
};

PublishOutcome UdpClient::outcome(ReturnCode rc) {
  switch (rc) {
    case ReturnCode::kAccepted: return PublishOutcome::kAccepted;
    case ReturnCode::kCongestion: return PublishOutcome::kCongestion;
    case ReturnCode::kInvalidTopicId: return PublishOutcome::kInvalidTopicId;
    case ReturnCode::kNotSupported: return PublishOutcome::kNotSupported;
  }
  return PublishOutcome::kNotSupported;
}

bool UdpClient::handle_unsolicited(const Message& m) {
  if (const auto* r = std::get_if<Register>(&m)) {
    gw_topics_[r->topic_id] = r->topic_name;
    (void)send(Regack{.topic_id = r->topic_id, .msg_id = r->msg_id, .return_code = ReturnCode::kAccepted});
    return true;
  }
  if (const auto* p = std::get_if<Publish>(&m)) {
    Received in;
    in.topic_id = p->topic_id;
    in.topic_id_type = static_cast<std::uint8_t>(p->flags.topic_id_type);
    in.qos = p->flags.qos;
    in.dup = p->flags.dup;
    in.retain = p->flags.retain;
    in.payload = p->data;
    if (p->flags.topic_id_type == TopicIdType::kShortName) {
      in.topic = {static_cast<char>(p->topic_id >> 8), static_cast<char>(p->topic_id & 0xff)};
    } else if (p->flags.topic_id_type == TopicIdType::kNormal) {
      auto it = gw_topics_.find(p->topic_id);
      if (it == gw_topics_.end()) {
        // Spec 6.6: an unknown id is refused with rc 0x02.
        (void)send(Puback{.topic_id = p->topic_id, .msg_id = p->msg_id,
                          .return_code = ReturnCode::kInvalidTopicId});
        return true;
      }
      in.topic = it->second;
    }
    bool fresh = true;
    if (p->flags.qos == 1) {
      (void)send(Puback{.topic_id = p->topic_id, .msg_id = p->msg_id, .return_code = ReturnCode::kAccepted});
    } else if (p->flags.qos == 2) {
      fresh = qos2_in_.insert(p->msg_id).second;  // a retransmission before PUBREL is not new
      (void)send(Pubrec{.msg_id = p->msg_id});
    }
    if (fresh) inbox_.push_back(std::move(in));
    return true;
  }
  if (const auto* r = std::get_if<Pubrel>(&m)) {
    qos2_in_.erase(r->msg_id);
    (void)send(Pubcomp{.msg_id = r->msg_id});
    return true;
  }
  return false;
}

Status UdpClient::send(const Message& message) {
  auto bytes = encode(message);
  if (!bytes) return bytes.error();
  const ssize_t n = ::send(fd_, bytes->data(), bytes->size(), 0);
  if (n < 0)
    return Status(StatusCode::kIoError,
                  fmt::format("mqttsn client: send {}: {}", msg_type_name(type_of(message)),
                              std::strerror(errno)));
  return Status::ok();
}

Result<bool> UdpClient::wait_for(const Matcher& match, Clock::time_point deadline, Message& out) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return error(StatusCode::kIoError, fmt::format("mqttsn client: poll: {}", std::strerror(errno)));
    }
    if (ready == 0) return false;
    const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
    if (n < 0) {
      // ECONNREFUSED: an ICMP port-unreachable from an absent gateway; keep waiting for the
      // deadline so retries behave the same as with a silent gateway.
      if (errno == EINTR || errno == ECONNREFUSED || errno == EAGAIN) continue;
      return error(StatusCode::kIoError, fmt::format("mqttsn client: recv: {}", std::strerror(errno)));
    }
    auto message = decode(std::span<const std::uint8_t>(buffer_.data(), static_cast<std::size_t>(n)));
    if (message && handle_unsolicited(*message)) continue;
    if (message && match(*message)) {
      out = std::move(*message);
      return true;
    }
  }
}

Result<Message> UdpClient::request(const Message& first, const Message& again, const Matcher& match,
                                   std::string_view what) {
  const auto is_disconnect = [](const Message& m) { return std::holds_alternative<Disconnect>(m); };
  const bool expecting_disconnect = std::holds_alternative<Disconnect>(first);
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    if (Status s = send(attempt == 0 ? first : again); !s) return error(std::move(s));
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.retry_timeout_ms);
    Message reply;
    auto got = wait_for([&](const Message& m) { return match(m) || is_disconnect(m); }, deadline, reply);
    if (!got) return error(got.error());
    if (!*got) continue;
    if (!expecting_disconnect && is_disconnect(reply))
      return error(StatusCode::kFailedPrecondition,
                   fmt::format("mqttsn client: gateway answered {} with DISCONNECT (session gone?)", what));
    return reply;
  }
  return error(StatusCode::kUnavailable,
               fmt::format("mqttsn client: no answer to {} from {}:{} after {} retries", what,
                           options_.host, options_.port, options_.max_retries));
}

Status UdpClient::do_connect() {
  Connect c;
  c.flags.clean_session = options_.clean_session;
  c.flags.will = !options_.will_topic.empty();
  c.duration_s = options_.keep_alive_s;
  c.client_id = options_.client_id;
  const auto first_answer = [&](const Message& m) {
    return std::holds_alternative<Connack>(m) || (c.flags.will && std::holds_alternative<WillTopicReq>(m));
  };
  auto reply = request(c, c, first_answer, "CONNECT");
  if (!reply) return reply.error();
  if (std::holds_alternative<WillTopicReq>(*reply)) {
    WillTopic wt;
    wt.flags.qos = static_cast<std::int8_t>(options_.will_qos);
    wt.flags.retain = options_.will_retain;
    wt.topic = options_.will_topic;
    auto req = request(wt, wt, [](const Message& m) { return std::holds_alternative<WillMsgReq>(m); },
                       "WILLTOPIC");
    if (!req) return req.error();
    WillMsg wm;
    wm.message.assign(options_.will_message.begin(), options_.will_message.end());
    reply = request(wm, wm, [](const Message& m) { return std::holds_alternative<Connack>(m); }, "WILLMSG");
    if (!reply) return reply.error();
  }
  const auto rc = std::get<Connack>(*reply).return_code;
  if (rc != ReturnCode::kAccepted)
    return Status(rc == ReturnCode::kCongestion ? StatusCode::kResourceExhausted
                                                : StatusCode::kFailedPrecondition,
                  fmt::format("mqttsn client: CONNECT refused with rc 0x{:02x}",
                              static_cast<int>(rc)));
  return Status::ok();
}

Result<std::uint16_t> UdpClient::register_topic(std::string_view topic_name) {
  const Register r{.topic_id = 0, .msg_id = next_msg_id(), .topic_name = std::string(topic_name)};
  auto reply = request(r, r, [&](const Message& m) {
    const auto* ack = std::get_if<Regack>(&m);
    return ack && ack->msg_id == r.msg_id;
  }, "REGISTER");
  if (!reply) return error(reply.error());
  const auto& ack = std::get<Regack>(*reply);
  if (ack.return_code != ReturnCode::kAccepted)
    return error(ack.return_code == ReturnCode::kCongestion ? StatusCode::kResourceExhausted
                                                            : StatusCode::kInvalidArgument,
                 fmt::format("mqttsn client: REGISTER '{}' refused with rc 0x{:02x}", topic_name,
                             static_cast<int>(ack.return_code)));
  return ack.topic_id;
}

Status UdpClient::publish_qos0(std::uint16_t topic_id, std::span<const std::uint8_t> payload) {
  Publish p;
  p.topic_id = topic_id;
  p.data.assign(payload.begin(), payload.end());
  return send(p);
}

Result<PublishOutcome> UdpClient::publish_qos1(std::uint16_t topic_id,
                                               std::span<const std::uint8_t> payload) {
  return publish(topic_id, 0, 1, payload);
}

Result<PublishOutcome> UdpClient::publish(std::uint16_t topic_id, std::uint8_t topic_id_type, int qos,
                                          std::span<const std::uint8_t> payload) {
  Publish p;
  p.flags.qos = static_cast<std::int8_t>(qos);
  p.flags.topic_id_type = static_cast<TopicIdType>(topic_id_type & 0x03);
  p.topic_id = topic_id;
  p.data.assign(payload.begin(), payload.end());
  if (qos <= 0) {
    if (Status s = send(p); !s) return error(std::move(s));
    return PublishOutcome::kAccepted;
  }
  p.msg_id = next_msg_id();
  Publish dup = p;
  dup.flags.dup = true;
  auto reply = request(p, dup, [&](const Message& m) {
    if (const auto* ack = std::get_if<Puback>(&m)) return ack->msg_id == p.msg_id;
    if (const auto* rec = std::get_if<Pubrec>(&m)) return qos == 2 && rec->msg_id == p.msg_id;
    return false;
  }, "PUBLISH");
  if (!reply) return error(reply.error());
  if (const auto* ack = std::get_if<Puback>(&*reply)) return outcome(ack->return_code);
  const Pubrel rel{.msg_id = p.msg_id};
  auto comp = request(rel, rel, [&](const Message& m) {
    const auto* c = std::get_if<Pubcomp>(&m);
    return c && c->msg_id == p.msg_id;
  }, "PUBREL");
  if (!comp) return error(comp.error());
  return PublishOutcome::kAccepted;
}

Result<SubscribeResult> UdpClient::do_subscribe(const Subscribe& s) {
  auto reply = request(s, s, [&](const Message& m) {
    const auto* ack = std::get_if<Suback>(&m);
    return ack && ack->msg_id == s.msg_id;
  }, "SUBSCRIBE");
  if (!reply) return error(reply.error());
  const auto& ack = std::get<Suback>(*reply);
  SubscribeResult r{.topic_id = ack.topic_id,
                    .granted_qos = ack.flags.qos,
                    .return_code = static_cast<std::uint8_t>(ack.return_code)};
  if (ack.return_code == ReturnCode::kAccepted && s.flags.topic_id_type == TopicIdType::kNormal &&
      ack.topic_id != 0)
    gw_topics_[ack.topic_id] = s.topic_name;
  return r;
}

Result<SubscribeResult> UdpClient::subscribe(std::string_view topic_filter, int qos) {
  Subscribe s;
  s.flags.qos = static_cast<std::int8_t>(qos);
  s.msg_id = next_msg_id();
  s.topic_name = std::string(topic_filter);
  return do_subscribe(s);
}

Result<SubscribeResult> UdpClient::subscribe_id(std::uint8_t topic_id_type, std::uint16_t topic_id,
                                                int qos) {
  Subscribe s;
  s.flags.qos = static_cast<std::int8_t>(qos);
  s.flags.topic_id_type = static_cast<TopicIdType>(topic_id_type & 0x03);
  s.msg_id = next_msg_id();
  s.topic_id = topic_id;
  return do_subscribe(s);
}

Status UdpClient::unsubscribe(std::string_view topic_filter) {
  Unsubscribe u;
  u.msg_id = next_msg_id();
  u.topic_name = std::string(topic_filter);
  auto reply = request(u, u, [&](const Message& m) {
    const auto* ack = std::get_if<Unsuback>(&m);
    return ack && ack->msg_id == u.msg_id;
  }, "UNSUBSCRIBE");
  return reply ? Status::ok() : reply.error();
}

Result<std::optional<Received>> UdpClient::receive(int timeout_ms) {
  if (inbox_.empty()) {
    Message ignored;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (inbox_.empty()) {
      auto got = wait_for([](const Message&) { return false; }, deadline, ignored);
      if (!got) return error(got.error());
      if (!*got) break;
    }
  }
  if (inbox_.empty()) return std::optional<Received>();
  Received r = std::move(inbox_.front());
  inbox_.pop_front();
  return std::optional<Received>(std::move(r));
}

Status UdpClient::update_will_topic(std::string_view topic, int qos) {
  WillTopicUpd u;
  u.flags.qos = static_cast<std::int8_t>(qos);
  u.topic = std::string(topic);
  auto reply = request(u, u, [](const Message& m) { return std::holds_alternative<WillTopicResp>(m); },
                       "WILLTOPICUPD");
  if (!reply) return reply.error();
  const auto rc = std::get<WillTopicResp>(*reply).return_code;
  if (rc != ReturnCode::kAccepted)
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("mqttsn client: WILLTOPICUPD refused with rc 0x{:02x}", static_cast<int>(rc)));
  return Status::ok();
}

Status UdpClient::update_will_message(std::string_view message) {
  WillMsgUpd u;
  u.message.assign(message.begin(), message.end());
  auto reply = request(u, u, [](const Message& m) { return std::holds_alternative<WillMsgResp>(m); },
                       "WILLMSGUPD");
  if (!reply) return reply.error();
  const auto rc = std::get<WillMsgResp>(*reply).return_code;
  if (rc != ReturnCode::kAccepted)
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("mqttsn client: WILLMSGUPD refused with rc 0x{:02x}", static_cast<int>(rc)));
  return Status::ok();
}

Status UdpClient::sleep(std::uint16_t duration_s) {
  const Disconnect d{.duration_s = duration_s};
  auto reply = request(d, d, [](const Message& m) { return std::holds_alternative<Disconnect>(m); },
                       "DISCONNECT(sleep)");
  return reply ? Status::ok() : reply.error();
}

Result<std::vector<Received>> UdpClient::wake() {
  const Pingreq p{.client_id = options_.client_id};
  auto reply = request(p, p, [](const Message& m) { return std::holds_alternative<Pingresp>(m); },
                       "PINGREQ(ClientId)");
  if (!reply) return error(reply.error());
  std::vector<Received> out(std::make_move_iterator(inbox_.begin()), std::make_move_iterator(inbox_.end()));
  inbox_.clear();
  return out;
}

Status UdpClient::ping() {
  auto reply = request(Pingreq{}, Pingreq{},
                       [](const Message& m) { return std::holds_alternative<Pingresp>(m); }, "PINGREQ");
  return reply ? Status::ok() : reply.error();
}

Status UdpClient::disconnect() {
  auto reply = request(Disconnect{}, Disconnect{},
                       [](const Message& m) { return std::holds_alternative<Disconnect>(m); },
                       "DISCONNECT");
  return reply ? Status::ok() : reply.error();
}

}  // namespace

Result<std::unique_ptr<Client>> Client::connect(const ClientOptions& options) {
  if (options.client_id.empty() || options.client_id.size() > kMaxClientIdBytes)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("mqttsn client: client_id is {} bytes, must be 1..{}",
                             options.client_id.size(), kMaxClientIdBytes));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (int rc = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("mqttsn client: resolve '{}': {}", options.host, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return error(StatusCode::kIoError, fmt::format("mqttsn client: socket: {}", std::strerror(errno)));
  if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    const int err = errno;
    ::close(fd);
    return error(StatusCode::kIoError, fmt::format("mqttsn client: connect {}:{}: {}", options.host,
                                                   options.port, std::strerror(err)));
  }
  auto client = std::make_unique<UdpClient>(fd, options);
  if (Status s = client->do_connect(); !s) return error(std::move(s));
  return std::unique_ptr<Client>(std::move(client));
}

}  // namespace resonance::mqttsn
