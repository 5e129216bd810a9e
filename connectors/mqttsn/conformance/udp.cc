#include "connectors/mqttsn/conformance/udp.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace resonance::mqttsn::conformance {

std::string UdpAddress::to_string() const {
  char host[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
  inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
  return fmt::format("{}:{}", host, ntohs(a->sin_port));
}

bool UdpAddress::operator==(const UdpAddress& o) const {
  return size == o.size && std::memcmp(&storage, &o.storage, size) == 0;
}

Result<UdpAddress> make_address(std::string_view host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  const std::string h(host);
  const std::string p = std::to_string(port);
  if (int rc = getaddrinfo(h.c_str(), p.c_str(), &hints, &res); rc != 0 || !res)
    return std::unexpected(Status(StatusCode::kInvalidArgument,
                                  fmt::format("address '{}': {}", h, gai_strerror(rc))));
  UdpAddress a;
  std::memcpy(&a.storage, res->ai_addr, res->ai_addrlen);
  a.size = res->ai_addrlen;
  freeaddrinfo(res);
  return a;
}

Result<UdpAddress> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos)
      return std::unexpected(Status(StatusCode::kInvalidArgument,
                                    fmt::format("expected [IPv6]:PORT, found '{}'", text)));
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return std::unexpected(Status(StatusCode::kInvalidArgument, fmt::format("expected HOST:PORT, found '{}'", text)));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || value > 65535) value = 70000;
    else value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (port.empty() || value == 0 || value > 65535)
    return std::unexpected(Status(StatusCode::kInvalidArgument,
                                  fmt::format("port '{}' in '{}': expected 1..65535", port, text)));
  return make_address(host, static_cast<std::uint16_t>(value));
}

Result<UdpSocket> UdpSocket::bind(const UdpAddress& local) {
  const int fd = ::socket(local.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(Status(StatusCode::kIoError, fmt::format("socket: {}", std::strerror(errno))));
  UdpSocket s(fd);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local.storage), local.size) != 0)
    return std::unexpected(Status(StatusCode::kIoError,
                                  fmt::format("bind {}: {}", local.to_string(), std::strerror(errno))));
  return s;
}

Result<UdpSocket> UdpSocket::for_peer(const UdpAddress& peer) {
  UdpAddress any;
  any.storage.ss_family = peer.storage.ss_family;
  any.size = peer.storage.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  return bind(any);
}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Status UdpSocket::send_to(const UdpAddress& to, std::span<const std::uint8_t> bytes) {
  if (::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to.storage), to.size) < 0)
    return {StatusCode::kIoError, fmt::format("sendto {}: {}", to.to_string(), std::strerror(errno))};
  return Status::ok();
}

std::optional<std::vector<std::uint8_t>> UdpSocket::receive(int timeout_ms, UdpAddress* from) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
  std::vector<std::uint8_t> buf(65536);
  UdpAddress a;
  a.size = sizeof a.storage;
  const auto n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&a.storage), &a.size);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  if (from) *from = a;
  return buf;
}

std::uint16_t UdpSocket::local_port() const {
  sockaddr_storage s{};
  socklen_t len = sizeof s;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&s), &len);
  return s.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&s)->sin6_port)
                                 : ntohs(reinterpret_cast<sockaddr_in*>(&s)->sin_port);
}

}  // namespace resonance::mqttsn::conformance
