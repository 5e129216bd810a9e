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
#include <functional>

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

 private:
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
};

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
  c.duration_s = options_.keep_alive_s;
  c.client_id = options_.client_id;
  auto reply = request(c, c, [](const Message& m) { return std::holds_alternative<Connack>(m); },
                       "CONNECT");
  if (!reply) return reply.error();
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
  Publish p;
  p.flags.qos = 1;
  p.topic_id = topic_id;
  p.msg_id = next_msg_id();
  p.data.assign(payload.begin(), payload.end());
  Publish dup = p;
  dup.flags.dup = true;
  auto reply = request(p, dup, [&](const Message& m) {
    const auto* ack = std::get_if<Puback>(&m);
    return ack && ack->msg_id == p.msg_id;
  }, "PUBLISH");
  if (!reply) return error(reply.error());
  switch (std::get<Puback>(*reply).return_code) {
    case ReturnCode::kAccepted: return PublishOutcome::kAccepted;
    case ReturnCode::kCongestion: return PublishOutcome::kCongestion;
    case ReturnCode::kInvalidTopicId: return PublishOutcome::kInvalidTopicId;
    case ReturnCode::kNotSupported: return PublishOutcome::kNotSupported;
  }
  return PublishOutcome::kNotSupported;
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
