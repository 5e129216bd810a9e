#pragma once
// A deliberately dumb HTTP client on POSIX sockets: it can send any bytes (malformed requests
// included) and never hangs a test, thanks to a receive timeout.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace resonance::api::testing {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers, lower-cased header names not guaranteed
  std::string body;
  std::string header(std::string_view name) const {
    // Case-insensitive search for "\r\nName: value".
    std::string lower_head, lower_name = "\r\n" + std::string(name) + ":";
    for (char c : head) lower_head += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower_head.find(lower_name);
    if (at == std::string::npos) return {};
    auto start = at + lower_name.size();
    while (start < head.size() && head[start] == ' ') ++start;
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

class RawClient {
 public:
  explicit RawClient(std::uint16_t port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response framed by Content-Length; nullopt on timeout or close before it is complete.
  std::optional<RawResponse> read_response(bool head_request = false) {
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    RawResponse r;
    r.head = buffer_.substr(0, header_end + 2);
    buffer_.erase(0, header_end + 4);
    if (r.head.size() >= 12) r.status = std::stoi(r.head.substr(9, 3));
    const std::string length = r.header("Content-Length");
    const std::size_t size = head_request || length.empty() ? 0 : std::stoul(length);
    while (buffer_.size() < size)
      if (!fill()) return std::nullopt;
    r.body = buffer_.substr(0, size);
    buffer_.erase(0, size);
    return r;
  }

  // Everything until the server closes (or the timeout); `closed` tells which.
  std::string read_until_close(bool* closed = nullptr) {
    bool eof = false;
    while (fill(&eof)) {
    }
    if (closed) *closed = eof;
    std::string out = std::move(buffer_);
    buffer_.clear();
    return out;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

 private:
  bool fill(bool* eof = nullptr) {
    char chunk[4096];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      if (eof) *eof = n == 0 || errno == ECONNRESET;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

inline std::string get_request(std::string_view target, bool keep_alive = true,
                               std::string_view method = "GET") {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

}  // namespace resonance::api::testing
