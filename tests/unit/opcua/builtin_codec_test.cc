// Built-in type codec: byte vectors from OPC 10000-6 5.2 and node-opcua, round trips, and every
// error path naming the field and the offset.

#include "connectors/opcua/builtin_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace resonance::opcua {
namespace {

using Bytes = std::vector<std::uint8_t>;

template <typename T>
Bytes encoded(const T& v) {
  Writer w;
  encode(w, v);
  return w.take();
}

template <typename T>
Result<T> decoded(const Bytes& b, DecodeLimits limits = {}) {
  Reader r(b, limits);
  T out{};
  if (auto s = decode(r, out); !s) return error(std::move(s));
  if (r.remaining() != 0) return error(resonance::StatusCode::kInvalidArgument, "trailing bytes");
  return out;
}

template <typename T>
void expect_round_trip(const T& v) {
  auto back = decoded<T>(encoded(v));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(*back == v);
}

TEST(OpcuaBuiltins, PrimitivesAreLittleEndian) {
  EXPECT_EQ(encoded(std::uint32_t{0x01020304}), (Bytes{4, 3, 2, 1}));
  EXPECT_EQ(encoded(std::int16_t{-2}), (Bytes{0xFE, 0xFF}));
  EXPECT_EQ(encoded(1.0), (Bytes{0, 0, 0, 0, 0, 0, 0xF0, 0x3F}));
  EXPECT_EQ(encoded(true), (Bytes{1}));
  auto b = decoded<bool>(Bytes{7});  // any non-zero byte is true
  ASSERT_TRUE(b);
  EXPECT_TRUE(*b);
  expect_round_trip(std::int64_t{-1234567890123});
  expect_round_trip(-1.5f);
}

TEST(OpcuaBuiltins, StringNullAndEmptyAreDistinct) {
  EXPECT_EQ(encoded(UaString()), (Bytes{0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(encoded(UaString("")), (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(encoded(UaString("ab")), (Bytes{2, 0, 0, 0, 'a', 'b'}));
  auto null = decoded<UaString>(Bytes{0xFF, 0xFF, 0xFF, 0xFF});
  ASSERT_TRUE(null);
  EXPECT_TRUE(null->is_null());
  auto empty = decoded<UaString>(Bytes{0, 0, 0, 0});
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->is_null());
}

TEST(OpcuaBuiltins, StringLengthBeyondTheBufferNamesOffset) {
  auto r = decoded<UaString>(Bytes{10, 0, 0, 0, 'a'});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "String at offset 0: length 10 exceeds the 1 bytes left");
  auto neg = decoded<UaString>(Bytes{0xFE, 0xFF, 0xFF, 0xFF});
  ASSERT_FALSE(neg);
  EXPECT_EQ(neg.error().message(), "String at offset 0: negative length -2");
}

TEST(OpcuaBuiltins, TruncatedIntegerSaysHowManyBytesWereMissing) {
  auto r = decoded<std::uint32_t>(Bytes{1, 2});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "UInt32 at offset 0: needs 4 bytes, only 2 left");
}

TEST(OpcuaBuiltins, NodeIdUsesTheSmallestForm) {
  EXPECT_EQ(encoded(NodeId::numeric(0, 85)), (Bytes{0x00, 85}));
  EXPECT_EQ(encoded(NodeId::numeric(2, 1000)), (Bytes{0x01, 2, 0xE8, 0x03}));
  EXPECT_EQ(encoded(NodeId::numeric(300, 5)), (Bytes{0x02, 0x2C, 0x01, 5, 0, 0, 0}));
  EXPECT_EQ(encoded(NodeId::numeric(0, 70000)), (Bytes{0x02, 0, 0, 0x70, 0x11, 0x01, 0}));
  EXPECT_EQ(encoded(NodeId::string(1, "A")), (Bytes{0x03, 1, 0, 1, 0, 0, 0, 'A'}));
}

TEST(OpcuaBuiltins, NodeIdDecodesAllSixForms) {
  // The Numeric form of a small id must decode to the same value as the TwoByte form.
  auto numeric = decoded<NodeId>(Bytes{0x02, 0, 0, 85, 0, 0, 0});
  ASSERT_TRUE(numeric);
  EXPECT_EQ(*numeric, NodeId::numeric(0, 85));
  auto four = decoded<NodeId>(Bytes{0x01, 3, 0x10, 0x27});
  ASSERT_TRUE(four);
  EXPECT_EQ(*four, NodeId::numeric(3, 10000));
  // Guid example from OPC 10000-6 5.1.3: 72962B91-FA75-4AE6-8D28-B404DC7DAF63.
  Bytes guid{0x04, 1, 0, 0x91, 0x2B, 0x96, 0x72, 0x75, 0xFA, 0xE6, 0x4A,
             0x8D, 0x28, 0xB4, 0x04, 0xDC, 0x7D, 0xAF, 0x63};
  auto g = decoded<NodeId>(guid);
  ASSERT_TRUE(g);
  EXPECT_EQ(to_string(*g), "ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63");
  EXPECT_EQ(encoded(*g), guid);
  auto bs = decoded<NodeId>(Bytes{0x05, 2, 0, 2, 0, 0, 0, 0xAB, 0xCD});
  ASSERT_TRUE(bs);
  EXPECT_EQ(to_string(*bs), "ns=2;b=abcd");
  auto s = decoded<NodeId>(Bytes{0x03, 4, 0, 3, 0, 0, 0, 'C', 'N', 'C'});
  ASSERT_TRUE(s);
  EXPECT_EQ(to_string(*s), "ns=4;s=CNC");
}

TEST(OpcuaBuiltins, NodeIdErrors) {
  auto bad = decoded<NodeId>(Bytes{0x07, 1});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "NodeId at offset 0: unknown encoding byte 0x07");
  auto flags = decoded<NodeId>(Bytes{0x80, 1});
  ASSERT_FALSE(flags);
  EXPECT_EQ(flags.error().message(), "NodeId at offset 0: ExpandedNodeId flags set in a plain NodeId");
  auto cut = decoded<NodeId>(Bytes{0x01, 1, 5});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message(), "NodeId at offset 2: needs 2 bytes, only 1 left");
}

TEST(OpcuaBuiltins, NodeIdTextForms) {
  auto a = parse_node_id("ns=1;s=CNC1.SpindleSpeed");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, NodeId::string(1, "CNC1.SpindleSpeed"));
  auto b = parse_node_id("i=2258");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, NodeId::numeric(0, 2258));
  auto g = parse_node_id("ns=3;g=72962b91-fa75-4ae6-8d28-b404dc7daf63");
  ASSERT_TRUE(g);
  EXPECT_EQ(to_string(*g), "ns=3;g=72962b91-fa75-4ae6-8d28-b404dc7daf63");
  EXPECT_FALSE(parse_node_id("ns=70000;i=1"));
  EXPECT_FALSE(parse_node_id("ns=1;x=1"));
  EXPECT_FALSE(parse_node_id("i=12a"));
  auto e = parse_node_id("ns=1");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("no ';'"), std::string::npos);
}

TEST(OpcuaBuiltins, ExpandedNodeIdFlags) {
  ExpandedNodeId e{NodeId::numeric(0, 5), UaString("urn:x"), 3};
  EXPECT_EQ(encoded(e), (Bytes{0xC0, 5, 5, 0, 0, 0, 'u', 'r', 'n', ':', 'x', 3, 0, 0, 0}));
  expect_round_trip(e);
  expect_round_trip(ExpandedNodeId{NodeId::string(2, "x"), UaString(), 0});
  auto cut = decoded<ExpandedNodeId>(Bytes{0x40, 5, 1, 0});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message(), "ExpandedNodeId.ServerIndex at offset 2: needs 4 bytes, only 2 left");
}

TEST(OpcuaBuiltins, DateTimeConvertsToUnixNanoseconds) {
  const DateTime epoch = DateTime::from_unix_ns(0);
  EXPECT_EQ(epoch.ticks, DateTime::kUnixEpochTicks);
  const TimestampNs t = 1'700'000'000'123'456'700;
  EXPECT_EQ(DateTime::from_unix_ns(t).to_unix_ns(), t);
  EXPECT_TRUE(DateTime{}.is_null());
  expect_round_trip(DateTime::from_unix_ns(t));
}

TEST(OpcuaBuiltins, QualifiedNameAndLocalizedText) {
  EXPECT_EQ(encoded(QualifiedName{2, "A"}), (Bytes{2, 0, 1, 0, 0, 0, 'A'}));
  EXPECT_EQ(encoded(LocalizedText{UaString(), UaString("hi")}), (Bytes{0x02, 2, 0, 0, 0, 'h', 'i'}));
  EXPECT_EQ(encoded(LocalizedText{}), (Bytes{0x00}));
  expect_round_trip(LocalizedText{UaString("en"), UaString("Spindle")});
  auto bad = decoded<LocalizedText>(Bytes{0x04});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "LocalizedText at offset 0: reserved mask bits set");
  auto cut = decoded<QualifiedName>(Bytes{1, 0, 5, 0, 0, 0});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message(), "QualifiedName.Name.String at offset 2: length 5 exceeds the 0 bytes left");
}

TEST(OpcuaBuiltins, VariantScalarAndArray) {
  EXPECT_EQ(encoded(Variant::scalar(std::int32_t{7})), (Bytes{6, 7, 0, 0, 0}));
  EXPECT_EQ(encoded(Variant{}), (Bytes{0}));
  const Variant arr = Variant::array(BuiltinType::kUInt16, {std::uint16_t{1}, std::uint16_t{2}});
  EXPECT_EQ(encoded(arr), (Bytes{0x85, 2, 0, 0, 0, 1, 0, 2, 0}));
  expect_round_trip(arr);
  expect_round_trip(Variant::scalar(UaString("MANUAL")));
  expect_round_trip(Variant::scalar(LocalizedText{UaString("en"), UaString("x")}));
  expect_round_trip(Variant::array(BuiltinType::kVariant,
                                   {Box<Variant>(Variant::scalar(1.5)), Box<Variant>(Variant{})}));
  auto d = decoded<Variant>(encoded(Variant::scalar(12000.5)));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->as_double(), 12000.5);
  EXPECT_EQ(Variant::scalar(true).as_double(), 1.0);
  EXPECT_FALSE(Variant::scalar(UaString("x")).as_double());
  EXPECT_FALSE(arr.as_double());
}

TEST(OpcuaBuiltins, VariantMatrixDimensions) {
  Variant m = Variant::array(BuiltinType::kByte, {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{3},
                                                  std::uint8_t{4}, std::uint8_t{5}, std::uint8_t{6}});
  m.dimensions = {2, 3};
  EXPECT_EQ(encoded(m), (Bytes{0xC3, 6, 0, 0, 0, 1, 2, 3, 4, 5, 6, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}));
  expect_round_trip(m);
  Bytes wrong{0xC3, 2, 0, 0, 0, 1, 2, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
  auto r = decoded<Variant>(wrong);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "Variant.ArrayDimensions at offset 7: dimensions do not multiply to the array length 2");
  auto no_array = decoded<Variant>(Bytes{0x43, 1});
  ASSERT_FALSE(no_array);
  EXPECT_EQ(no_array.error().message(), "Variant at offset 0: dimensions flag without the array flag");
}

TEST(OpcuaBuiltins, VariantErrors) {
  auto unknown = decoded<Variant>(Bytes{26, 0});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "Variant at offset 0: unknown built-in type id 26");
  // An array of 1,000,000 Doubles cannot fit in 4 bytes: rejected before allocating.
  auto absurd = decoded<Variant>(Bytes{0x8B, 0x40, 0x42, 0x0F, 0x00, 1, 2, 3, 4});
  ASSERT_FALSE(absurd);
  EXPECT_EQ(absurd.error().message(),
            "Variant.ArrayLength at offset 1: length 1000000 cannot fit in the 4 bytes left");
  auto bad_elem = decoded<Variant>(Bytes{0x8C, 2, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0});
  ASSERT_FALSE(bad_elem);
  EXPECT_EQ(bad_elem.error().message(), "Variant[1].String at offset 9: length 9 exceeds the 0 bytes left");
  auto null_array = decoded<Variant>(Bytes{0x80});
  ASSERT_FALSE(null_array);
}

TEST(OpcuaBuiltins, NestingIsBounded) {
  // Variant(array of Variant) containing Variant(array of Variant) ... deeper than the limit.
  Bytes deep;
  for (int i = 0; i < 10; ++i) {
    deep.insert(deep.end(), {0x98, 1, 0, 0, 0});
  }
  deep.push_back(0);
  ASSERT_TRUE(decoded<Variant>(deep));
  auto r = decoded<Variant>(deep, DecodeLimits{.max_nesting = 4});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("nesting deeper than 4"), std::string::npos) << r.error().message();
}

TEST(OpcuaBuiltins, DataValueMask) {
  DataValue v;
  v.value = Variant::scalar(2.0);
  v.status = StatusCode{0x40000000};
  v.source_timestamp = DateTime{5};
  v.server_picoseconds = 7;
  const Bytes b = encoded(v);
  EXPECT_EQ(b[0], 0x01 | 0x02 | 0x04 | 0x20);
  expect_round_trip(v);
  EXPECT_EQ(encoded(DataValue{}), (Bytes{0}));
  auto bad = decoded<DataValue>(Bytes{0x40});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "DataValue at offset 0: reserved mask bits set");
  auto cut = decoded<DataValue>(Bytes{0x04, 1, 2});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message(), "DataValue.SourceTimestamp.DateTime at offset 1: needs 8 bytes, only 2 left");
}

TEST(OpcuaBuiltins, DiagnosticInfoRecursesAndRoundTrips) {
  DiagnosticInfo inner;
  inner.symbolic_id = 3;
  DiagnosticInfo d;
  d.namespace_uri = 1;
  d.locale = 2;
  d.localized_text = 4;
  d.additional_info = UaString("why");
  d.inner_status = StatusCode{0x80000000};
  d.inner_diagnostic = Box<DiagnosticInfo>(inner);
  const Bytes b = encoded(d);
  // Mask, then NamespaceUri, Locale, LocalizedText in that order (Locale before LocalizedText).
  EXPECT_EQ((Bytes(b.begin(), b.begin() + 13)),
            (Bytes{0x7E, 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0}));
  expect_round_trip(d);
  auto bad = decoded<DiagnosticInfo>(Bytes{0x80});
  ASSERT_FALSE(bad);
}

TEST(OpcuaBuiltins, ExtensionObjectKeepsUnknownBodies) {
  ExtensionObject e{NodeId::numeric(3, 5001), ExtensionObject::Encoding::kBinary, "\x01\x02\x03"};
  EXPECT_EQ(encoded(e), (Bytes{0x01, 3, 0x89, 0x13, 0x01, 3, 0, 0, 0, 1, 2, 3}));
  expect_round_trip(e);
  expect_round_trip(ExtensionObject{});
  // Skipped by length: what follows still decodes.
  Writer w;
  encode(w, e);
  encode(w, std::uint32_t{42});
  Reader r(w.data());
  ExtensionObject got;
  ASSERT_TRUE(decode(r, got));
  std::uint32_t after = 0;
  ASSERT_TRUE(decode(r, after));
  EXPECT_EQ(after, 42u);
  auto bad = decoded<ExtensionObject>(Bytes{0x00, 1, 3});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "ExtensionObject.Encoding at offset 2: unknown body encoding 3");
}

TEST(OpcuaBuiltins, GuidAndByteStringAndXml) {
  Guid g{0x72962B91, 0xFA75, 0x4AE6, {0x8D, 0x28, 0xB4, 0x04, 0xDC, 0x7D, 0xAF, 0x63}};
  expect_round_trip(g);
  expect_round_trip(ByteString{std::string("\0\1", 2)});
  expect_round_trip(ByteString{});
  expect_round_trip(XmlElement{"<a/>"});
  auto cut = decoded<Guid>(Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message(), "Guid at offset 8: needs 8 bytes, only 1 left");
}

}  // namespace
}  // namespace resonance::opcua
