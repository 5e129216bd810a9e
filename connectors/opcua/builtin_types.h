#pragma once
// The OPC UA built-in types (OPC 10000-6, 5.1.2) as plain values. Null and empty are distinct
// where the wire makes them distinct (String, ByteString). These types carry no service meaning:
// the service structures (services.h) and PubSub UADP both build on them.

#include <array>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "resonance/core/status.h"
#include "resonance/core/time.h"

namespace resonance::opcua {

// Built-in type ids as they appear in a Variant's encoding byte (bits 0-5).
enum class BuiltinType : std::uint8_t {
  kNull = 0, kBoolean = 1, kSByte, kByte, kInt16, kUInt16, kInt32, kUInt32, kInt64, kUInt64,
  kFloat, kDouble, kString, kDateTime, kGuid, kByteString, kXmlElement, kNodeId, kExpandedNodeId,
  kStatusCode, kQualifiedName, kLocalizedText, kExtensionObject, kDataValue, kVariant,
  kDiagnosticInfo,  // = 25, the last one the binary encoding defines
};
std::string_view to_string(BuiltinType type);

// A deep-copying owner for the recursive members (Variant in DataValue in Variant ...).
template <typename T>
class Box {
 public:
  Box() : p_(std::make_unique<T>()) {}
  Box(T v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT: implicit on purpose
  Box(const Box& o) : p_(std::make_unique<T>(*o.p_)) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) { p_ = std::make_unique<T>(*o.p_); return *this; }
  Box& operator=(Box&&) noexcept = default;
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  bool operator==(const Box& o) const { return *p_ == *o.p_; }

 private:
  std::unique_ptr<T> p_;  // never null (a moved-from Box is only assigned to or destroyed)
};

// String: UTF-8 bytes, or null (length -1 on the wire).
struct UaString {
  std::optional<std::string> value;
  UaString() = default;
  UaString(std::string s) : value(std::move(s)) {}  // NOLINT
  UaString(const char* s) : value(std::string(s)) {}  // NOLINT
  bool is_null() const { return !value.has_value(); }
  std::string_view view() const { return value ? std::string_view(*value) : std::string_view(); }
  bool operator==(const UaString&) const = default;
};
struct ByteString {
  std::optional<std::string> bytes;  // raw octets; std::string only for cheap small-buffer storage
  bool operator==(const ByteString&) const = default;
};
struct XmlElement {
  std::optional<std::string> xml;
  bool operator==(const XmlElement&) const = default;
};

// 100-ns ticks since 1601-01-01 UTC; 0 means "no time".
struct DateTime {
  std::int64_t ticks = 0;
  static constexpr std::int64_t kUnixEpochTicks = 116'444'736'000'000'000;
  static DateTime from_unix_ns(TimestampNs ns) { return {ns / 100 + kUnixEpochTicks}; }
  // Clamped to what Unix nanoseconds can hold (1677…2262): servers send INT64_MAX for "end of
  // time", and the multiplication must not overflow.
  TimestampNs to_unix_ns() const {
    constexpr std::int64_t kMaxTicks = std::numeric_limits<std::int64_t>::max() / 100 + kUnixEpochTicks;
    constexpr std::int64_t kMinTicks = std::numeric_limits<std::int64_t>::min() / 100 + kUnixEpochTicks;
    return (std::clamp(ticks, kMinTicks, kMaxTicks) - kUnixEpochTicks) * 100;
  }
  bool is_null() const { return ticks <= 0; }
  bool operator==(const DateTime&) const = default;
};

struct Guid {
  std::uint32_t data1 = 0;
  std::uint16_t data2 = 0;
  std::uint16_t data3 = 0;
  std::array<std::uint8_t, 8> data4{};
  bool operator==(const Guid&) const = default;
};

struct StatusCode {
  std::uint32_t code = 0;
  bool is_good() const { return (code >> 30) == 0; }
  bool is_bad() const { return (code >> 31) != 0; }
  bool operator==(const StatusCode&) const = default;
};

struct NodeId {
  std::uint16_t ns = 0;
  std::variant<std::uint32_t, std::string, Guid, ByteString> id = std::uint32_t{0};

  static NodeId numeric(std::uint16_t ns, std::uint32_t v) { return {ns, v}; }
  static NodeId string(std::uint16_t ns, std::string v) { return {ns, std::move(v)}; }
  bool is_null() const {
    const auto* n = std::get_if<std::uint32_t>(&id);
    return ns == 0 && n && *n == 0;
  }
  // 0 when the id is not numeric.
  std::uint32_t numeric_id() const {
    const auto* n = std::get_if<std::uint32_t>(&id);
    return n ? *n : 0;
  }
  bool operator==(const NodeId&) const = default;
};
// "ns=2;s=Foo", "i=85", "ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a", "ns=1;b=<hex>".
std::string to_string(const NodeId& id);
// Parses the i=, s= and g= forms (with optional "ns=N;").
Result<NodeId> parse_node_id(std::string_view text);

struct ExpandedNodeId {
  NodeId node;
  UaString namespace_uri;       // null when absent (flag 0x80 clear)
  std::uint32_t server_index = 0;  // 0 when absent (flag 0x40 clear)
  bool operator==(const ExpandedNodeId&) const = default;
};

struct QualifiedName {
  std::uint16_t ns = 0;
  UaString name;
  bool operator==(const QualifiedName&) const = default;
};

struct LocalizedText {
  UaString locale;  // null when absent (mask bit 0x01)
  UaString text;    // null when absent (mask bit 0x02)
  bool operator==(const LocalizedText&) const = default;
};

// An encoded structure we may not know. `type_id` is the *encoding* node (e.g. i=811 for a
// DataChangeNotification in binary). The body is kept as raw bytes; services.h decodes the ones it
// knows, everything else is skipped by its length.
struct ExtensionObject {
  enum class Encoding : std::uint8_t { kNone = 0, kBinary = 1, kXml = 2 };
  NodeId type_id;
  Encoding encoding = Encoding::kNone;
  std::string body;  // raw octets (binary) or XML text
  bool operator==(const ExtensionObject&) const = default;
};

struct DataValue;
struct Variant;
struct DiagnosticInfo;

// One value of any built-in type; the index is BuiltinType - 1.
using Scalar = std::variant<bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t,
                            std::int32_t, std::uint32_t, std::int64_t, std::uint64_t, float, double,
                            UaString, DateTime, Guid, ByteString, XmlElement, NodeId,
                            ExpandedNodeId, StatusCode, QualifiedName, LocalizedText,
                            ExtensionObject, Box<DataValue>, Box<Variant>, Box<DiagnosticInfo>>;

inline BuiltinType type_of(const Scalar& s) { return static_cast<BuiltinType>(s.index() + 1); }

struct Variant {
  BuiltinType type = BuiltinType::kNull;
  bool is_array = false;
  std::vector<Scalar> values;           // one element for a scalar; all of `type`
  std::vector<std::int32_t> dimensions;  // matrix dimensions (flag 0x40), empty otherwise

  static Variant scalar(Scalar v) {
    Variant out;
    out.type = type_of(v);
    out.values.push_back(std::move(v));
    return out;
  }
  static Variant array(BuiltinType type, std::vector<Scalar> values) {
    return Variant{type, true, std::move(values), {}};
  }
  bool is_null() const { return type == BuiltinType::kNull; }
  // The numeric value of a scalar of a number type (Boolean as 0/1), for the historian.
  std::optional<double> as_double() const;
  bool operator==(const Variant&) const = default;
};

struct DataValue {
  std::optional<Variant> value;
  std::optional<StatusCode> status;  // absent means Good
  std::optional<DateTime> source_timestamp;
  std::optional<std::uint16_t> source_picoseconds;
  std::optional<DateTime> server_timestamp;
  std::optional<std::uint16_t> server_picoseconds;
  bool operator==(const DataValue&) const = default;
};

struct DiagnosticInfo {
  std::optional<std::int32_t> symbolic_id;
  std::optional<std::int32_t> namespace_uri;
  std::optional<std::int32_t> locale;
  std::optional<std::int32_t> localized_text;
  std::optional<UaString> additional_info;
  std::optional<StatusCode> inner_status;
  std::optional<Box<DiagnosticInfo>> inner_diagnostic;
  bool operator==(const DiagnosticInfo&) const = default;
};

}  // namespace resonance::opcua
