#pragma once
// Encoder and decoder of the built-in types (OPC 10000-6, 5.2.2). One overload pair per type:
//   void encode(Writer&, const T&);     // cannot fail
//   Status decode(Reader&, T&);         // names the type and the byte offset on failure
// The structure codec (struct_codec.h) dispatches to these by field type, so a new structure is
// described by its field table only.

#include <cstdint>

#include "connectors/opcua/binary.h"
#include "connectors/opcua/builtin_types.h"

namespace resonance::opcua {

inline void encode(Writer& w, bool v) { w.u8(v ? 1 : 0); }
inline void encode(Writer& w, std::int8_t v) { w.u8(static_cast<std::uint8_t>(v)); }
inline void encode(Writer& w, std::uint8_t v) { w.u8(v); }
inline void encode(Writer& w, std::int16_t v) { w.u16(static_cast<std::uint16_t>(v)); }
inline void encode(Writer& w, std::uint16_t v) { w.u16(v); }
inline void encode(Writer& w, std::int32_t v) { w.i32(v); }
inline void encode(Writer& w, std::uint32_t v) { w.u32(v); }
inline void encode(Writer& w, std::int64_t v) { w.u64(static_cast<std::uint64_t>(v)); }
inline void encode(Writer& w, std::uint64_t v) { w.u64(v); }
void encode(Writer& w, float v);
void encode(Writer& w, double v);
void encode(Writer& w, const UaString& v);
void encode(Writer& w, const ByteString& v);
void encode(Writer& w, const XmlElement& v);
inline void encode(Writer& w, DateTime v) { w.u64(static_cast<std::uint64_t>(v.ticks)); }
void encode(Writer& w, const Guid& v);
inline void encode(Writer& w, StatusCode v) { w.u32(v.code); }
void encode(Writer& w, const NodeId& v);  // smallest form that holds the id
void encode(Writer& w, const ExpandedNodeId& v);
void encode(Writer& w, const QualifiedName& v);
void encode(Writer& w, const LocalizedText& v);
void encode(Writer& w, const ExtensionObject& v);
void encode(Writer& w, const Variant& v);
void encode(Writer& w, const DataValue& v);
void encode(Writer& w, const DiagnosticInfo& v);
void encode(Writer& w, const Scalar& v);  // the value alone, without a type byte

Status decode(Reader& r, bool& v);
Status decode(Reader& r, std::int8_t& v);
Status decode(Reader& r, std::uint8_t& v);
Status decode(Reader& r, std::int16_t& v);
Status decode(Reader& r, std::uint16_t& v);
Status decode(Reader& r, std::int32_t& v);
Status decode(Reader& r, std::uint32_t& v);
Status decode(Reader& r, std::int64_t& v);
Status decode(Reader& r, std::uint64_t& v);
Status decode(Reader& r, float& v);
Status decode(Reader& r, double& v);
Status decode(Reader& r, UaString& v);
Status decode(Reader& r, ByteString& v);
Status decode(Reader& r, XmlElement& v);
Status decode(Reader& r, DateTime& v);
Status decode(Reader& r, Guid& v);
Status decode(Reader& r, StatusCode& v);
Status decode(Reader& r, NodeId& v);  // all six forms
Status decode(Reader& r, ExpandedNodeId& v);
Status decode(Reader& r, QualifiedName& v);
Status decode(Reader& r, LocalizedText& v);
Status decode(Reader& r, ExtensionObject& v);
Status decode(Reader& r, Variant& v);
Status decode(Reader& r, DataValue& v);
Status decode(Reader& r, DiagnosticInfo& v);
// One value of `type` (1..25), without a type byte.
Status decode_scalar(Reader& r, BuiltinType type, Scalar& out);

// The smallest encoded size of one value of `type`: the bound used to reject array lengths that
// cannot fit in the bytes left.
std::size_t min_encoded_size(BuiltinType type);

}  // namespace resonance::opcua
