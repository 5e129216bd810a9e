// Bad server behaviour over real loopback TCP, from a scripted fake peer: absurd chunk sizes, an
// ERR instead of ACK, silence, a wrong sequence number, an unknown message type and a truncated
// chunk each end in a clear error (what and where), never a crash or a hang.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "connectors/opcua/client.h"

namespace resonance::opcua {
namespace {

using boost::asio::ip::tcp;
using Bytes = std::vector<std::uint8_t>;

Bytes read_chunk(tcp::socket& s) {
  Bytes header(8);
  boost::system::error_code ec;
  boost::asio::read(s, boost::asio::buffer(header), ec);
  if (ec) return {};
  const std::uint32_t size = header[4] | (header[5] << 8) | (header[6] << 16) | (std::uint32_t{header[7]} << 24);
  Bytes chunk = header;
  chunk.resize(size);
  boost::asio::read(s, boost::asio::buffer(chunk.data() + 8, size - 8), ec);
  return ec ? Bytes{} : chunk;
}
void send(tcp::socket& s, const Bytes& b) {
  boost::system::error_code ec;
  boost::asio::write(s, boost::asio::buffer(b), ec);
}
Bytes ack() {
  Writer w;
  w.bytes(std::string_view("ACKF"));
  w.u32(28);
  for (std::uint32_t v : {0u, 65536u, 65536u, 0u, 0u}) w.u32(v);
  return w.take();
}
// Answers the client's OPN: channel 7, token 1, server sequence number 1.
void open_channel(tcp::socket& s) {
  auto request = read_chunk(s);
  auto parsed = parse_open_chunk(request);
  ASSERT_TRUE(parsed);
  OpenSecureChannelResponse resp;
  resp.security_token = ChannelSecurityToken{7, 1, DateTime::from_unix_ns(unix_now_ns()), 600000};
  Writer body;
  encode_message(body, resp);
  send(s, encode_open_chunk(7, 1, parsed->request_id, body.data()));
}
std::uint32_t request_id_of(const Bytes& chunk) { return parse_symmetric_chunk(chunk)->request_id; }
Bytes msg(std::uint32_t seq, std::uint32_t request_id, const Bytes& body) {
  return (*encode_symmetric_chunks(MessageType::kMessage, 7, 1, seq, request_id, body, 65536, 0))[0];
}

// One connection, handled by `script` on its own thread.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(tcp::socket&)> script)
      : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, script = std::move(script)] {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (!ec) script(s);
      // Keep the socket until the client has seen what it was sent.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    });
  }
  ~FakeServer() { thread_.join(); }
  std::string url() const { return "opc.tcp://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

 private:
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

std::string connect_error(const FakeServer& server, std::uint32_t timeout_ms = 2000) {
  ClientOptions o;
  o.endpoint_url = server.url();
  o.request_timeout_ms = timeout_ms;
  auto c = Client::connect(o);
  return c ? std::string("connected") : c.error().message();
}

TEST(OpcuaBadServer, AbsurdChunkSize) {
  FakeServer server([](tcp::socket& s) {
    read_chunk(s);
    send(s, Bytes{'A', 'C', 'K', 'F', 0xFF, 0xFF, 0xFF, 0x7F});
  });
  EXPECT_NE(connect_error(server).find("2147483647 exceeds the negotiated buffer size 65536"), std::string::npos);
}

TEST(OpcuaBadServer, ErrInsteadOfAck) {
  FakeServer server([](tcp::socket& s) {
    read_chunk(s);
    Writer w;
    w.bytes(std::string_view("ERRF"));
    w.u32(0);
    w.u32(0x807F0000);
    w.i32(7);
    w.bytes(std::string_view("go away"));
    w.patch_u32(4, static_cast<std::uint32_t>(w.size()));
    send(s, w.take());
  });
  EXPECT_EQ(connect_error(server), "server refused HEL: 0x807F0000 go away");
}

TEST(OpcuaBadServer, SilentServerTimesOut) {
  FakeServer server([](tcp::socket& s) { read_chunk(s); });
  const auto t0 = std::chrono::steady_clock::now();
  const auto e = connect_error(server, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_NE(e.find("no ACK from"), std::string::npos) << e;
}

TEST(OpcuaBadServer, WrongSequenceNumber) {
  FakeServer server([](tcp::socket& s) {
    read_chunk(s);
    send(s, ack());
    open_channel(s);
    const auto create = read_chunk(s);
    Writer body;
    encode_message(body, CreateSessionResponse{});
    send(s, msg(5, request_id_of(create), body.data()));  // 2 expected
  });
  EXPECT_EQ(connect_error(server), "MSG SequenceNumber at offset 16: expected 2, got 5");
}

TEST(OpcuaBadServer, UnknownMessageType) {
  FakeServer server([](tcp::socket& s) {
    read_chunk(s);
    send(s, ack());
    open_channel(s);
    const auto create = read_chunk(s);
    Writer body;
    encode(body, NodeId::numeric(0, 9999));
    send(s, msg(2, request_id_of(create), body.data()));
  });
  const auto e = connect_error(server);
  EXPECT_NE(e.find("unsupported service encoding id i=9999"), std::string::npos) << e;
}

TEST(OpcuaBadServer, TruncatedChunkThenClose) {
  FakeServer server([](tcp::socket& s) {
    read_chunk(s);
    send(s, ack());
    open_channel(s);
    const auto create = read_chunk(s);
    Writer body;
    encode_message(body, CreateSessionResponse{});
    Bytes chunk = msg(2, request_id_of(create), body.data());
    chunk.resize(30);  // the header still says the full size
    send(s, chunk);
    s.close();
  });
  const auto e = connect_error(server);
  EXPECT_NE(e.find("receiving from"), std::string::npos) << e;
}

}  // namespace
}  // namespace resonance::opcua
