#include "api/session.h"

#include <fmt/format.h>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "api/responses.h"

namespace resonance::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// How long a closing connection may keep sending before we drop it (see linger_close).
constexpr std::chrono::seconds kLingerTimeout{2};

std::string_view to_std(beast::string_view s) { return {s.data(), s.size()}; }

ClientAddress peer_address(const asio::ip::tcp::socket& socket) {
  ClientAddress out;
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return out;
  asio::ip::address a = endpoint.address();
  const asio::ip::address_v6 v6 =
      a.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()) : a.to_v6();
  const auto bytes = v6.to_bytes();
  std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
  return out;
}

}  // namespace

Session::Session(asio::ip::tcp::socket&& socket, const Router& router, SessionLimits limits)
    : stream_(std::move(socket)), router_(router), limits_(limits), client_(peer_address(stream_.socket())) {
  router_.metrics().connection_opened();
}

Session::~Session() { router_.metrics().connection_closed(); }

void Session::start() {
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&Session::read_request, shared_from_this()));
}

void Session::read_request() {
  parser_.emplace();
  parser_->header_limit(limits_.max_header_bytes);
  parser_->body_limit(limits_.max_body_bytes);
  stream_.expires_after(limits_.idle_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == beast::error::timeout || ec == asio::error::operation_aborted) {
    // The client went away, hung up mid-request or idled out: nobody is left to answer.
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return;
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return reject(431, "header_too_large",
                  fmt::format("request header: expected at most {} bytes of request line and "
                              "headers, found more",
                              limits_.max_header_bytes));
  if (ec == http::error::body_limit)
    return reject(413, "body_too_large",
                  fmt::format("request body: expected at most {} bytes (the API takes no "
                              "bodies), found more",
                              limits_.max_body_bytes));
  if (ec.category() == http::make_error_code(http::error::bad_method).category())
    return reject(400, "malformed_http",
                  fmt::format("malformed HTTP request: expected an HTTP/1.x request such as "
                              "'GET /api/v1/health HTTP/1.1', found a parse error ({})",
                              ec.message()));
  if (ec) {
    // A socket error (reset, ...): the connection is gone.
    beast::error_code ignored;
    stream_.socket().close(ignored);
    return;
  }

  const auto& request = parser_->get();
  const bool head_only = request.method() == http::verb::head;
  Response response = router_.handle(to_std(request.method_string()), to_std(request.target()), client_);
  send(std::move(response), request.keep_alive(), head_only, request.version());
}

void Session::reject(int status, std::string_view reason, std::string message) {
  router_.metrics().count_response(status, reason);
  std::string_view code = status == 400 ? "invalid_argument" : "resource_exhausted";
  send(error_response(status, code, message), false, false, 11);
}

void Session::send(Response&& response, bool keep_alive, bool head_only, unsigned version) {
  response_ = {};
  response_.version(version == 10 ? 10 : 11);
  response_.result(static_cast<unsigned>(response.status));
  response_.set(http::field::server, "resonance/" RESONANCE_VERSION);
  response_.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) response_.set(name, value);
  response_.keep_alive(keep_alive);
  const std::size_t size = response.body.size();
  // HEAD: same headers as GET, Content-Length included, no body.
  if (!head_only) response_.body() = std::move(response.body);
  response_.content_length(size);

  stream_.expires_after(limits_.idle_timeout);
  http::async_write(stream_, response_,
                    beast::bind_front_handler(&Session::on_write, shared_from_this(), keep_alive));
}

void Session::on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    return;
  }
  if (keep_alive) return read_request();
  linger_close();
}

// Closing a socket that still has unread input makes the kernel send RST, which can destroy the
// response we just wrote before the client reads it (a malformed request usually leaves bytes
// behind). So: half-close, then read and discard until the client closes or a short timeout.
void Session::linger_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLingerTimeout);
  stream_.async_read_some(asio::buffer(drain_),
                          beast::bind_front_handler(&Session::on_drain, shared_from_this()));
}

void Session::on_drain(beast::error_code ec, std::size_t /*bytes*/) {
  if (!ec) {
    stream_.async_read_some(asio::buffer(drain_),
                            beast::bind_front_handler(&Session::on_drain, shared_from_this()));
    return;
  }
  beast::error_code ignored;
  stream_.socket().close(ignored);
}

}  // namespace resonance::api
