#pragma once
// UA TCP framing (OPC 10000-6, 7.1 UACP and 6.7 UASC with SecurityPolicy None), as pure functions
// over bytes so every rule is unit-testable without a socket:
//   Hello/Acknowledge/Error messages; chunk headers checked against the negotiated limits;
//   OPN/MSG/CLO chunks built and parsed; multi-chunk messages split and reassembled.
// The byte layout is in docs/formats/opcua-binary.md.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "connectors/opcua/binary.h"

namespace resonance::opcua {

inline constexpr std::string_view kSecurityPolicyNone = "http://opcfoundation.org/UA/SecurityPolicy#None";
inline constexpr std::size_t kChunkHeaderSize = 8;       // MessageType(3) ChunkType(1) Size(4)
inline constexpr std::size_t kSymmetricHeaderSize = 24;  // + ChannelId, TokenId, SeqNo, RequestId

// Buffer and message limits, as asked in HEL and revised by ACK. 0 = no limit (sizes/counts only).
struct TransportLimits {
  std::uint32_t receive_buffer_size = 65536;
  std::uint32_t send_buffer_size = 65536;
  std::uint32_t max_message_size = 16 * 1024 * 1024;
  std::uint32_t max_chunk_count = 512;
};

struct Hello {
  std::uint32_t protocol_version = 0;
  TransportLimits limits;
  std::string endpoint_url;
};
struct Acknowledge {
  std::uint32_t protocol_version = 0;
  TransportLimits limits;  // the server's receive buffer is our send buffer and vice versa
};
struct TransportError {
  std::uint32_t status = 0;
  std::string reason;
};

enum class MessageType : std::uint8_t { kHello, kAcknowledge, kError, kOpen, kMessage, kClose, kReverseHello };
struct ChunkHeader {
  MessageType type = MessageType::kMessage;
  char chunk_type = 'F';  // 'F' final, 'C' intermediate, 'A' abort
  std::uint32_t size = 0;  // the whole chunk, header included
};

std::vector<std::uint8_t> encode_hello(const Hello& hello);
// Checks the 8-byte header: a known message type, a chunk type allowed for it, and a size between
// the smallest possible chunk and `max_chunk_size` (our receive buffer).
Result<ChunkHeader> parse_chunk_header(std::span<const std::uint8_t> header, std::uint32_t max_chunk_size);
Result<Acknowledge> decode_acknowledge(std::span<const std::uint8_t> chunk);
Result<TransportError> decode_transport_error(std::span<const std::uint8_t> chunk);

// OpenSecureChannel request chunk (asymmetric header, SecurityPolicy None, no certificates).
std::vector<std::uint8_t> encode_open_chunk(std::uint32_t channel_id, std::uint32_t sequence_number,
                                            std::uint32_t request_id,
                                            std::span<const std::uint8_t> body);

struct OpenChunk {
  std::uint32_t channel_id = 0;
  std::string security_policy_uri;
  std::uint32_t sequence_number = 0;
  std::uint32_t request_id = 0;
  std::span<const std::uint8_t> body;  // points into the chunk
};
Result<OpenChunk> parse_open_chunk(std::span<const std::uint8_t> chunk);

struct SymmetricChunk {
  MessageType type = MessageType::kMessage;
  char chunk_type = 'F';
  std::uint32_t channel_id = 0;
  std::uint32_t token_id = 0;
  std::uint32_t sequence_number = 0;
  std::uint32_t request_id = 0;
  std::span<const std::uint8_t> body;  // points into the chunk
};
Result<SymmetricChunk> parse_symmetric_chunk(std::span<const std::uint8_t> chunk);

// Splits `body` into MSG (or CLO) chunks of at most `max_chunk_size` bytes each, consuming one
// sequence number per chunk (wrapping as SecurityPolicy None requires: after 4294966271 comes 1).
// Fails if the message would need more chunks than `max_chunk_count` (0 = unlimited).
// `max_body_per_chunk` (0 = whatever fits after the 24 header bytes) leaves room for what a
// secured channel adds to each chunk (padding, signature); see symmetric_max_body().
Result<std::vector<std::vector<std::uint8_t>>> encode_symmetric_chunks(
    MessageType type, std::uint32_t channel_id, std::uint32_t token_id,
    std::uint32_t& next_sequence_number, std::uint32_t request_id,
    std::span<const std::uint8_t> body, std::uint32_t max_chunk_size, std::uint32_t max_chunk_count,
    std::size_t max_body_per_chunk = 0);

std::uint32_t next_sequence_number(std::uint32_t current);

// Reassembles the chunks of one response (by RequestId) within the negotiated limits, and checks
// that sequence numbers increase by one per chunk across the whole channel.
class Reassembler {
 public:
  explicit Reassembler(TransportLimits limits) : limits_(limits) {}
  // A complete message body when `chunk` was the final one; nullopt while more are expected.
  // An abort chunk ('A') or a broken limit or sequence fails and discards the partial message.
  Result<std::optional<std::vector<std::uint8_t>>> add(const SymmetricChunk& chunk);
  // The sequence check starts from the first chunk received (the OPN response sets it).
  void expect_sequence_after(std::uint32_t sequence_number) { last_sequence_ = sequence_number; }

 private:
  TransportLimits limits_;
  std::optional<std::uint32_t> last_sequence_;
  std::optional<std::uint32_t> request_id_;
  std::vector<std::uint8_t> partial_;
  std::uint32_t chunks_ = 0;
};

}  // namespace resonance::opcua
