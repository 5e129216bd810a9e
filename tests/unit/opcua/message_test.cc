// Service messages: the field tables drive encoding and decoding; errors carry the field path.

#include "connectors/opcua/message.h"

#include <gtest/gtest.h>

namespace resonance::opcua {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encoded(const ServiceMessage& m) {
  Writer w;
  encode_message(w, m);
  return w.take();
}

TEST(OpcuaMessages, ReadRequestLayout) {
  ReadRequest req;
  req.header.request_handle = 7;
  req.nodes_to_read.push_back({NodeId::numeric(0, 2258), kAttributeValue, {}, {}});
  const Bytes b = encoded(req);
  // Encoding id i=631 as a FourByte NodeId, then the RequestHeader: null token (TwoByte 0).
  ASSERT_GE(b.size(), 6u);
  EXPECT_EQ((Bytes(b.begin(), b.begin() + 6)), (Bytes{0x01, 0x00, 0x77, 0x02, 0x00, 0x00}));
  // Header: token 2 + timestamp 8 + handle 4 + diag 4 + audit 4 + timeout 4 + ext 3 = 29 bytes;
  // MaxAge 8, TimestampsToReturn 4, array count 4, ReadValueId (4 + 4 + 4 + 2 + 4) = 18.
  EXPECT_EQ(b.size(), 4u + 29 + 8 + 4 + 4 + 18);
  auto back = decode_message(b);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(std::holds_alternative<ReadRequest>(*back));
  EXPECT_TRUE(std::get<ReadRequest>(*back) == req);
  EXPECT_EQ(message_name(*back), "ReadRequest");
  EXPECT_EQ(response_header(*back), nullptr);
}

TEST(OpcuaMessages, PublishResponseRoundTripWithNotifications) {
  DataChangeNotification dcn;
  MonitoredItemNotification item;
  item.client_handle = 42;
  item.value.value = Variant::scalar(12000.0);
  item.value.source_timestamp = DateTime::from_unix_ns(1'700'000'000'000'000'000);
  dcn.monitored_items.push_back(item);
  PublishResponse resp;
  resp.header.service_result = StatusCode{0};
  resp.subscription_id = 3;
  resp.available_sequence_numbers = {5, 6};
  resp.notification_message.sequence_number = 6;
  resp.notification_message.notification_data.push_back(make_extension_object(dcn));
  auto back = decode_message(encoded(resp));
  ASSERT_TRUE(back) << back.error().message();
  const auto& got = std::get<PublishResponse>(*back);
  EXPECT_TRUE(got == resp);
  ASSERT_NE(response_header(*back), nullptr);
  auto inner = decode_extension_object<DataChangeNotification>(got.notification_message.notification_data[0]);
  ASSERT_TRUE(inner) << inner.error().message();
  ASSERT_EQ(inner->monitored_items.size(), 1u);
  EXPECT_EQ(inner->monitored_items[0].client_handle, 42u);
  EXPECT_EQ(inner->monitored_items[0].value.value->as_double(), 12000.0);
  // The wrong structure for this ExtensionObject is refused, naming both ids.
  auto wrong = decode_extension_object<StatusChangeNotification>(got.notification_message.notification_data[0]);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(),
            "StatusChangeNotification: ExtensionObject holds i=811, expected binary i=820");
}

TEST(OpcuaMessages, TransferSubscriptionsLayoutAndRoundTrip) {
  TransferSubscriptionsRequest req;
  req.subscription_ids = {3, 9};
  req.send_initial_values = false;
  const Bytes b = encoded(req);
  // Encoding id i=841 (0x0349) as a FourByte NodeId; header 29 bytes; two UInt32 ids; one Boolean.
  EXPECT_EQ((Bytes(b.begin(), b.begin() + 4)), (Bytes{0x01, 0x00, 0x49, 0x03}));
  EXPECT_EQ(b.size(), 4u + 29 + 4 + 2 * 4 + 1);
  auto back = decode_message(b);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(std::get<TransferSubscriptionsRequest>(*back) == req);

  TransferSubscriptionsResponse resp;
  resp.results.push_back({StatusCode{0}, {41, 42}});
  resp.results.push_back({StatusCode{0x80280000}, {}});  // BadSubscriptionIdInvalid
  const Bytes rb = encoded(resp);
  EXPECT_EQ((Bytes(rb.begin(), rb.begin() + 4)), (Bytes{0x01, 0x00, 0x4C, 0x03}));  // i=844
  auto rback = decode_message(rb);
  ASSERT_TRUE(rback) << rback.error().message();
  const auto& got = std::get<TransferSubscriptionsResponse>(*rback);
  EXPECT_TRUE(got == resp);
  EXPECT_EQ(got.results[0].available_sequence_numbers, (std::vector<std::uint32_t>{41, 42}));
  EXPECT_TRUE(got.results[1].status.is_bad());
}

TEST(OpcuaMessages, ErrorsNameThePath) {
  ReadResponse resp;
  DataValue good;
  good.value = Variant::scalar(std::int32_t{1});
  resp.results = {good, good, good};
  Bytes b = encoded(resp);
  // Corrupt the Variant type byte of Results[2]: its DataValue is the last 1 + 1 + 4 bytes before
  // the DiagnosticInfos count (4 bytes).
  const std::size_t variant_at = b.size() - 4 - 5;
  b[variant_at] = 0x3F;
  auto r = decode_message(b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "ReadResponse.Results[2].DataValue.Value.Variant at offset " +
                                     std::to_string(variant_at) + ": unknown built-in type id 63");
}

TEST(OpcuaMessages, UnknownTypeAndTrailingBytesAreRefused) {
  Writer w;
  encode(w, NodeId::numeric(0, 9999));
  auto unknown = decode_message(w.data());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(), "message type at offset 0: unsupported service encoding id i=9999");
  Bytes b = encoded(CloseSessionResponse{});
  b.push_back(0);
  auto trailing = decode_message(b);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().message(), "CloseSessionResponse at offset " + std::to_string(b.size() - 1) +
                                            ": 1 trailing bytes after the message");
  auto string_type = decode_message(Bytes{0x03, 0, 0, 1, 0, 0, 0, 'x'});
  ASSERT_FALSE(string_type);
  auto empty = decode_message(Bytes{});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "message type.NodeId at offset 0: needs 1 bytes, only 0 left");
}

TEST(OpcuaMessages, AbsurdArrayLengthIsRefusedBeforeAllocating) {
  BrowseResponse resp;
  Bytes b = encoded(resp);
  // Results count sits after the header; overwrite it with 0x7fffffff.
  const std::size_t count_at = b.size() - 8;
  b[count_at] = 0xFF; b[count_at + 1] = 0xFF; b[count_at + 2] = 0xFF; b[count_at + 3] = 0x7F;
  auto r = decode_message(b);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("BrowseResponse.Results.ArrayLength at offset " + std::to_string(count_at)),
            std::string::npos) << r.error().message();
}

// A count that fits in the bytes left can still stand for far more memory than the message (each
// 1-byte element decodes into a large structure): the decoded-memory budget refuses it first.
TEST(OpcuaMessages, CountThatFitsTheBytesButNotTheMemoryBudgetIsRefused) {
  BrowseResponse resp;
  Bytes b = encoded(resp);
  const std::size_t count_at = b.size() - 8;
  constexpr std::uint32_t kCount = 100'000;
  for (int i = 0; i < 4; ++i) b[count_at + i] = static_cast<std::uint8_t>(kCount >> (8 * i));
  b.resize(b.size() + kCount * 8, 0);  // room for the count, so only the memory budget can refuse
  DecodeLimits limits;
  limits.max_decoded_bytes = 1 << 20;  // 1 MiB: 100,000 BrowseResults take far more
  auto r = decode_message(b, limits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("exceed the decoded-memory limit of 1048576 bytes"), std::string::npos)
      << r.error().message();
}

TEST(OpcuaMessages, IdentityTokensWrapAsExtensionObjects) {
  ActivateSessionRequest req;
  req.user_identity_token = make_extension_object(AnonymousIdentityToken{UaString("anonymous")});
  EXPECT_EQ(req.user_identity_token.type_id, NodeId::numeric(0, 321));
  auto back = decode_message(encoded(req));
  ASSERT_TRUE(back);
  auto token = decode_extension_object<AnonymousIdentityToken>(
      std::get<ActivateSessionRequest>(*back).user_identity_token);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->policy_id.view(), "anonymous");
}

}  // namespace
}  // namespace resonance::opcua

// Every body node-opcua 2.186.4 put on the wire in a real session (captured by
// tests/peers/node-opcua/capture.js into the fuzz corpus) decodes completely and re-encodes to an
// equal message.
#include <filesystem>
#include <fstream>
#include <iterator>

namespace resonance::opcua {
namespace {

std::vector<std::uint8_t> slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(OpcuaMessages, DecodesEveryMessageNodeOpcuaSent) {
  const std::filesystem::path dir = std::filesystem::path(RESONANCE_SOURCE_DIR) / "tests/fuzz/opcua_message/corpus";
  int decoded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with("node_opcua_")) continue;
    const auto bytes = slurp(entry.path());
    auto m = decode_message(bytes);
    ASSERT_TRUE(m) << name << ": " << m.error().message();
    // The file name ends in the encoding id the capture saw.
    const auto id = std::stoul(name.substr(name.rfind("_i") + 2));
    EXPECT_EQ(std::visit([](const auto& x) { return std::uint32_t{std::decay_t<decltype(x)>::kEncodingId}; }, *m), id) << name;
    Writer w;
    encode_message(w, *m);
    auto again = decode_message(w.data());
    ASSERT_TRUE(again) << name;
    EXPECT_TRUE(*again == *m) << name;
    ++decoded;
    if (auto* read = std::get_if<ReadResponse>(&*m)) {
      // capture.js read SpindleSpeed, the NamespaceArray and a node that does not exist.
      ASSERT_EQ(read->results.size(), 3u);
      EXPECT_TRUE(read->results[0].value->as_double().has_value());
      EXPECT_EQ(read->results[1].value->type, BuiltinType::kString);
      EXPECT_TRUE(read->results[1].value->is_array);
      EXPECT_EQ(read->results[2].status->code, 0x80340000u);  // BadNodeIdUnknown
    }
    if (auto* publish = std::get_if<PublishResponse>(&*m)) {
      for (const auto& n : publish->notification_message.notification_data) {
        auto dcn = decode_extension_object<DataChangeNotification>(n);
        ASSERT_TRUE(dcn) << name << ": " << dcn.error().message();
        for (const auto& item : dcn->monitored_items) EXPECT_FALSE(item.value.source_timestamp->is_null());
      }
    }
  }
  EXPECT_GE(decoded, 25);
}

// The fuzz seeds for TransferSubscriptions are written by hand (node-opcua's capture.js does not
// transfer): they must be what they claim.
TEST(OpcuaMessages, HandmadeTransferSubscriptionsSeedsDecode) {
  const std::filesystem::path dir = std::filesystem::path(RESONANCE_SOURCE_DIR) / "tests/fuzz/opcua_message/corpus";
  auto req = decode_message(slurp(dir / "handmade_transfer_subscriptions_req_i841"));
  ASSERT_TRUE(req) << req.error().message();
  EXPECT_EQ(std::get<TransferSubscriptionsRequest>(*req).subscription_ids, (std::vector<std::uint32_t>{3, 9}));
  auto resp = decode_message(slurp(dir / "handmade_transfer_subscriptions_resp_i844"));
  ASSERT_TRUE(resp) << resp.error().message();
  const auto& r = std::get<TransferSubscriptionsResponse>(*resp);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].available_sequence_numbers, (std::vector<std::uint32_t>{41, 42}));
  EXPECT_EQ(r.results[1].status.code, 0x80280000u);
}

}  // namespace
}  // namespace resonance::opcua
