#pragma once
// One HTTP/1.1 connection: read a request, answer it through the Router, repeat while the client
// keeps the connection alive. Runs on its own strand, so a session's handlers never overlap.
// Every socket and parser error arrives as an error_code; none becomes an exception.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "resonance/api/router.h"

namespace resonance::api {

struct SessionLimits {
  std::uint32_t max_header_bytes = 8 * 1024;
  std::uint64_t max_body_bytes = 4 * 1024;
  std::chrono::seconds idle_timeout{30};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // The router (and its metrics) must outlive every session; ApiServer guarantees it by tearing
  // down its io_context, which destroys all sessions, before the router.
  Session(boost::asio::ip::tcp::socket&& socket, const Router& router, SessionLimits limits);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();

 private:
  void read_request();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  // Answers a request the parser refused (malformed, too large) and then closes.
  void reject(int status, std::string_view reason, std::string message);
  void send(Response&& response, bool keep_alive, bool head_only, unsigned version);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void linger_close();
  void on_drain(boost::beast::error_code ec, std::size_t bytes);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  char drain_[512];
  const Router& router_;
  SessionLimits limits_;
  // The peer, read once at accept; an address that cannot be read is "::", which no local network
  // holds, so such a client is treated as remote (the safe side).
  ClientAddress client_;
};

}  // namespace resonance::api
