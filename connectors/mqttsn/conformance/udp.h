#pragma once
// A blocking UDP socket for the conformance tools (POSIX; IPv4 and IPv6). Not thread-safe.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::mqttsn::conformance {

struct UdpAddress {
  sockaddr_storage storage{};
  socklen_t size = 0;
  std::string to_string() const;  // "127.0.0.1:1884", "[::1]:1884"
  bool operator==(const UdpAddress& o) const;
};

// "host:port" or "[v6]:port"; host must be a numeric address or a resolvable name.
Result<UdpAddress> parse_host_port(std::string_view text);
Result<UdpAddress> make_address(std::string_view host, std::uint16_t port);

class UdpSocket {
 public:
  // Bound to `local` (port 0 = ephemeral); the family follows `local`.
  static Result<UdpSocket> bind(const UdpAddress& local);
  // An ephemeral socket of the family of `peer`.
  static Result<UdpSocket> for_peer(const UdpAddress& peer);
  UdpSocket(UdpSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  ~UdpSocket();

  Status send_to(const UdpAddress& to, std::span<const std::uint8_t> bytes);
  // nullopt on timeout.
  std::optional<std::vector<std::uint8_t>> receive(int timeout_ms, UdpAddress* from = nullptr);
  std::uint16_t local_port() const;

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace resonance::mqttsn::conformance
