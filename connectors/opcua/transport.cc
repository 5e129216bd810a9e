#include "connectors/opcua/transport.h"

#include <algorithm>
#include <string>

#include "connectors/opcua/builtin_codec.h"

namespace resonance::opcua {
namespace {

constexpr std::uint32_t kLegacyWrap = 4'294'966'271u;  // UInt32.Max - 1024 (6.7.2.4)
constexpr std::uint32_t kMinBufferSize = 8192;

void put_header(Writer& w, std::string_view type, char chunk_type) {
  w.bytes(type);
  w.u8(static_cast<std::uint8_t>(chunk_type));
  w.u32(0);  // size, patched when known
}

std::string_view type_name(MessageType t) {
  switch (t) {
    case MessageType::kHello: return "HEL";
    case MessageType::kAcknowledge: return "ACK";
    case MessageType::kError: return "ERR";
    case MessageType::kOpen: return "OPN";
    case MessageType::kMessage: return "MSG";
    case MessageType::kClose: return "CLO";
    case MessageType::kReverseHello: return "RHE";
  }
  return "?";
}

Status check_limits(Reader& r, const TransportLimits& l, std::string_view what) {
  if (l.receive_buffer_size < kMinBufferSize || l.send_buffer_size < kMinBufferSize)
    return r.fail(what, 8, "buffer sizes " + std::to_string(l.receive_buffer_size) + "/" +
                               std::to_string(l.send_buffer_size) + " below the minimum 8192");
  return Status::ok();
}

}  // namespace

std::uint32_t next_sequence_number(std::uint32_t current) {
  return current >= kLegacyWrap ? 1 : current + 1;
}

std::vector<std::uint8_t> encode_hello(const Hello& h) {
  Writer w;
  put_header(w, "HEL", 'F');
  w.u32(h.protocol_version);
  w.u32(h.limits.receive_buffer_size);
  w.u32(h.limits.send_buffer_size);
  w.u32(h.limits.max_message_size);
  w.u32(h.limits.max_chunk_count);
  encode(w, UaString(h.endpoint_url));
  w.patch_u32(4, static_cast<std::uint32_t>(w.size()));
  return w.take();
}

Result<ChunkHeader> parse_chunk_header(std::span<const std::uint8_t> header, std::uint32_t max_chunk_size) {
  Reader r(header);
  auto t = r.bytes(3, "chunk header MessageType");
  if (!t) return error(t.error());
  const std::string_view type(reinterpret_cast<const char*>(t->data()), 3);
  ChunkHeader out;
  if (type == "HEL") out.type = MessageType::kHello;
  else if (type == "ACK") out.type = MessageType::kAcknowledge;
  else if (type == "ERR") out.type = MessageType::kError;
  else if (type == "OPN") out.type = MessageType::kOpen;
  else if (type == "MSG") out.type = MessageType::kMessage;
  else if (type == "CLO") out.type = MessageType::kClose;
  else if (type == "RHE") out.type = MessageType::kReverseHello;
  else {
    std::string shown;
    for (unsigned char c : type) shown += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
    return error(r.fail("chunk header MessageType", 0, "unknown message type \"" + shown + "\""));
  }
  auto c = r.u8("chunk header ChunkType");
  if (!c) return error(c.error());
  out.chunk_type = static_cast<char>(*c);
  const bool may_continue = out.type == MessageType::kMessage;
  if (!(out.chunk_type == 'F' || (may_continue && (out.chunk_type == 'C' || out.chunk_type == 'A'))))
    return error(r.fail("chunk header ChunkType", 3,
                        "chunk type 0x" + std::to_string(*c) + " not allowed for " +
                            std::string(type_name(out.type))));
  auto size = r.u32("chunk header MessageSize");
  if (!size) return error(size.error());
  out.size = *size;
  const std::uint32_t min = out.type == MessageType::kMessage || out.type == MessageType::kClose
                                ? kSymmetricHeaderSize : kChunkHeaderSize;
  if (out.size < min)
    return error(r.fail("chunk header MessageSize", 4,
                        std::to_string(out.size) + " is smaller than the " + std::to_string(min) +
                            "-byte headers of " + std::string(type_name(out.type))));
  if (max_chunk_size != 0 && out.size > max_chunk_size)
    return error(r.fail("chunk header MessageSize", 4,
                        std::to_string(out.size) + " exceeds the negotiated buffer size " +
                            std::to_string(max_chunk_size)));
  return out;
}

Result<Acknowledge> decode_acknowledge(std::span<const std::uint8_t> chunk) {
  Reader r(chunk);
  if (auto s = r.skip(kChunkHeaderSize, "ACK header"); !s) return error(std::move(s));
  Acknowledge a;
  for (auto [field, name] : {std::pair{&a.protocol_version, "ACK ProtocolVersion"},
                             std::pair{&a.limits.receive_buffer_size, "ACK ReceiveBufferSize"},
                             std::pair{&a.limits.send_buffer_size, "ACK SendBufferSize"},
                             std::pair{&a.limits.max_message_size, "ACK MaxMessageSize"},
                             std::pair{&a.limits.max_chunk_count, "ACK MaxChunkCount"}}) {
    auto v = r.u32(name);
    if (!v) return error(v.error());
    *field = *v;
  }
  if (auto s = check_limits(r, a.limits, "ACK"); !s) return error(std::move(s));
  return a;
}

Result<TransportError> decode_transport_error(std::span<const std::uint8_t> chunk) {
  Reader r(chunk);
  if (auto s = r.skip(kChunkHeaderSize, "ERR header"); !s) return error(std::move(s));
  TransportError e;
  auto code = r.u32("ERR Error");
  if (!code) return error(code.error());
  e.status = *code;
  UaString reason;
  if (auto s = decode(r, reason); !s) return error(with_context(std::move(s), "ERR Reason"));
  e.reason = reason.value.value_or("");
  return e;
}

std::vector<std::uint8_t> encode_open_chunk(std::uint32_t channel_id, std::uint32_t sequence_number,
                                            std::uint32_t request_id,
                                            std::span<const std::uint8_t> body) {
  Writer w;
  put_header(w, "OPN", 'F');
  w.u32(channel_id);
  encode(w, UaString(std::string(kSecurityPolicyNone)));
  encode(w, ByteString{});  // SenderCertificate: none
  encode(w, ByteString{});  // ReceiverCertificateThumbprint: none
  w.u32(sequence_number);
  w.u32(request_id);
  w.bytes(body);
  w.patch_u32(4, static_cast<std::uint32_t>(w.size()));
  return w.take();
}

Result<OpenChunk> parse_open_chunk(std::span<const std::uint8_t> chunk) {
  Reader r(chunk);
  if (auto s = r.skip(kChunkHeaderSize, "OPN header"); !s) return error(std::move(s));
  OpenChunk o;
  auto id = r.u32("OPN SecureChannelId");
  if (!id) return error(id.error());
  o.channel_id = *id;
  UaString policy;
  ByteString cert, thumb;
  if (auto s = decode(r, policy); !s) return error(with_context(std::move(s), "OPN SecurityPolicyUri"));
  if (auto s = decode(r, cert); !s) return error(with_context(std::move(s), "OPN SenderCertificate"));
  if (auto s = decode(r, thumb); !s) return error(with_context(std::move(s), "OPN ReceiverCertificateThumbprint"));
  o.security_policy_uri = policy.value.value_or("");
  if (o.security_policy_uri != kSecurityPolicyNone)
    return error(r.fail("OPN SecurityPolicyUri", 12,
                        "\"" + o.security_policy_uri + "\" is not SecurityPolicy None"));
  auto seq = r.u32("OPN SequenceNumber");
  if (!seq) return error(seq.error());
  auto req = r.u32("OPN RequestId");
  if (!req) return error(req.error());
  o.sequence_number = *seq;
  o.request_id = *req;
  o.body = r.rest();
  return o;
}

Result<SymmetricChunk> parse_symmetric_chunk(std::span<const std::uint8_t> chunk) {
  auto h = parse_chunk_header(chunk.first(std::min(chunk.size(), kChunkHeaderSize)), 0);
  if (!h) return error(h.error());
  if (h->size != chunk.size())
    return error(resonance::StatusCode::kInvalidArgument,
                 "chunk header MessageSize at offset 4: says " + std::to_string(h->size) +
                     " bytes, the chunk has " + std::to_string(chunk.size()));
  if (h->type != MessageType::kMessage && h->type != MessageType::kClose)
    return error(resonance::StatusCode::kInvalidArgument,
                 "chunk header MessageType at offset 0: " + std::string(type_name(h->type)) +
                     " is not a symmetric (MSG/CLO) chunk");
  Reader r(chunk);
  (void)r.skip(kChunkHeaderSize, "header");
  SymmetricChunk c;
  c.type = h->type;
  c.chunk_type = h->chunk_type;
  // Sizes were checked above: at least 24 bytes.
  c.channel_id = *r.u32("SecureChannelId");
  c.token_id = *r.u32("TokenId");
  c.sequence_number = *r.u32("SequenceNumber");
  c.request_id = *r.u32("RequestId");
  c.body = r.rest();
  return c;
}

Result<std::vector<std::vector<std::uint8_t>>> encode_symmetric_chunks(
    MessageType type, std::uint32_t channel_id, std::uint32_t token_id,
    std::uint32_t& next_seq, std::uint32_t request_id, std::span<const std::uint8_t> body,
    std::uint32_t max_chunk_size, std::uint32_t max_chunk_count, std::size_t max_body_per_chunk) {
  if (max_chunk_size <= kSymmetricHeaderSize)
    return error(resonance::StatusCode::kInvalidArgument,
                 "chunk size " + std::to_string(max_chunk_size) + " leaves no room for a body");
  const std::size_t per_chunk = max_body_per_chunk != 0
                                    ? std::min<std::size_t>(max_body_per_chunk, max_chunk_size - kSymmetricHeaderSize)
                                    : max_chunk_size - kSymmetricHeaderSize;
  const std::size_t count = std::max<std::size_t>(1, (body.size() + per_chunk - 1) / per_chunk);
  if (max_chunk_count != 0 && count > max_chunk_count)
    return error(resonance::StatusCode::kResourceExhausted,
                 "message of " + std::to_string(body.size()) + " bytes needs " + std::to_string(count) +
                     " chunks, the peer accepts " + std::to_string(max_chunk_count));
  std::vector<std::vector<std::uint8_t>> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto part = body.subspan(i * per_chunk, std::min(per_chunk, body.size() - i * per_chunk));
    Writer w;
    put_header(w, type == MessageType::kClose ? "CLO" : "MSG", i + 1 == count ? 'F' : 'C');
    w.u32(channel_id);
    w.u32(token_id);
    w.u32(next_seq);
    next_seq = next_sequence_number(next_seq);
    w.u32(request_id);
    w.bytes(part);
    w.patch_u32(4, static_cast<std::uint32_t>(w.size()));
    out.push_back(w.take());
  }
  return out;
}

Result<std::optional<std::vector<std::uint8_t>>> Reassembler::add(const SymmetricChunk& c) {
  auto reset = [this] {
    partial_.clear();
    chunks_ = 0;
    request_id_.reset();
  };
  if (last_sequence_ && c.sequence_number != next_sequence_number(*last_sequence_)) {
    const auto expected = next_sequence_number(*last_sequence_);
    reset();
    return error(resonance::StatusCode::kInvalidArgument,
                 "MSG SequenceNumber at offset 16: expected " + std::to_string(expected) + ", got " +
                     std::to_string(c.sequence_number));
  }
  last_sequence_ = c.sequence_number;
  if (request_id_ && *request_id_ != c.request_id) {
    const auto pending = *request_id_;
    reset();
    return error(resonance::StatusCode::kInvalidArgument,
                 "MSG RequestId at offset 20: chunk for request " + std::to_string(c.request_id) +
                     " while request " + std::to_string(pending) + " is still incomplete");
  }
  if (c.chunk_type == 'A') {
    Reader r(c.body);
    std::uint32_t code = 0;
    UaString reason;
    (void)decode(r, code);
    (void)decode(r, reason);
    reset();
    char hex[11];
    std::snprintf(hex, sizeof hex, "0x%08X", code);
    return error(resonance::StatusCode::kUnavailable,
                 "server aborted the response to request " + std::to_string(c.request_id) + " (" +
                     hex + " " + reason.value.value_or("") + ")");
  }
  ++chunks_;
  if (limits_.max_chunk_count != 0 && chunks_ > limits_.max_chunk_count) {
    reset();
    return error(resonance::StatusCode::kResourceExhausted,
                 "response to request " + std::to_string(c.request_id) + " exceeds " +
                     std::to_string(limits_.max_chunk_count) + " chunks");
  }
  if (limits_.max_message_size != 0 && partial_.size() + c.body.size() > limits_.max_message_size) {
    reset();
    return error(resonance::StatusCode::kResourceExhausted,
                 "response to request " + std::to_string(c.request_id) + " exceeds the " +
                     std::to_string(limits_.max_message_size) + "-byte message limit");
  }
  request_id_ = c.request_id;
  partial_.insert(partial_.end(), c.body.begin(), c.body.end());
  if (c.chunk_type == 'C') return std::optional<std::vector<std::uint8_t>>();
  std::vector<std::uint8_t> done = std::move(partial_);
  reset();
  return std::optional<std::vector<std::uint8_t>>(std::move(done));
}

}  // namespace resonance::opcua
