#pragma once
// Test support: free loopback ports and a minimal blocking HTTP/1.1 GET (Boost.Beast).

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace resonance::testing {

// A port that was free a moment ago (bound to 0 and released). Good enough for tests on loopback.
inline std::uint16_t free_tcp_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}
inline std::uint16_t free_udp_port() {
  boost::asio::io_context io;
  boost::asio::ip::udp::socket s(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return s.local_endpoint().port();
}

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
};

// nullopt when no connection could be made.
// `source`: the local address to send from (another loopback address, e.g. 127.0.0.2, lets a test
// be a client outside the node's [api] local_clients without leaving the machine).
inline std::optional<HttpReply> http_get(std::uint16_t port, const std::string& target,
                                         const std::string& source = "") {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  if (!source.empty()) {
    socket.open(boost::asio::ip::tcp::v4(), ec);
    if (!ec) socket.bind({boost::asio::ip::make_address(source), 0}, ec);
    if (ec) return std::nullopt;
  }
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return std::nullopt;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req, ec);
  if (ec) return std::nullopt;
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(512 * 1024 * 1024);
  http::read(socket, buffer, parser, ec);
  if (ec) return std::nullopt;
  auto res = parser.release();
  return HttpReply{static_cast<int>(res.result_int()), res.body(),
                   std::string(res[http::field::content_type])};
}

}  // namespace resonance::testing
