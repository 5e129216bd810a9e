#include "connectors/opcua/builtin_codec.h"

#include <bit>
#include <cstring>
#include <string>

namespace resonance::opcua {
namespace {

// NodeId encoding byte (OPC 10000-6, 5.2.2.9); the top two bits are ExpandedNodeId flags.
constexpr std::uint8_t kTwoByte = 0x00, kFourByte = 0x01, kNumeric = 0x02, kStringId = 0x03,
                       kGuidId = 0x04, kByteStringId = 0x05;
constexpr std::uint8_t kFlagNamespaceUri = 0x80, kFlagServerIndex = 0x40;

// DataValue mask (5.2.2.17).
constexpr std::uint8_t kDvValue = 0x01, kDvStatus = 0x02, kDvSourceTs = 0x04, kDvServerTs = 0x08,
                       kDvSourcePs = 0x10, kDvServerPs = 0x20;
// DiagnosticInfo mask (5.2.2.12).
constexpr std::uint8_t kDiSymbolicId = 0x01, kDiNamespace = 0x02, kDiLocalizedText = 0x04,
                       kDiLocale = 0x08, kDiAdditional = 0x10, kDiInnerStatus = 0x20,
                       kDiInnerDiag = 0x40;
// Variant mask (5.2.2.16).
constexpr std::uint8_t kVariantArray = 0x80, kVariantDims = 0x40, kVariantTypeMask = 0x3F;

void encode_optional_string(Writer& w, const std::optional<std::string>& s) {
  if (!s) {
    w.i32(-1);
    return;
  }
  w.i32(static_cast<std::int32_t>(s->size()));
  w.bytes(*s);
}

Status decode_optional_string(Reader& r, std::optional<std::string>& out, std::string_view what) {
  const std::size_t at = r.offset();
  auto n = r.i32(what);
  if (!n) return n.error();
  if (*n == -1) {
    out.reset();
    return Status::ok();
  }
  if (*n < 0) return r.fail(what, at, "negative length " + std::to_string(*n));
  auto b = r.bytes(static_cast<std::size_t>(*n), what);
  if (!b) return r.fail(what, at, "length " + std::to_string(*n) + " exceeds the " +
                                     std::to_string(r.remaining()) + " bytes left");
  out.emplace(reinterpret_cast<const char*>(b->data()), b->size());
  return Status::ok();
}

template <typename T>
Status decode_int(Reader& r, T& v, std::string_view what) {
  if constexpr (sizeof(T) == 1) {
    auto x = r.u8(what);
    if (!x) return x.error();
    v = static_cast<T>(*x);
  } else if constexpr (sizeof(T) == 2) {
    auto x = r.u16(what);
    if (!x) return x.error();
    v = static_cast<T>(*x);
  } else if constexpr (sizeof(T) == 4) {
    auto x = r.u32(what);
    if (!x) return x.error();
    v = static_cast<T>(*x);
  } else {
    auto x = r.u64(what);
    if (!x) return x.error();
    v = static_cast<T>(*x);
  }
  return Status::ok();
}

}  // namespace

std::string_view to_string(BuiltinType type) {
  static constexpr std::string_view kNames[] = {
      "Null", "Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64",
      "UInt64", "Float", "Double", "String", "DateTime", "Guid", "ByteString", "XmlElement",
      "NodeId", "ExpandedNodeId", "StatusCode", "QualifiedName", "LocalizedText",
      "ExtensionObject", "DataValue", "Variant", "DiagnosticInfo"};
  const auto i = static_cast<std::size_t>(type);
  return i < std::size(kNames) ? kNames[i] : std::string_view("unknown");
}

std::size_t min_encoded_size(BuiltinType type) {
  switch (type) {
    case BuiltinType::kInt16: case BuiltinType::kUInt16: case BuiltinType::kNodeId:
    case BuiltinType::kExpandedNodeId:
      return 2;
    case BuiltinType::kInt32: case BuiltinType::kUInt32: case BuiltinType::kFloat:
    case BuiltinType::kString: case BuiltinType::kByteString: case BuiltinType::kXmlElement:
    case BuiltinType::kStatusCode:
      return 4;
    case BuiltinType::kInt64: case BuiltinType::kUInt64: case BuiltinType::kDouble:
    case BuiltinType::kDateTime:
      return 8;
    case BuiltinType::kGuid: return 16;
    case BuiltinType::kQualifiedName: return 6;
    case BuiltinType::kExtensionObject: return 3;
    default: return 1;
  }
}

// ---- encoders ---------------------------------------------------------------------------------

void encode(Writer& w, float v) { w.u32(std::bit_cast<std::uint32_t>(v)); }
void encode(Writer& w, double v) { w.u64(std::bit_cast<std::uint64_t>(v)); }
void encode(Writer& w, const UaString& v) { encode_optional_string(w, v.value); }
void encode(Writer& w, const ByteString& v) { encode_optional_string(w, v.bytes); }
void encode(Writer& w, const XmlElement& v) { encode_optional_string(w, v.xml); }

void encode(Writer& w, const Guid& v) {
  w.u32(v.data1);
  w.u16(v.data2);
  w.u16(v.data3);
  w.bytes(std::span<const std::uint8_t>(v.data4));
}

namespace {
void encode_node_id(Writer& w, const NodeId& v, std::uint8_t flags) {
  if (const auto* n = std::get_if<std::uint32_t>(&v.id)) {
    if (v.ns == 0 && *n <= 0xFF) {
      w.u8(kTwoByte | flags);
      w.u8(static_cast<std::uint8_t>(*n));
    } else if (v.ns <= 0xFF && *n <= 0xFFFF) {
      w.u8(kFourByte | flags);
      w.u8(static_cast<std::uint8_t>(v.ns));
      w.u16(static_cast<std::uint16_t>(*n));
    } else {
      w.u8(kNumeric | flags);
      w.u16(v.ns);
      w.u32(*n);
    }
  } else if (const auto* s = std::get_if<std::string>(&v.id)) {
    w.u8(kStringId | flags);
    w.u16(v.ns);
    encode(w, UaString(*s));
  } else if (const auto* g = std::get_if<Guid>(&v.id)) {
    w.u8(kGuidId | flags);
    w.u16(v.ns);
    encode(w, *g);
  } else {
    w.u8(kByteStringId | flags);
    w.u16(v.ns);
    encode(w, std::get<ByteString>(v.id));
  }
}
}  // namespace

void encode(Writer& w, const NodeId& v) { encode_node_id(w, v, 0); }

void encode(Writer& w, const ExpandedNodeId& v) {
  std::uint8_t flags = 0;
  if (!v.namespace_uri.is_null()) flags |= kFlagNamespaceUri;
  if (v.server_index != 0) flags |= kFlagServerIndex;
  encode_node_id(w, v.node, flags);
  if (flags & kFlagNamespaceUri) encode(w, v.namespace_uri);
  if (flags & kFlagServerIndex) w.u32(v.server_index);
}

void encode(Writer& w, const QualifiedName& v) {
  w.u16(v.ns);
  encode(w, v.name);
}

void encode(Writer& w, const LocalizedText& v) {
  const std::uint8_t mask = (v.locale.is_null() ? 0 : 0x01) | (v.text.is_null() ? 0 : 0x02);
  w.u8(mask);
  if (mask & 0x01) encode(w, v.locale);
  if (mask & 0x02) encode(w, v.text);
}

void encode(Writer& w, const ExtensionObject& v) {
  encode(w, v.type_id);
  w.u8(static_cast<std::uint8_t>(v.encoding));
  if (v.encoding != ExtensionObject::Encoding::kNone) encode_optional_string(w, v.body);
}

void encode(Writer& w, const Scalar& v) {
  std::visit(
      [&w](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Box<DataValue>> || std::is_same_v<T, Box<Variant>> ||
                      std::is_same_v<T, Box<DiagnosticInfo>>) {
          encode(w, *x);
        } else {
          encode(w, x);
        }
      },
      v);
}

void encode(Writer& w, const Variant& v) {
  if (v.type == BuiltinType::kNull) {
    w.u8(0);
    return;
  }
  std::uint8_t mask = static_cast<std::uint8_t>(v.type);
  if (v.is_array) mask |= kVariantArray;
  if (v.is_array && !v.dimensions.empty()) mask |= kVariantDims;
  w.u8(mask);
  if (v.is_array) w.i32(static_cast<std::int32_t>(v.values.size()));
  for (const auto& x : v.values) encode(w, x);
  if (mask & kVariantDims) {
    w.i32(static_cast<std::int32_t>(v.dimensions.size()));
    for (auto d : v.dimensions) w.i32(d);
  }
}

void encode(Writer& w, const DataValue& v) {
  std::uint8_t mask = 0;
  if (v.value) mask |= kDvValue;
  if (v.status) mask |= kDvStatus;
  if (v.source_timestamp) mask |= kDvSourceTs;
  if (v.server_timestamp) mask |= kDvServerTs;
  if (v.source_picoseconds) mask |= kDvSourcePs;
  if (v.server_picoseconds) mask |= kDvServerPs;
  w.u8(mask);
  if (v.value) encode(w, *v.value);
  if (v.status) encode(w, *v.status);
  if (v.source_timestamp) encode(w, *v.source_timestamp);
  if (v.source_picoseconds) w.u16(*v.source_picoseconds);
  if (v.server_timestamp) encode(w, *v.server_timestamp);
  if (v.server_picoseconds) w.u16(*v.server_picoseconds);
}

void encode(Writer& w, const DiagnosticInfo& v) {
  std::uint8_t mask = 0;
  if (v.symbolic_id) mask |= kDiSymbolicId;
  if (v.namespace_uri) mask |= kDiNamespace;
  if (v.localized_text) mask |= kDiLocalizedText;
  if (v.locale) mask |= kDiLocale;
  if (v.additional_info) mask |= kDiAdditional;
  if (v.inner_status) mask |= kDiInnerStatus;
  if (v.inner_diagnostic) mask |= kDiInnerDiag;
  w.u8(mask);
  if (v.symbolic_id) w.i32(*v.symbolic_id);
  if (v.namespace_uri) w.i32(*v.namespace_uri);
  if (v.locale) w.i32(*v.locale);
  if (v.localized_text) w.i32(*v.localized_text);
  if (v.additional_info) encode(w, *v.additional_info);
  if (v.inner_status) encode(w, *v.inner_status);
  if (v.inner_diagnostic) encode(w, **v.inner_diagnostic);
}

// ---- decoders ---------------------------------------------------------------------------------

Status decode(Reader& r, bool& v) {
  std::uint8_t b = 0;
  if (auto s = decode_int(r, b, "Boolean"); !s) return s;
  v = b != 0;
  return Status::ok();
}
Status decode(Reader& r, std::int8_t& v) { return decode_int(r, v, "SByte"); }
Status decode(Reader& r, std::uint8_t& v) { return decode_int(r, v, "Byte"); }
Status decode(Reader& r, std::int16_t& v) { return decode_int(r, v, "Int16"); }
Status decode(Reader& r, std::uint16_t& v) { return decode_int(r, v, "UInt16"); }
Status decode(Reader& r, std::int32_t& v) { return decode_int(r, v, "Int32"); }
Status decode(Reader& r, std::uint32_t& v) { return decode_int(r, v, "UInt32"); }
Status decode(Reader& r, std::int64_t& v) { return decode_int(r, v, "Int64"); }
Status decode(Reader& r, std::uint64_t& v) { return decode_int(r, v, "UInt64"); }
Status decode(Reader& r, float& v) {
  std::uint32_t bits = 0;
  if (auto s = decode_int(r, bits, "Float"); !s) return s;
  v = std::bit_cast<float>(bits);
  return Status::ok();
}
Status decode(Reader& r, double& v) {
  std::uint64_t bits = 0;
  if (auto s = decode_int(r, bits, "Double"); !s) return s;
  v = std::bit_cast<double>(bits);
  return Status::ok();
}
Status decode(Reader& r, UaString& v) { return decode_optional_string(r, v.value, "String"); }
Status decode(Reader& r, ByteString& v) { return decode_optional_string(r, v.bytes, "ByteString"); }
Status decode(Reader& r, XmlElement& v) { return decode_optional_string(r, v.xml, "XmlElement"); }
Status decode(Reader& r, DateTime& v) { return decode_int(r, v.ticks, "DateTime"); }
Status decode(Reader& r, StatusCode& v) { return decode_int(r, v.code, "StatusCode"); }

Status decode(Reader& r, Guid& v) {
  if (auto s = decode_int(r, v.data1, "Guid"); !s) return s;
  if (auto s = decode_int(r, v.data2, "Guid"); !s) return s;
  if (auto s = decode_int(r, v.data3, "Guid"); !s) return s;
  auto b = r.bytes(8, "Guid");
  if (!b) return b.error();
  std::memcpy(v.data4.data(), b->data(), 8);
  return Status::ok();
}

namespace {
// Decodes the NodeId part; returns the flag bits so ExpandedNodeId can read what follows.
Result<std::uint8_t> decode_node_id(Reader& r, NodeId& v, std::string_view what) {
  const std::size_t at = r.offset();
  auto enc = r.u8(what);
  if (!enc) return error(enc.error());
  const std::uint8_t flags = *enc & (kFlagNamespaceUri | kFlagServerIndex);
  switch (*enc & 0x3F) {
    case kTwoByte: {
      auto id = r.u8(what);
      if (!id) return error(id.error());
      v = NodeId{0, std::uint32_t{*id}};
      break;
    }
    case kFourByte: {
      auto ns = r.u8(what);
      if (!ns) return error(ns.error());
      auto id = r.u16(what);
      if (!id) return error(id.error());
      v = NodeId{*ns, std::uint32_t{*id}};
      break;
    }
    case kNumeric: {
      auto ns = r.u16(what);
      if (!ns) return error(ns.error());
      auto id = r.u32(what);
      if (!id) return error(id.error());
      v = NodeId{*ns, *id};
      break;
    }
    case kStringId: {
      auto ns = r.u16(what);
      if (!ns) return error(ns.error());
      UaString s;
      if (auto st = decode(r, s); !st) return error(with_context(std::move(st), what));
      v = NodeId{*ns, s.value.value_or(std::string())};
      break;
    }
    case kGuidId: {
      auto ns = r.u16(what);
      if (!ns) return error(ns.error());
      Guid g;
      if (auto st = decode(r, g); !st) return error(with_context(std::move(st), what));
      v = NodeId{*ns, g};
      break;
    }
    case kByteStringId: {
      auto ns = r.u16(what);
      if (!ns) return error(ns.error());
      ByteString b;
      if (auto st = decode(r, b); !st) return error(with_context(std::move(st), what));
      v = NodeId{*ns, std::move(b)};
      break;
    }
    default:
      return error(r.fail(what, at, "unknown encoding byte 0x" + [&] {
        static constexpr char kHex[] = "0123456789abcdef";
        return std::string{kHex[*enc >> 4], kHex[*enc & 0xF]};
      }()));
  }
  return flags;
}
}  // namespace

Status decode(Reader& r, NodeId& v) {
  const std::size_t at = r.offset();
  auto flags = decode_node_id(r, v, "NodeId");
  if (!flags) return flags.error();
  if (*flags != 0) return r.fail("NodeId", at, "ExpandedNodeId flags set in a plain NodeId");
  return Status::ok();
}

Status decode(Reader& r, ExpandedNodeId& v) {
  auto flags = decode_node_id(r, v.node, "ExpandedNodeId");
  if (!flags) return flags.error();
  v.namespace_uri = UaString();
  v.server_index = 0;
  if (*flags & kFlagNamespaceUri) {
    if (auto s = decode(r, v.namespace_uri); !s) return with_context(std::move(s), "ExpandedNodeId");
  }
  if (*flags & kFlagServerIndex) {
    if (auto s = decode_int(r, v.server_index, "ExpandedNodeId.ServerIndex"); !s) return s;
  }
  return Status::ok();
}

Status decode(Reader& r, QualifiedName& v) {
  if (auto s = decode_int(r, v.ns, "QualifiedName.NamespaceIndex"); !s) return s;
  return with_context(decode(r, v.name), "QualifiedName.Name");
}

Status decode(Reader& r, LocalizedText& v) {
  const std::size_t at = r.offset();
  std::uint8_t mask = 0;
  if (auto s = decode_int(r, mask, "LocalizedText"); !s) return s;
  if (mask & ~0x03) return r.fail("LocalizedText", at, "reserved mask bits set");
  v = LocalizedText{};
  if (mask & 0x01) {
    if (auto s = decode(r, v.locale); !s) return with_context(std::move(s), "LocalizedText.Locale");
  }
  if (mask & 0x02) {
    if (auto s = decode(r, v.text); !s) return with_context(std::move(s), "LocalizedText.Text");
  }
  return Status::ok();
}

Status decode(Reader& r, ExtensionObject& v) {
  if (auto s = decode(r, v.type_id); !s) return with_context(std::move(s), "ExtensionObject.TypeId");
  const std::size_t at = r.offset();
  std::uint8_t enc = 0;
  if (auto s = decode_int(r, enc, "ExtensionObject.Encoding"); !s) return s;
  if (enc > 2)
    return r.fail("ExtensionObject.Encoding", at, "unknown body encoding " + std::to_string(enc));
  v.encoding = static_cast<ExtensionObject::Encoding>(enc);
  v.body.clear();
  if (v.encoding == ExtensionObject::Encoding::kNone) return Status::ok();
  std::optional<std::string> body;
  if (auto s = decode_optional_string(r, body, "ExtensionObject.Body"); !s) return s;
  v.body = std::move(body).value_or(std::string());
  return Status::ok();
}

Status decode_scalar(Reader& r, BuiltinType type, Scalar& out) {
  // Emplaces the alternative for `type` and decodes into it.
  auto into = [&r, &out]<typename T>(std::in_place_type_t<T>) -> Status {
    auto& slot = out.emplace<T>();
    if constexpr (std::is_same_v<T, Box<DataValue>> || std::is_same_v<T, Box<Variant>> ||
                  std::is_same_v<T, Box<DiagnosticInfo>>) {
      return decode(r, *slot);
    } else {
      return decode(r, slot);
    }
  };
  switch (type) {
    case BuiltinType::kBoolean: return into(std::in_place_type<bool>);
    case BuiltinType::kSByte: return into(std::in_place_type<std::int8_t>);
    case BuiltinType::kByte: return into(std::in_place_type<std::uint8_t>);
    case BuiltinType::kInt16: return into(std::in_place_type<std::int16_t>);
    case BuiltinType::kUInt16: return into(std::in_place_type<std::uint16_t>);
    case BuiltinType::kInt32: return into(std::in_place_type<std::int32_t>);
    case BuiltinType::kUInt32: return into(std::in_place_type<std::uint32_t>);
    case BuiltinType::kInt64: return into(std::in_place_type<std::int64_t>);
    case BuiltinType::kUInt64: return into(std::in_place_type<std::uint64_t>);
    case BuiltinType::kFloat: return into(std::in_place_type<float>);
    case BuiltinType::kDouble: return into(std::in_place_type<double>);
    case BuiltinType::kString: return into(std::in_place_type<UaString>);
    case BuiltinType::kDateTime: return into(std::in_place_type<DateTime>);
    case BuiltinType::kGuid: return into(std::in_place_type<Guid>);
    case BuiltinType::kByteString: return into(std::in_place_type<ByteString>);
    case BuiltinType::kXmlElement: return into(std::in_place_type<XmlElement>);
    case BuiltinType::kNodeId: return into(std::in_place_type<NodeId>);
    case BuiltinType::kExpandedNodeId: return into(std::in_place_type<ExpandedNodeId>);
    case BuiltinType::kStatusCode: return into(std::in_place_type<StatusCode>);
    case BuiltinType::kQualifiedName: return into(std::in_place_type<QualifiedName>);
    case BuiltinType::kLocalizedText: return into(std::in_place_type<LocalizedText>);
    case BuiltinType::kExtensionObject: return into(std::in_place_type<ExtensionObject>);
    case BuiltinType::kDataValue: return into(std::in_place_type<Box<DataValue>>);
    case BuiltinType::kVariant: return into(std::in_place_type<Box<Variant>>);
    case BuiltinType::kDiagnosticInfo: return into(std::in_place_type<Box<DiagnosticInfo>>);
    case BuiltinType::kNull: break;
  }
  return r.fail("Variant", r.offset(), "no value for built-in type " +
                                         std::to_string(static_cast<int>(type)));
}

Status decode(Reader& r, Variant& v) {
  const std::size_t at = r.offset();
  std::uint8_t mask = 0;
  if (auto s = decode_int(r, mask, "Variant"); !s) return s;
  const std::uint8_t type_id = mask & kVariantTypeMask;
  v = Variant{};
  if (type_id > static_cast<std::uint8_t>(BuiltinType::kDiagnosticInfo))
    return r.fail("Variant", at, "unknown built-in type id " + std::to_string(type_id));
  if (type_id == 0) {
    if (mask != 0) return r.fail("Variant", at, "array or dimension flags on a Null variant");
    return Status::ok();
  }
  if ((mask & kVariantDims) && !(mask & kVariantArray))
    return r.fail("Variant", at, "dimensions flag without the array flag");
  if (auto s = r.enter("Variant"); !s) return s;
  v.type = static_cast<BuiltinType>(type_id);
  v.is_array = (mask & kVariantArray) != 0;
  std::size_t count = 1;
  if (v.is_array) {
    auto n = r.array_length("Variant.ArrayLength", min_encoded_size(v.type));
    if (!n) {
      r.leave();
      return n.error();
    }
    count = *n;
    if (auto s = r.charge("Variant.ArrayLength", count, sizeof(v.values[0])); !s) {
      r.leave();
      return s;
    }
  }
  v.values.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (auto s = decode_scalar(r, v.type, v.values[i]); !s) {
      r.leave();
      return with_context(std::move(s), v.is_array ? "Variant[" + std::to_string(i) + "]"
                                                   : std::string("Variant"));
    }
  }
  r.leave();
  if (mask & kVariantDims) {
    const std::size_t dims_at = r.offset();
    auto n = r.array_length("Variant.ArrayDimensions", 4);
    if (!n) return n.error();
    std::uint64_t product = 1;
    v.dimensions.resize(*n);
    for (auto& d : v.dimensions) {
      if (auto s = decode_int(r, d, "Variant.ArrayDimensions"); !s) return s;
      if (d < 0) return r.fail("Variant.ArrayDimensions", dims_at, "negative dimension");
      product = d == 0 ? 0 : (product > count ? product : product * static_cast<std::uint64_t>(d));
    }
    if (*n == 0 || product != count)
      return r.fail("Variant.ArrayDimensions", dims_at,
                    "dimensions do not multiply to the array length " + std::to_string(count));
  }
  return Status::ok();
}

Status decode(Reader& r, DataValue& v) {
  const std::size_t at = r.offset();
  std::uint8_t mask = 0;
  if (auto s = decode_int(r, mask, "DataValue"); !s) return s;
  if (mask & 0xC0) return r.fail("DataValue", at, "reserved mask bits set");
  v = DataValue{};
  if (mask & kDvValue) {
    if (auto s = r.enter("DataValue"); !s) return s;
    auto s = decode(r, v.value.emplace());
    r.leave();
    if (!s) return with_context(std::move(s), "DataValue.Value");
  }
  if (mask & kDvStatus) {
    if (auto s = decode(r, v.status.emplace()); !s) return with_context(std::move(s), "DataValue");
  }
  if (mask & kDvSourceTs) {
    if (auto s = decode(r, v.source_timestamp.emplace()); !s) return with_context(std::move(s), "DataValue.SourceTimestamp");
  }
  if (mask & kDvSourcePs) {
    if (auto s = decode_int(r, v.source_picoseconds.emplace(), "DataValue.SourcePicoseconds"); !s) return s;
  }
  if (mask & kDvServerTs) {
    if (auto s = decode(r, v.server_timestamp.emplace()); !s) return with_context(std::move(s), "DataValue.ServerTimestamp");
  }
  if (mask & kDvServerPs) {
    if (auto s = decode_int(r, v.server_picoseconds.emplace(), "DataValue.ServerPicoseconds"); !s) return s;
  }
  return Status::ok();
}

Status decode(Reader& r, DiagnosticInfo& v) {
  const std::size_t at = r.offset();
  std::uint8_t mask = 0;
  if (auto s = decode_int(r, mask, "DiagnosticInfo"); !s) return s;
  if (mask & 0x80) return r.fail("DiagnosticInfo", at, "reserved mask bit 0x80 set");
  v = DiagnosticInfo{};
  if (mask & kDiSymbolicId) {
    if (auto s = decode_int(r, v.symbolic_id.emplace(), "DiagnosticInfo.SymbolicId"); !s) return s;
  }
  if (mask & kDiNamespace) {
    if (auto s = decode_int(r, v.namespace_uri.emplace(), "DiagnosticInfo.NamespaceUri"); !s) return s;
  }
  if (mask & kDiLocale) {
    if (auto s = decode_int(r, v.locale.emplace(), "DiagnosticInfo.Locale"); !s) return s;
  }
  if (mask & kDiLocalizedText) {
    if (auto s = decode_int(r, v.localized_text.emplace(), "DiagnosticInfo.LocalizedText"); !s) return s;
  }
  if (mask & kDiAdditional) {
    if (auto s = decode(r, v.additional_info.emplace()); !s) return with_context(std::move(s), "DiagnosticInfo.AdditionalInfo");
  }
  if (mask & kDiInnerStatus) {
    if (auto s = decode(r, v.inner_status.emplace()); !s) return with_context(std::move(s), "DiagnosticInfo.InnerStatusCode");
  }
  if (mask & kDiInnerDiag) {
    if (auto s = r.enter("DiagnosticInfo"); !s) return s;
    auto s = decode(r, *v.inner_diagnostic.emplace());
    r.leave();
    if (!s) return with_context(std::move(s), "DiagnosticInfo.InnerDiagnosticInfo");
  }
  return Status::ok();
}

}  // namespace resonance::opcua
