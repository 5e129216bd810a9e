// ApiServer over real sockets: binding, keep-alive, limits, malformed input, shutdown.
#include "resonance/api/api_server.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "fake_historian.h"
#include "raw_client.h"

namespace resonance::api::testing {
namespace {

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = SeriesCatalog::open(":memory:");
    ASSERT_TRUE(catalog.has_value()) << catalog.error().to_string();
    catalog_ = std::move(*catalog);
    const SeriesId id = *catalog_->resolve("plant1/area1/line1/pump1/pressure", "bar");
    historian_.add({id, unix_now_ns(), 4.2, {}});
  }

  std::unique_ptr<ApiServer> start_server(ApiOptions options = {}) {
    options.port = 0;
    auto server = std::make_unique<ApiServer>(options, *catalog_, historian_, metrics_);
    const Status s = server->start();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_NE(server->bound_port(), 0);
    return server;
  }

  std::uint64_t counter(const std::string& name, const std::string& labels = "") {
    return metrics_.counter_value(name, labels);
  }

  static void expect_serving(std::uint16_t port) {
    RawClient c(port);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(get_request("/api/v1/health")));
    const auto r = c.read_response();
    ASSERT_TRUE(r.has_value()) << "server stopped answering";
    EXPECT_EQ(r->status, 200);
  }

  std::unique_ptr<SeriesCatalog> catalog_;
  FakeHistorian historian_;
  MetricsRegistry metrics_;
};

TEST_F(ApiServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  auto server = start_server();
  RawClient c(server->bound_port());
  ASSERT_TRUE(c.connected());
  for (auto target : {"/api/v1/health", "/api/v1/series", "/api/v1/series/1/latest", "/"}) {
    ASSERT_TRUE(c.send(get_request(target)));
    const auto r = c.read_response();
    ASSERT_TRUE(r.has_value()) << target;
    EXPECT_EQ(r->status, 200) << target << ": " << r->body;
    EXPECT_NE(r->header("Connection"), "close");
    EXPECT_EQ(r->header("Server"), "resonance/" RESONANCE_VERSION);
    EXPECT_EQ(std::stoul(r->header("Content-Length")), r->body.size());
  }
  EXPECT_EQ(counter("resonance_api_connections_total"), 1u);
  EXPECT_EQ(counter("resonance_api_requests_total", "class=\"2xx\""), 4u);
}

TEST_F(ApiServerTest, ErrorsTravelWithTheirStatusAndHeaders) {
  auto server = start_server();
  RawClient c(server->bound_port());
  ASSERT_TRUE(c.send(get_request("/api/v1/health", true, "DELETE")));
  const auto r = c.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("Allow"), "GET, HEAD");
  EXPECT_EQ(r->header("Content-Type"), "application/json");
  EXPECT_NE(r->body.find("\"method_not_allowed\""), std::string::npos);
  // The connection stays usable after an API-level error.
  ASSERT_TRUE(c.send(get_request("/api/v1/query?series=1&from=abc")));
  const auto r2 = c.read_response();
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->status, 400);
}

TEST_F(ApiServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = start_server();
  RawClient c(server->bound_port());
  ASSERT_TRUE(c.send(get_request("/api/v1/health") + get_request("/nope") +
                     get_request("/metrics", false)));
  EXPECT_EQ(c.read_response()->status, 200);
  EXPECT_EQ(c.read_response()->status, 404);
  const auto last = c.read_response();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(last->header("Connection"), "close");
}

TEST_F(ApiServerTest, HeadSendsContentLengthButNoBody) {
  auto server = start_server();
  RawClient c(server->bound_port());
  ASSERT_TRUE(c.send(get_request("/assets/app.js", false, "HEAD")));
  bool closed = false;
  const std::string all = c.read_until_close(&closed);
  EXPECT_TRUE(closed);
  const auto header_end = all.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos) << all;
  EXPECT_EQ(all.size(), header_end + 4) << "HEAD response carried a body";
  EXPECT_NE(all.find("Content-Length: "), std::string::npos);
  EXPECT_EQ(all.find("Content-Length: 0\r\n"), std::string::npos);
}

TEST_F(ApiServerTest, MalformedRequestLineGets400AndTheServerKeepsServing) {
  auto server = start_server();
  for (std::string_view junk : {std::string_view("GARBAGE\r\n\r\n"),
                                std::string_view("GET /api/v1/health HTTP/9.9\r\n\r\n"),
                                std::string_view("GET  HTTP/1.1\r\n\r\n"),
                                std::string_view("G\0T / HTTP/1.1\r\n\r\n", 18),
                                std::string_view("GET / HTTP/1.1\r\nBad Header\r\n\r\n")}) {
    RawClient c(server->bound_port());
    ASSERT_TRUE(c.send(junk));
    bool closed = false;
    const std::string reply = c.read_until_close(&closed);
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 400 ")) << reply;
    EXPECT_NE(reply.find("\"code\":\"invalid_argument\""), std::string::npos) << reply;
    EXPECT_NE(reply.find("malformed HTTP request"), std::string::npos) << reply;
    EXPECT_TRUE(closed) << "server must close after a malformed request";
    expect_serving(server->bound_port());
  }
  EXPECT_EQ(counter("resonance_api_bad_requests_total", "reason=\"malformed_http\""), 5u);
}

TEST_F(ApiServerTest, BinaryGarbageDoesNotHurt) {
  auto server = start_server();
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) & 0xff));
  {
    RawClient c(server->bound_port());
    c.send(junk);
    c.read_until_close();
  }
  expect_serving(server->bound_port());
}

TEST_F(ApiServerTest, OversizedHeaderGets431) {
  ApiOptions options;
  options.max_header_bytes = 1024;
  auto server = start_server(options);
  RawClient c(server->bound_port());
  ASSERT_TRUE(c.send("GET /api/v1/health HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') +
                     "\r\n\r\n"));
  const std::string reply = c.read_until_close();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 431 ")) << reply.substr(0, 200);
  EXPECT_NE(reply.find("at most 1024 bytes"), std::string::npos);
  EXPECT_EQ(counter("resonance_api_bad_requests_total", "reason=\"header_too_large\""), 1u);
  expect_serving(server->bound_port());
}

TEST_F(ApiServerTest, OversizedBodyGets413) {
  auto server = start_server();
  RawClient c(server->bound_port());
  ASSERT_TRUE(c.send("POST /api/v1/health HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" +
                     std::string(8192, 'b')));
  const std::string reply = c.read_until_close();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 413 ")) << reply.substr(0, 200);
  expect_serving(server->bound_port());
}

TEST_F(ApiServerTest, ClientVanishingMidRequestIsHarmless) {
  auto server = start_server();
  {
    RawClient c(server->bound_port());
    c.send("GET /api/v1/hea");
  }
  {
    RawClient c(server->bound_port());
    c.send("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n");
    c.shutdown_write();
    c.read_until_close();
  }
  expect_serving(server->bound_port());
}

TEST_F(ApiServerTest, Http10WithoutKeepAliveCloses) {
  auto server = start_server();
  RawClient c(server->bound_port());
  ASSERT_TRUE(c.send("GET /api/v1/health HTTP/1.0\r\n\r\n"));
  bool closed = false;
  const std::string reply = c.read_until_close(&closed);
  EXPECT_TRUE(reply.starts_with("HTTP/1.0 200 ")) << reply;
  EXPECT_TRUE(closed);
}

TEST_F(ApiServerTest, IdleConnectionsTimeOut) {
  ApiOptions options;
  options.idle_timeout_s = 1;
  auto server = start_server(options);
  RawClient c(server->bound_port(), 5000);
  bool closed = false;
  const auto start = std::chrono::steady_clock::now();
  c.read_until_close(&closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(ApiServerTest, ConnectionsBeyondTheBoundAreRefused) {
  ApiOptions options;
  options.max_connections = 1;
  auto server = start_server(options);
  RawClient first(server->bound_port());
  ASSERT_TRUE(first.send(get_request("/api/v1/health")));
  ASSERT_TRUE(first.read_response().has_value());  // now certainly accepted and open
  RawClient second(server->bound_port());
  bool closed = false;
  second.send(get_request("/api/v1/health"));
  EXPECT_EQ(second.read_until_close(&closed), "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(counter("resonance_api_connections_rejected_total"), 1u);
  // The first connection is unaffected.
  ASSERT_TRUE(first.send(get_request("/api/v1/health")));
  EXPECT_TRUE(first.read_response().has_value());
}

TEST_F(ApiServerTest, PortInUseIsAClearError) {
  auto first = start_server();
  ApiOptions options;
  options.port = first->bound_port();
  ApiServer second(options, *catalog_, historian_, metrics_);
  const Status s = second.start();
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(fmt::format("127.0.0.1:{}", first->bound_port())), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
  EXPECT_EQ(second.bound_port(), 0);
  second.stop();  // harmless on a server that never started
  expect_serving(first->bound_port());
}

TEST_F(ApiServerTest, BadOptionsAreRejected) {
  ApiOptions options;
  options.port = 0;
  options.bind_address = "localhost:80";
  ApiServer bad_address(options, *catalog_, historian_, metrics_);
  const Status s = bad_address.start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "api option 'bind_address': expected an IPv4 or IPv6 address, found 'localhost:80'");

  options.bind_address = "127.0.0.1";
  options.threads = 0;
  ApiServer no_threads(options, *catalog_, historian_, metrics_);
  EXPECT_EQ(no_threads.start().code(), StatusCode::kInvalidArgument);
}

TEST_F(ApiServerTest, StartTwiceFails) {
  auto server = start_server();
  EXPECT_EQ(server->start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ApiServerTest, StopClosesConnectionsAndIsIdempotent) {
  auto server = start_server();
  const auto port = server->bound_port();
  RawClient c(port);
  ASSERT_TRUE(c.send(get_request("/api/v1/health")));
  ASSERT_TRUE(c.read_response().has_value());
  server->stop();
  bool closed = false;
  c.read_until_close(&closed);
  EXPECT_TRUE(closed) << "an open keep-alive connection must be closed by stop()";
  server->stop();
  RawClient after(port);
  EXPECT_FALSE(after.connected());
}

TEST_F(ApiServerTest, SeveralThreadsServeConcurrentClients) {
  ApiOptions options;
  options.threads = 2;
  auto server = start_server(options);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&, port = server->bound_port()] {
      RawClient c(port);
      for (int i = 0; i < 25; ++i) {
        if (!c.send(get_request("/api/v1/query?series=1"))) return;
        auto r = c.read_response();
        if (r && r->status == 200) ++ok;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 100);
}

}  // namespace
}  // namespace resonance::api::testing
