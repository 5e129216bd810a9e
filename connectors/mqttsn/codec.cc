#include "connectors/mqttsn/codec.h"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace resonance::mqttsn {
namespace {

// Reads the body of one message. Offsets in errors are datagram offsets, so `pos_` starts after
// the header. Every read is bounds-checked against `end_` (the declared length, which decode()
// has already matched to the datagram size).
class Reader {
 public:
  Reader(std::span<const std::uint8_t> datagram, std::size_t body_offset, std::string_view type_name)
      : data_(datagram), pos_(body_offset), type_(type_name) {}

  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }

  Status fail(std::string_view what) const {
    return Status(StatusCode::kInvalidArgument, fmt::format("{}: {} at offset {}", type_, what, pos_));
  }
  Status need(std::size_t n, std::string_view field) const {
    if (remaining() >= n) return Status::ok();
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}: {} needs {} byte(s) at offset {}, only {} left", type_, field, n,
                              pos_, remaining()));
  }
  Result<std::uint8_t> u8(std::string_view field) {
    if (Status s = need(1, field); !s) return error(std::move(s));
    return data_[pos_++];
  }
  Result<std::uint16_t> u16(std::string_view field) {
    if (Status s = need(2, field); !s) return error(std::move(s));
    const auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::span<const std::uint8_t> rest() {
    auto r = data_.subspan(pos_);
    pos_ = data_.size();
    return r;
  }
  Status done() const {
    if (remaining() == 0) return Status::ok();
    return fail(fmt::format("{} unexpected trailing byte(s)", remaining()));
  }
  Result<Flags> flags() {
    const std::size_t at = pos_;
    auto b = u8("Flags");
    if (!b) return error(b.error());
    if ((*b & 0x03) == 0x03)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: Flags 0x{:02x} use the reserved TopicIdType 0b11 at offset {}",
                               type_, *b, at));
    Flags f;
    f.dup = (*b & 0x80) != 0;
    const int q = (*b >> 5) & 0x03;
    f.qos = static_cast<std::int8_t>(q == 3 ? -1 : q);
    f.retain = (*b & 0x10) != 0;
    f.will = (*b & 0x08) != 0;
    f.clean_session = (*b & 0x04) != 0;
    f.topic_id_type = static_cast<TopicIdType>(*b & 0x03);
    return f;
  }
  Result<ReturnCode> return_code() {
    const std::size_t at = pos_;
    auto b = u8("ReturnCode");
    if (!b) return error(b.error());
    if (*b > 0x03)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: reserved ReturnCode 0x{:02x} at offset {}", type_, *b, at));
    return static_cast<ReturnCode>(*b);
  }
  Result<std::string> client_id() {
    const std::size_t n = remaining();
    if (n < 1 || n > kMaxClientIdBytes)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: ClientId at offset {} is {} bytes, must be 1..{}", type_, pos_, n,
                               kMaxClientIdBytes));
    auto r = rest();
    return std::string(r.begin(), r.end());
  }
  Result<std::string> topic_name(std::string_view field) {
    if (remaining() == 0)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("{}: {} at offset {} is empty", type_, field, pos_));
    auto r = rest();
    return std::string(r.begin(), r.end());
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_;
  std::string_view type_;
};

// Appends to a vector it does not own: the gateway encodes every PUBACK of a group commit into
// one reused buffer instead of allocating one vector per message.
class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v & 0xff));
  }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void text(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
  void flags(const Flags& f) { u8(encode_flags(f)); }
  void return_code(ReturnCode rc) { u8(static_cast<std::uint8_t>(rc)); }
  std::vector<std::uint8_t>& out() { return out_; }

 private:
  std::vector<std::uint8_t>& out_;
};

// ---- per-type bodies: decode_body(Reader&, T&) and encode_body(Writer&, const T&) ----
// A decode_body reads fields in wire order and leaves trailing-byte checks to done().

Status decode_body(Reader& r, Advertise& m) {
  auto gw = r.u8("GwId");
  if (!gw) return gw.error();
  auto d = r.u16("Duration");
  if (!d) return d.error();
  m.gw_id = *gw;
  m.duration_s = *d;
  return r.done();
}
void encode_body(Writer& w, const Advertise& m) {
  w.u8(m.gw_id);
  w.u16(m.duration_s);
}

Status decode_body(Reader& r, SearchGw& m) {
  auto radius = r.u8("Radius");
  if (!radius) return radius.error();
  m.radius = *radius;
  return r.done();
}
void encode_body(Writer& w, const SearchGw& m) { w.u8(m.radius); }

Status decode_body(Reader& r, GwInfo& m) {
  auto gw = r.u8("GwId");
  if (!gw) return gw.error();
  m.gw_id = *gw;
  auto rest = r.rest();
  m.gw_address.assign(rest.begin(), rest.end());
  return Status::ok();
}
void encode_body(Writer& w, const GwInfo& m) {
  w.u8(m.gw_id);
  w.bytes(m.gw_address);
}

Status decode_body(Reader& r, Connect& m) {
  auto flags = r.flags();
  if (!flags) return flags.error();
  const std::size_t proto_at = r.pos();
  auto proto = r.u8("ProtocolId");
  if (!proto) return proto.error();
  if (*proto != 0x01)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("CONNECT: ProtocolId 0x{:02x} at offset {}, must be 0x01 (MQTT-SN v1.2)",
                              *proto, proto_at));
  auto d = r.u16("Duration");
  if (!d) return d.error();
  auto id = r.client_id();
  if (!id) return id.error();
  m.flags = *flags;
  m.protocol_id = *proto;
  m.duration_s = *d;
  m.client_id = std::move(*id);
  return Status::ok();
}
void encode_body(Writer& w, const Connect& m) {
  w.flags(m.flags);
  w.u8(m.protocol_id);
  w.u16(m.duration_s);
  w.text(m.client_id);
}

template <MsgType T>
Status decode_body(Reader& r, ReturnCodeOnly<T>& m) {
  auto rc = r.return_code();
  if (!rc) return rc.error();
  m.return_code = *rc;
  return r.done();
}
template <MsgType T>
void encode_body(Writer& w, const ReturnCodeOnly<T>& m) {
  w.return_code(m.return_code);
}

template <MsgType T>
Status decode_body(Reader& r, Empty<T>&) {
  return r.done();
}
template <MsgType T>
void encode_body(Writer&, const Empty<T>&) {}

template <MsgType T>
Status decode_body(Reader& r, WillTopicT<T>& m) {
  if (r.remaining() == 0) return Status::ok();  // the empty WILLTOPIC: delete the Will
  auto flags = r.flags();
  if (!flags) return flags.error();
  auto topic = r.topic_name("WillTopic (after a Flags octet)");
  if (!topic) return topic.error();
  m.flags = *flags;
  m.topic = std::move(*topic);
  return Status::ok();
}
template <MsgType T>
void encode_body(Writer& w, const WillTopicT<T>& m) {
  if (m.topic.empty()) return;
  w.flags(m.flags);
  w.text(m.topic);
}

template <MsgType T>
Status decode_body(Reader& r, WillMsgT<T>& m) {
  auto rest = r.rest();
  m.message.assign(rest.begin(), rest.end());
  return Status::ok();
}
template <MsgType T>
void encode_body(Writer& w, const WillMsgT<T>& m) {
  w.bytes(m.message);
}

Status decode_body(Reader& r, Register& m) {
  auto tid = r.u16("TopicId");
  if (!tid) return tid.error();
  auto mid = r.u16("MsgId");
  if (!mid) return mid.error();
  auto name = r.topic_name("TopicName");
  if (!name) return name.error();
  m.topic_id = *tid;
  m.msg_id = *mid;
  m.topic_name = std::move(*name);
  return Status::ok();
}
void encode_body(Writer& w, const Register& m) {
  w.u16(m.topic_id);
  w.u16(m.msg_id);
  w.text(m.topic_name);
}

template <MsgType T>
Status decode_body(Reader& r, TopicAck<T>& m) {
  auto tid = r.u16("TopicId");
  if (!tid) return tid.error();
  auto mid = r.u16("MsgId");
  if (!mid) return mid.error();
  auto rc = r.return_code();
  if (!rc) return rc.error();
  m.topic_id = *tid;
  m.msg_id = *mid;
  m.return_code = *rc;
  return r.done();
}
template <MsgType T>
void encode_body(Writer& w, const TopicAck<T>& m) {
  w.u16(m.topic_id);
  w.u16(m.msg_id);
  w.return_code(m.return_code);
}

Status decode_body(Reader& r, Publish& m) {
  auto flags = r.flags();
  if (!flags) return flags.error();
  auto tid = r.u16("TopicId");
  if (!tid) return tid.error();
  auto mid = r.u16("MsgId");
  if (!mid) return mid.error();
  m.flags = *flags;
  m.topic_id = *tid;
  m.msg_id = *mid;
  auto rest = r.rest();
  m.data.assign(rest.begin(), rest.end());
  return Status::ok();
}
void encode_body(Writer& w, const Publish& m) {
  w.flags(m.flags);
  w.u16(m.topic_id);
  w.u16(m.msg_id);
  w.bytes(m.data);
}

template <MsgType T>
Status decode_body(Reader& r, MsgIdOnly<T>& m) {
  auto mid = r.u16("MsgId");
  if (!mid) return mid.error();
  m.msg_id = *mid;
  return r.done();
}
template <MsgType T>
void encode_body(Writer& w, const MsgIdOnly<T>& m) {
  w.u16(m.msg_id);
}

template <MsgType T>
Status decode_body(Reader& r, SubscribeT<T>& m) {
  auto flags = r.flags();
  if (!flags) return flags.error();
  auto mid = r.u16("MsgId");
  if (!mid) return mid.error();
  m.flags = *flags;
  m.msg_id = *mid;
  if (flags->topic_id_type == TopicIdType::kNormal) {
    auto name = r.topic_name("TopicName");
    if (!name) return name.error();
    m.topic_name = std::move(*name);
    return Status::ok();
  }
  auto tid = r.u16("TopicId");
  if (!tid) return tid.error();
  m.topic_id = *tid;
  return r.done();
}
template <MsgType T>
void encode_body(Writer& w, const SubscribeT<T>& m) {
  w.flags(m.flags);
  w.u16(m.msg_id);
  if (m.flags.topic_id_type == TopicIdType::kNormal)
    w.text(m.topic_name);
  else
    w.u16(m.topic_id);
}

Status decode_body(Reader& r, Suback& m) {
  auto flags = r.flags();
  if (!flags) return flags.error();
  auto tid = r.u16("TopicId");
  if (!tid) return tid.error();
  auto mid = r.u16("MsgId");
  if (!mid) return mid.error();
  auto rc = r.return_code();
  if (!rc) return rc.error();
  m.flags = *flags;
  m.topic_id = *tid;
  m.msg_id = *mid;
  m.return_code = *rc;
  return r.done();
}
void encode_body(Writer& w, const Suback& m) {
  w.flags(m.flags);
  w.u16(m.topic_id);
  w.u16(m.msg_id);
  w.return_code(m.return_code);
}

Status decode_body(Reader& r, Pingreq& m) {
  if (r.remaining() == 0) return Status::ok();
  auto id = r.client_id();
  if (!id) return id.error();
  m.client_id = std::move(*id);
  return Status::ok();
}
void encode_body(Writer& w, const Pingreq& m) {
  if (m.client_id) w.text(*m.client_id);
}

Status decode_body(Reader& r, Disconnect& m) {
  if (r.remaining() == 0) return Status::ok();
  auto d = r.u16("Duration");
  if (!d) return d.error();
  m.duration_s = *d;
  return r.done();
}
void encode_body(Writer& w, const Disconnect& m) {
  if (m.duration_s) w.u16(*m.duration_s);
}

// Type byte -> variant index, built once from the alternatives' kType.
template <std::size_t... I>
constexpr std::array<int, 256> make_type_table(std::index_sequence<I...>) {
  std::array<int, 256> table{};
  for (auto& t : table) t = -1;
  ((table[static_cast<std::uint8_t>(std::variant_alternative_t<I, Message>::kType)] = static_cast<int>(I)),
   ...);
  return table;
}
constexpr auto kTypeTable = make_type_table(std::make_index_sequence<std::variant_size_v<Message>>{});

template <std::size_t I = 0>
Result<Message> decode_as(std::size_t index, Reader& r) {
  if constexpr (I < std::variant_size_v<Message>) {
    if (index == I) {
      std::variant_alternative_t<I, Message> m;
      if (Status s = decode_body(r, m); !s) return error(std::move(s));
      return Message(std::move(m));
    }
    return decode_as<I + 1>(index, r);
  } else {
    return error(StatusCode::kInternal, "mqttsn codec: type table out of sync");
  }
}

Status validate_for_encode(const Message& message) {
  if (const auto* c = std::get_if<Connect>(&message)) {
    if (c->client_id.empty() || c->client_id.size() > kMaxClientIdBytes)
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("CONNECT: ClientId is {} bytes, must be 1..{}", c->client_id.size(),
                                kMaxClientIdBytes));
  }
  if (const auto* p = std::get_if<Pingreq>(&message)) {
    if (p->client_id && (p->client_id->empty() || p->client_id->size() > kMaxClientIdBytes))
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("PINGREQ: ClientId is {} bytes, must be 1..{}", p->client_id->size(),
                                kMaxClientIdBytes));
  }
  return Status::ok();
}

}  // namespace

std::string msg_type_name(std::uint8_t type) {
  static constexpr std::array<std::string_view, 0x1E> kNames = {
      "ADVERTISE", "SEARCHGW",  "GWINFO",    "",         "CONNECT",      "CONNACK",
      "WILLTOPICREQ", "WILLTOPIC", "WILLMSGREQ", "WILLMSG", "REGISTER", "REGACK",
      "PUBLISH",   "PUBACK",    "PUBCOMP",   "PUBREC",   "PUBREL",       "",
      "SUBSCRIBE", "SUBACK",    "UNSUBSCRIBE", "UNSUBACK", "PINGREQ",    "PINGRESP",
      "DISCONNECT", "",         "WILLTOPICUPD", "WILLTOPICRESP", "WILLMSGUPD", "WILLMSGRESP"};
  if (type < kNames.size() && !kNames[type].empty()) return std::string(kNames[type]);
  return fmt::format("0x{:02x}", type);
}

std::uint8_t encode_flags(const Flags& f) {
  const int q = f.qos < 0 ? 3 : (f.qos & 0x03);
  return static_cast<std::uint8_t>((f.dup ? 0x80 : 0) | (q << 5) | (f.retain ? 0x10 : 0) |
                                   (f.will ? 0x08 : 0) | (f.clean_session ? 0x04 : 0) |
                                   (static_cast<std::uint8_t>(f.topic_id_type) & 0x03));
}

Result<Message> decode(std::span<const std::uint8_t> datagram) {
  const std::size_t size = datagram.size();
  if (size == 0) return error(StatusCode::kInvalidArgument, "empty datagram at offset 0");
  std::size_t length = datagram[0];
  std::size_t header = 1;
  if (datagram[0] == 0x01) {
    if (size < 3)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("three-octet Length truncated: datagram has {} byte(s) at offset 0", size));
    length = (std::size_t{datagram[1]} << 8) | datagram[2];
    header = 3;
    if (length < 4)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("three-octet Length {} at offset 1 is below the minimum of 4", length));
  } else if (length < 2) {
    return error(StatusCode::kInvalidArgument,
                 fmt::format("Length {} at offset 0 is below the minimum of 2", length));
  }
  if (length != size)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("Length {} at offset {} does not match the datagram size {}", length,
                             header == 3 ? 1 : 0, size));
  const std::uint8_t type = datagram[header];
  const int index = kTypeTable[type];
  if (index < 0)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("MsgType 0x{:02x} at offset {} is reserved or not supported", type, header));
  const std::string name = msg_type_name(type);
  Reader reader(datagram, header + 1, name);
  return decode_as(static_cast<std::size_t>(index), reader);
}

Status encode_append(const Message& message, std::vector<std::uint8_t>& out, LengthForm form) {
  if (Status s = validate_for_encode(message); !s) return s;
  const std::size_t start = out.size();
  // The short form's Length octet and the MsgType first; the body follows. The rare long form
  // (over 255 bytes) then opens two more octets at the front.
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(type_of(message)));
  Writer body(out);
  std::visit([&](const auto& m) { encode_body(body, m); }, message);
  const std::size_t short_total = out.size() - start;
  const bool use_long = form == LengthForm::kLong || (form == LengthForm::kAuto && short_total > 255);
  const std::size_t total = use_long ? short_total + 2 : short_total;
  const auto fail = [&](std::string why) {
    out.resize(start);  // nothing half-written stays behind
    return Status(StatusCode::kInvalidArgument, std::move(why));
  };
  if (!use_long && total > 255)
    return fail(fmt::format("{}: {} bytes do not fit the one-octet Length form", msg_type_name(type_of(message)),
                            total));
  if (total > kMaxMessageBytes)
    return fail(fmt::format("{}: {} bytes exceed the maximum message size of {}", msg_type_name(type_of(message)),
                            total, kMaxMessageBytes));
  if (use_long) {
    const std::uint8_t header[3] = {0x01, static_cast<std::uint8_t>(total >> 8),
                                    static_cast<std::uint8_t>(total & 0xff)};
    out[start] = header[0];
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(start) + 1, header + 1, header + 3);
  } else {
    out[start] = static_cast<std::uint8_t>(total);
  }
  return {};
}

Result<std::vector<std::uint8_t>> encode(const Message& message, LengthForm form) {
  std::vector<std::uint8_t> out;
  if (Status s = encode_append(message, out, form); !s) return error(std::move(s));
  return out;
}

std::string hex_dump(std::span<const std::uint8_t> bytes, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = std::min(bytes.size(), max_bytes);
  out.reserve(n * 3 + 4);
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out.push_back(' ');
    fmt::format_to(std::back_inserter(out), "{:02x}", bytes[i]);
  }
  if (bytes.size() > n) out += " ...";
  return out;
}

}  // namespace resonance::mqttsn
