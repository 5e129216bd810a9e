// UA TCP framing: HEL/ACK/ERR, chunk header checks, chunking and reassembly within limits,
// sequence numbers.

#include "connectors/opcua/transport.h"

#include <gtest/gtest.h>

namespace resonance::opcua {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes ack_bytes(std::uint32_t recv, std::uint32_t send, std::uint32_t max_msg, std::uint32_t chunks) {
  Writer w;
  w.bytes(std::string_view("ACKF"));
  w.u32(28);
  w.u32(0);
  w.u32(recv);
  w.u32(send);
  w.u32(max_msg);
  w.u32(chunks);
  return w.take();
}

TEST(OpcuaTransport, HelloLayout) {
  Hello h;
  h.endpoint_url = "opc.tcp://a";
  const Bytes b = encode_hello(h);
  ASSERT_EQ(b.size(), 8u + 20 + 4 + 11);
  EXPECT_EQ((Bytes(b.begin(), b.begin() + 8)), (Bytes{'H', 'E', 'L', 'F', 43, 0, 0, 0}));
  auto header = parse_chunk_header(std::span(b).first(8), 65536);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->type, MessageType::kHello);
  EXPECT_EQ(header->size, 43u);
}

TEST(OpcuaTransport, AcknowledgeAndError) {
  auto a = decode_acknowledge(ack_bytes(8192, 16384, 0, 0));
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->limits.receive_buffer_size, 8192u);
  EXPECT_EQ(a->limits.send_buffer_size, 16384u);
  auto small = decode_acknowledge(ack_bytes(1024, 8192, 0, 0));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().message(), "ACK at offset 8: buffer sizes 1024/8192 below the minimum 8192");
  auto cut = decode_acknowledge(Bytes{'A', 'C', 'K', 'F', 12, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message(), "ACK ReceiveBufferSize at offset 12: needs 4 bytes, only 0 left");
  Writer w;
  w.bytes(std::string_view("ERRF"));
  w.u32(0);
  w.u32(0x807F0000);
  w.i32(3);
  w.bytes(std::string_view("bad"));
  auto e = decode_transport_error(w.data());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 0x807F0000u);
  EXPECT_EQ(e->reason, "bad");
}

TEST(OpcuaTransport, ChunkHeaderRejectsWhatTheSpecForbids) {
  auto unknown = parse_chunk_header(Bytes{'X', 'Y', 'Z', 'F', 8, 0, 0, 0}, 0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "chunk header MessageType at offset 0: unknown message type \"XYZ\"");
  auto bad_chunk = parse_chunk_header(Bytes{'O', 'P', 'N', 'C', 40, 0, 0, 0}, 0);
  ASSERT_FALSE(bad_chunk);
  auto tiny = parse_chunk_header(Bytes{'M', 'S', 'G', 'F', 12, 0, 0, 0}, 0);
  ASSERT_FALSE(tiny);
  EXPECT_EQ(tiny.error().message(),
            "chunk header MessageSize at offset 4: 12 is smaller than the 24-byte headers of MSG");
  auto absurd = parse_chunk_header(Bytes{'M', 'S', 'G', 'F', 0xFF, 0xFF, 0xFF, 0x7F}, 65536);
  ASSERT_FALSE(absurd);
  EXPECT_EQ(absurd.error().message(),
            "chunk header MessageSize at offset 4: 2147483647 exceeds the negotiated buffer size 65536");
}

TEST(OpcuaTransport, OpenChunkRoundTrip) {
  const Bytes body{1, 2, 3};
  const Bytes chunk = encode_open_chunk(0, 51, 1, body);
  auto o = parse_open_chunk(chunk);
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->sequence_number, 51u);
  EXPECT_EQ(o->request_id, 1u);
  EXPECT_EQ(Bytes(o->body.begin(), o->body.end()), body);
  EXPECT_EQ(o->security_policy_uri, kSecurityPolicyNone);
}

TEST(OpcuaTransport, SplitsAndReassemblesWithinLimits) {
  Bytes body(1000);
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i * 7);
  std::uint32_t seq = 10;
  auto chunks = encode_symmetric_chunks(MessageType::kMessage, 5, 6, seq, 99, body, 24 + 300, 0);
  ASSERT_TRUE(chunks);
  ASSERT_EQ(chunks->size(), 4u);  // 300 + 300 + 300 + 100
  EXPECT_EQ(seq, 14u);
  EXPECT_EQ((*chunks)[0][3], 'C');
  EXPECT_EQ((*chunks)[3][3], 'F');
  Reassembler r(TransportLimits{});
  r.expect_sequence_after(9);
  std::optional<Bytes> done;
  for (const auto& c : *chunks) {
    auto parsed = parse_symmetric_chunk(c);
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_EQ(parsed->channel_id, 5u);
    EXPECT_EQ(parsed->token_id, 6u);
    auto out = r.add(*parsed);
    ASSERT_TRUE(out) << out.error().message();
    if (*out) done = **out;
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, body);
  // Too many chunks for the peer's MaxChunkCount: refused before sending.
  std::uint32_t seq2 = 1;
  auto refused = encode_symmetric_chunks(MessageType::kMessage, 5, 6, seq2, 1, body, 24 + 300, 3);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), "message of 1000 bytes needs 4 chunks, the peer accepts 3");
}

TEST(OpcuaTransport, ReassemblerEnforcesLimitsAndSequence) {
  Bytes body(1000, 1);
  std::uint32_t seq = 1;
  auto chunks = encode_symmetric_chunks(MessageType::kMessage, 1, 1, seq, 7, body, 24 + 300, 0);
  ASSERT_TRUE(chunks);
  {
    Reassembler r(TransportLimits{65536, 65536, 500, 0});
    auto a = r.add(*parse_symmetric_chunk((*chunks)[0]));
    ASSERT_TRUE(a);
    auto b = r.add(*parse_symmetric_chunk((*chunks)[1]));
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().message(), "response to request 7 exceeds the 500-byte message limit");
  }
  {
    Reassembler r(TransportLimits{65536, 65536, 0, 2});
    ASSERT_TRUE(r.add(*parse_symmetric_chunk((*chunks)[0])));
    ASSERT_TRUE(r.add(*parse_symmetric_chunk((*chunks)[1])));
    auto c = r.add(*parse_symmetric_chunk((*chunks)[2]));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message(), "response to request 7 exceeds 2 chunks");
  }
  {
    Reassembler r(TransportLimits{});
    ASSERT_TRUE(r.add(*parse_symmetric_chunk((*chunks)[0])));
    auto skipped = r.add(*parse_symmetric_chunk((*chunks)[2]));
    ASSERT_FALSE(skipped);
    EXPECT_EQ(skipped.error().message(), "MSG SequenceNumber at offset 16: expected 2, got 3");
  }
}

TEST(OpcuaTransport, AbortChunkFailsTheResponse) {
  Writer w;
  w.bytes(std::string_view("MSGA"));
  w.u32(0);
  w.u32(1); w.u32(1); w.u32(2); w.u32(9);
  w.u32(0x80080000);
  w.i32(4);
  w.bytes(std::string_view("big!"));
  w.patch_u32(4, static_cast<std::uint32_t>(w.size()));
  auto c = parse_symmetric_chunk(w.data());
  ASSERT_TRUE(c);
  Reassembler r(TransportLimits{});
  auto out = r.add(*c);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message(), "server aborted the response to request 9 (0x80080000 big!)");
}

TEST(OpcuaTransport, SizeMismatchAndSequenceWrap) {
  Bytes chunk = encode_open_chunk(0, 1, 1, Bytes{});
  chunk[0] = 'M'; chunk[1] = 'S'; chunk[2] = 'G';
  chunk.push_back(0);  // one byte more than the header says
  auto bad = parse_symmetric_chunk(chunk);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("the chunk has"), std::string::npos);
  EXPECT_EQ(next_sequence_number(4'294'966'271u), 1u);
  EXPECT_EQ(next_sequence_number(7), 8u);
}

}  // namespace
}  // namespace resonance::opcua
