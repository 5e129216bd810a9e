#pragma once
// A loopback TCP relay between a client and a server that a test can cut: cut() drops every
// connection it carries (both sides see the link die, the server keeps running), while it keeps
// accepting new ones. That is a network outage, unlike killing the server.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace resonance::testing {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TcpProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    cut();
    std::vector<std::thread> relays;
    {
      std::lock_guard lock(mu_);
      relays.swap(relays_);
    }
    for (auto& t : relays) t.join();
    ::close(listen_fd_);
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::size_t connections() const { return accepted_; }

  // Shuts down every relayed connection (the relay threads close the sockets).
  void cut() {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(upstream_port_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      ++accepted_;
      std::lock_guard lock(mu_);
      open_fds_.push_back(client);
      open_fds_.push_back(server);
      relays_.emplace_back([this, client, server] { relay(client, server); });
    }
  }
  // Copies both ways until either side closes or is shut down, then closes both.
  void relay(int a, int b) {
    char buf[65536];
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, 200) < 0) break;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          done = true;
          break;
        }
        for (ssize_t off = 0; off < n;) {
          // MSG_NOSIGNAL: a side already gone must end the relay, not the test process (SIGPIPE).
          const ssize_t w = ::send(fds[1 - i].fd, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) {
            done = true;
            break;
          }
          off += w;
        }
      }
      if (done || stopping_) break;
    }
    std::lock_guard lock(mu_);
    for (int fd : {a, b}) {
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
      std::erase(open_fds_, fd);
    }
  }

  std::uint16_t upstream_port_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_fds_;          // guarded by mu_
  std::vector<std::thread> relays_;    // guarded by mu_
};

}  // namespace resonance::testing
