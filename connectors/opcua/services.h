#pragma once
// The service structures the client uses (OPC 10000-4 and 10000-6 Annex), each described by its
// field table in wire order. kEncodingId is the numeric ns=0 id of the "Default Binary" encoding
// node that precedes the body on the wire (checked against node-opcua-constants 2.186.4).

#include <cstdint>
#include <string_view>
#include <tuple>
#include <vector>

#include "connectors/opcua/builtin_types.h"
#include "connectors/opcua/struct_codec.h"

namespace resonance::opcua {

enum class SecurityTokenRequestType : std::int32_t { kIssue = 0, kRenew = 1 };
enum class MessageSecurityMode : std::int32_t { kInvalid = 0, kNone = 1, kSign = 2, kSignAndEncrypt = 3 };
enum class ApplicationType : std::int32_t { kServer = 0, kClient = 1, kClientAndServer = 2, kDiscoveryServer = 3 };
enum class UserTokenType : std::int32_t { kAnonymous = 0, kUserName = 1, kCertificate = 2, kIssuedToken = 3 };
enum class TimestampsToReturn : std::int32_t { kSource = 0, kServer = 1, kBoth = 2, kNeither = 3 };
enum class BrowseDirection : std::int32_t { kForward = 0, kInverse = 1, kBoth = 2 };
enum class NodeClass : std::int32_t {
  kUnspecified = 0, kObject = 1, kVariable = 2, kMethod = 4, kObjectType = 8, kVariableType = 16,
  kReferenceType = 32, kDataType = 64, kView = 128,
};
enum class MonitoringMode : std::int32_t { kDisabled = 0, kSampling = 1, kReporting = 2 };

// Attribute ids (Part 6 A.1) the client reads.
inline constexpr std::uint32_t kAttributeNodeId = 1, kAttributeNodeClass = 2,
                               kAttributeBrowseName = 3, kAttributeDisplayName = 4,
                               kAttributeValue = 13, kAttributeDataType = 14,
                               kAttributeAccessLevel = 17;


struct RequestHeader {
  static constexpr std::string_view kName = "RequestHeader";
  NodeId authentication_token;
  DateTime timestamp;
  std::uint32_t request_handle = 0;
  std::uint32_t return_diagnostics = 0;
  UaString audit_entry_id;
  std::uint32_t timeout_hint_ms = 0;
  ExtensionObject additional_header;
  static constexpr auto fields() {
    using S = RequestHeader;
    return std::tuple{field("AuthenticationToken", &S::authentication_token),
                      field("Timestamp", &S::timestamp), field("RequestHandle", &S::request_handle),
                      field("ReturnDiagnostics", &S::return_diagnostics),
                      field("AuditEntryId", &S::audit_entry_id),
                      field("TimeoutHint", &S::timeout_hint_ms),
                      field("AdditionalHeader", &S::additional_header)};
  }
};

struct ResponseHeader {
  static constexpr std::string_view kName = "ResponseHeader";
  DateTime timestamp;
  std::uint32_t request_handle = 0;
  StatusCode service_result;
  DiagnosticInfo service_diagnostics;
  std::vector<UaString> string_table;
  ExtensionObject additional_header;
  static constexpr auto fields() {
    using S = ResponseHeader;
    return std::tuple{field("Timestamp", &S::timestamp), field("RequestHandle", &S::request_handle),
                      field("ServiceResult", &S::service_result),
                      field("ServiceDiagnostics", &S::service_diagnostics),
                      field("StringTable", &S::string_table),
                      field("AdditionalHeader", &S::additional_header)};
  }
};

struct ServiceFault {
  static constexpr std::string_view kName = "ServiceFault";
  static constexpr std::uint32_t kEncodingId = 397;
  ResponseHeader header;
  static constexpr auto fields() { return std::tuple{field("ResponseHeader", &ServiceFault::header)}; }
};

// ---- secure channel -----------------------------------------------------------------------------

struct ChannelSecurityToken {
  static constexpr std::string_view kName = "ChannelSecurityToken";
  std::uint32_t channel_id = 0;
  std::uint32_t token_id = 0;
  DateTime created_at;
  std::uint32_t revised_lifetime_ms = 0;
  static constexpr auto fields() {
    using S = ChannelSecurityToken;
    return std::tuple{field("ChannelId", &S::channel_id), field("TokenId", &S::token_id),
                      field("CreatedAt", &S::created_at),
                      field("RevisedLifetime", &S::revised_lifetime_ms)};
  }
};

struct OpenSecureChannelRequest {
  static constexpr std::string_view kName = "OpenSecureChannelRequest";
  static constexpr std::uint32_t kEncodingId = 446;
  RequestHeader header;
  std::uint32_t client_protocol_version = 0;
  SecurityTokenRequestType request_type = SecurityTokenRequestType::kIssue;
  MessageSecurityMode security_mode = MessageSecurityMode::kNone;
  ByteString client_nonce;
  std::uint32_t requested_lifetime_ms = 0;
  static constexpr auto fields() {
    using S = OpenSecureChannelRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("ClientProtocolVersion", &S::client_protocol_version),
                      field("RequestType", &S::request_type), field("SecurityMode", &S::security_mode),
                      field("ClientNonce", &S::client_nonce),
                      field("RequestedLifetime", &S::requested_lifetime_ms)};
  }
};

struct OpenSecureChannelResponse {
  static constexpr std::string_view kName = "OpenSecureChannelResponse";
  static constexpr std::uint32_t kEncodingId = 449;
  ResponseHeader header;
  std::uint32_t server_protocol_version = 0;
  ChannelSecurityToken security_token;
  ByteString server_nonce;
  static constexpr auto fields() {
    using S = OpenSecureChannelResponse;
    return std::tuple{field("ResponseHeader", &S::header),
                      field("ServerProtocolVersion", &S::server_protocol_version),
                      field("SecurityToken", &S::security_token),
                      field("ServerNonce", &S::server_nonce)};
  }
};

struct CloseSecureChannelRequest {
  static constexpr std::string_view kName = "CloseSecureChannelRequest";
  static constexpr std::uint32_t kEncodingId = 452;
  RequestHeader header;
  static constexpr auto fields() {
    return std::tuple{field("RequestHeader", &CloseSecureChannelRequest::header)};
  }
};

// ---- discovery and session ----------------------------------------------------------------------

struct ApplicationDescription {
  static constexpr std::string_view kName = "ApplicationDescription";
  UaString application_uri;
  UaString product_uri;
  LocalizedText application_name;
  ApplicationType application_type = ApplicationType::kClient;
  UaString gateway_server_uri;
  UaString discovery_profile_uri;
  std::vector<UaString> discovery_urls;
  static constexpr auto fields() {
    using S = ApplicationDescription;
    return std::tuple{field("ApplicationUri", &S::application_uri),
                      field("ProductUri", &S::product_uri),
                      field("ApplicationName", &S::application_name),
                      field("ApplicationType", &S::application_type),
                      field("GatewayServerUri", &S::gateway_server_uri),
                      field("DiscoveryProfileUri", &S::discovery_profile_uri),
                      field("DiscoveryUrls", &S::discovery_urls)};
  }
};

struct UserTokenPolicy {
  static constexpr std::string_view kName = "UserTokenPolicy";
  UaString policy_id;
  UserTokenType token_type = UserTokenType::kAnonymous;
  UaString issued_token_type;
  UaString issuer_endpoint_url;
  UaString security_policy_uri;
  static constexpr auto fields() {
    using S = UserTokenPolicy;
    return std::tuple{field("PolicyId", &S::policy_id), field("TokenType", &S::token_type),
                      field("IssuedTokenType", &S::issued_token_type),
                      field("IssuerEndpointUrl", &S::issuer_endpoint_url),
                      field("SecurityPolicyUri", &S::security_policy_uri)};
  }
};

struct EndpointDescription {
  static constexpr std::string_view kName = "EndpointDescription";
  UaString endpoint_url;
  ApplicationDescription server;
  ByteString server_certificate;
  MessageSecurityMode security_mode = MessageSecurityMode::kNone;
  UaString security_policy_uri;
  std::vector<UserTokenPolicy> user_identity_tokens;
  UaString transport_profile_uri;
  std::uint8_t security_level = 0;
  static constexpr auto fields() {
    using S = EndpointDescription;
    return std::tuple{field("EndpointUrl", &S::endpoint_url), field("Server", &S::server),
                      field("ServerCertificate", &S::server_certificate),
                      field("SecurityMode", &S::security_mode),
                      field("SecurityPolicyUri", &S::security_policy_uri),
                      field("UserIdentityTokens", &S::user_identity_tokens),
                      field("TransportProfileUri", &S::transport_profile_uri),
                      field("SecurityLevel", &S::security_level)};
  }
};

struct GetEndpointsRequest {
  static constexpr std::string_view kName = "GetEndpointsRequest";
  static constexpr std::uint32_t kEncodingId = 428;
  RequestHeader header;
  UaString endpoint_url;
  std::vector<UaString> locale_ids;
  std::vector<UaString> profile_uris;
  static constexpr auto fields() {
    using S = GetEndpointsRequest;
    return std::tuple{field("RequestHeader", &S::header), field("EndpointUrl", &S::endpoint_url),
                      field("LocaleIds", &S::locale_ids), field("ProfileUris", &S::profile_uris)};
  }
};

struct GetEndpointsResponse {
  static constexpr std::string_view kName = "GetEndpointsResponse";
  static constexpr std::uint32_t kEncodingId = 431;
  ResponseHeader header;
  std::vector<EndpointDescription> endpoints;
  static constexpr auto fields() {
    using S = GetEndpointsResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Endpoints", &S::endpoints)};
  }
};

struct SignedSoftwareCertificate {
  static constexpr std::string_view kName = "SignedSoftwareCertificate";
  ByteString certificate_data;
  ByteString signature;
  static constexpr auto fields() {
    using S = SignedSoftwareCertificate;
    return std::tuple{field("CertificateData", &S::certificate_data), field("Signature", &S::signature)};
  }
};

struct SignatureData {
  static constexpr std::string_view kName = "SignatureData";
  UaString algorithm;
  ByteString signature;
  static constexpr auto fields() {
    using S = SignatureData;
    return std::tuple{field("Algorithm", &S::algorithm), field("Signature", &S::signature)};
  }
};

struct CreateSessionRequest {
  static constexpr std::string_view kName = "CreateSessionRequest";
  static constexpr std::uint32_t kEncodingId = 461;
  RequestHeader header;
  ApplicationDescription client_description;
  UaString server_uri;
  UaString endpoint_url;
  UaString session_name;
  ByteString client_nonce;
  ByteString client_certificate;
  double requested_session_timeout_ms = 0;
  std::uint32_t max_response_message_size = 0;
  static constexpr auto fields() {
    using S = CreateSessionRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("ClientDescription", &S::client_description),
                      field("ServerUri", &S::server_uri), field("EndpointUrl", &S::endpoint_url),
                      field("SessionName", &S::session_name), field("ClientNonce", &S::client_nonce),
                      field("ClientCertificate", &S::client_certificate),
                      field("RequestedSessionTimeout", &S::requested_session_timeout_ms),
                      field("MaxResponseMessageSize", &S::max_response_message_size)};
  }
};

struct CreateSessionResponse {
  static constexpr std::string_view kName = "CreateSessionResponse";
  static constexpr std::uint32_t kEncodingId = 464;
  ResponseHeader header;
  NodeId session_id;
  NodeId authentication_token;
  double revised_session_timeout_ms = 0;
  ByteString server_nonce;
  ByteString server_certificate;
  std::vector<EndpointDescription> server_endpoints;
  std::vector<SignedSoftwareCertificate> server_software_certificates;
  SignatureData server_signature;
  std::uint32_t max_request_message_size = 0;
  static constexpr auto fields() {
    using S = CreateSessionResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("SessionId", &S::session_id),
                      field("AuthenticationToken", &S::authentication_token),
                      field("RevisedSessionTimeout", &S::revised_session_timeout_ms),
                      field("ServerNonce", &S::server_nonce),
                      field("ServerCertificate", &S::server_certificate),
                      field("ServerEndpoints", &S::server_endpoints),
                      field("ServerSoftwareCertificates", &S::server_software_certificates),
                      field("ServerSignature", &S::server_signature),
                      field("MaxRequestMessageSize", &S::max_request_message_size)};
  }
};

struct AnonymousIdentityToken {
  static constexpr std::string_view kName = "AnonymousIdentityToken";
  static constexpr std::uint32_t kEncodingId = 321;
  UaString policy_id;
  static constexpr auto fields() { return std::tuple{field("PolicyId", &AnonymousIdentityToken::policy_id)}; }
};

// With SecurityPolicy None the password travels as plain bytes (no EncryptionAlgorithm); only use
// it on a trusted link. Never log this structure.
struct UserNameIdentityToken {
  static constexpr std::string_view kName = "UserNameIdentityToken";
  static constexpr std::uint32_t kEncodingId = 324;
  UaString policy_id;
  UaString user_name;
  ByteString password;
  UaString encryption_algorithm;
  static constexpr auto fields() {
    using S = UserNameIdentityToken;
    return std::tuple{field("PolicyId", &S::policy_id), field("UserName", &S::user_name),
                      field("Password", &S::password),
                      field("EncryptionAlgorithm", &S::encryption_algorithm)};
  }
};

struct ActivateSessionRequest {
  static constexpr std::string_view kName = "ActivateSessionRequest";
  static constexpr std::uint32_t kEncodingId = 467;
  RequestHeader header;
  SignatureData client_signature;
  std::vector<SignedSoftwareCertificate> client_software_certificates;
  std::vector<UaString> locale_ids;
  ExtensionObject user_identity_token;
  SignatureData user_token_signature;
  static constexpr auto fields() {
    using S = ActivateSessionRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("ClientSignature", &S::client_signature),
                      field("ClientSoftwareCertificates", &S::client_software_certificates),
                      field("LocaleIds", &S::locale_ids),
                      field("UserIdentityToken", &S::user_identity_token),
                      field("UserTokenSignature", &S::user_token_signature)};
  }
};

struct ActivateSessionResponse {
  static constexpr std::string_view kName = "ActivateSessionResponse";
  static constexpr std::uint32_t kEncodingId = 470;
  ResponseHeader header;
  ByteString server_nonce;
  std::vector<StatusCode> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = ActivateSessionResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("ServerNonce", &S::server_nonce),
                      field("Results", &S::results), field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

struct CloseSessionRequest {
  static constexpr std::string_view kName = "CloseSessionRequest";
  static constexpr std::uint32_t kEncodingId = 473;
  RequestHeader header;
  bool delete_subscriptions = true;
  static constexpr auto fields() {
    using S = CloseSessionRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("DeleteSubscriptions", &S::delete_subscriptions)};
  }
};

struct CloseSessionResponse {
  static constexpr std::string_view kName = "CloseSessionResponse";
  static constexpr std::uint32_t kEncodingId = 476;
  ResponseHeader header;
  static constexpr auto fields() { return std::tuple{field("ResponseHeader", &CloseSessionResponse::header)}; }
};

// ---- attribute services -------------------------------------------------------------------------

struct ReadValueId {
  static constexpr std::string_view kName = "ReadValueId";
  NodeId node_id;
  std::uint32_t attribute_id = kAttributeValue;
  UaString index_range;
  QualifiedName data_encoding;
  static constexpr auto fields() {
    using S = ReadValueId;
    return std::tuple{field("NodeId", &S::node_id), field("AttributeId", &S::attribute_id),
                      field("IndexRange", &S::index_range), field("DataEncoding", &S::data_encoding)};
  }
};

struct ReadRequest {
  static constexpr std::string_view kName = "ReadRequest";
  static constexpr std::uint32_t kEncodingId = 631;
  RequestHeader header;
  double max_age_ms = 0;
  TimestampsToReturn timestamps_to_return = TimestampsToReturn::kBoth;
  std::vector<ReadValueId> nodes_to_read;
  static constexpr auto fields() {
    using S = ReadRequest;
    return std::tuple{field("RequestHeader", &S::header), field("MaxAge", &S::max_age_ms),
                      field("TimestampsToReturn", &S::timestamps_to_return),
                      field("NodesToRead", &S::nodes_to_read)};
  }
};

struct ReadResponse {
  static constexpr std::string_view kName = "ReadResponse";
  static constexpr std::uint32_t kEncodingId = 634;
  ResponseHeader header;
  std::vector<DataValue> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = ReadResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

struct WriteValue {
  static constexpr std::string_view kName = "WriteValue";
  NodeId node_id;
  std::uint32_t attribute_id = kAttributeValue;
  UaString index_range;
  DataValue value;
  static constexpr auto fields() {
    using S = WriteValue;
    return std::tuple{field("NodeId", &S::node_id), field("AttributeId", &S::attribute_id),
                      field("IndexRange", &S::index_range), field("Value", &S::value)};
  }
};

struct WriteRequest {
  static constexpr std::string_view kName = "WriteRequest";
  static constexpr std::uint32_t kEncodingId = 673;
  RequestHeader header;
  std::vector<WriteValue> nodes_to_write;
  static constexpr auto fields() {
    using S = WriteRequest;
    return std::tuple{field("RequestHeader", &S::header), field("NodesToWrite", &S::nodes_to_write)};
  }
};

struct WriteResponse {
  static constexpr std::string_view kName = "WriteResponse";
  static constexpr std::uint32_t kEncodingId = 676;
  ResponseHeader header;
  std::vector<StatusCode> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = WriteResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

// ---- view services ------------------------------------------------------------------------------

struct ViewDescription {
  static constexpr std::string_view kName = "ViewDescription";
  NodeId view_id;
  DateTime timestamp;
  std::uint32_t view_version = 0;
  static constexpr auto fields() {
    using S = ViewDescription;
    return std::tuple{field("ViewId", &S::view_id), field("Timestamp", &S::timestamp),
                      field("ViewVersion", &S::view_version)};
  }
};

struct BrowseDescription {
  static constexpr std::string_view kName = "BrowseDescription";
  NodeId node_id;
  BrowseDirection browse_direction = BrowseDirection::kForward;
  NodeId reference_type_id = NodeId::numeric(0, 33);  // HierarchicalReferences
  bool include_subtypes = true;
  std::uint32_t node_class_mask = 0;  // 0 = all classes
  std::uint32_t result_mask = 0x3F;   // every field of ReferenceDescription
  static constexpr auto fields() {
    using S = BrowseDescription;
    return std::tuple{field("NodeId", &S::node_id), field("BrowseDirection", &S::browse_direction),
                      field("ReferenceTypeId", &S::reference_type_id),
                      field("IncludeSubtypes", &S::include_subtypes),
                      field("NodeClassMask", &S::node_class_mask),
                      field("ResultMask", &S::result_mask)};
  }
};

struct ReferenceDescription {
  static constexpr std::string_view kName = "ReferenceDescription";
  NodeId reference_type_id;
  bool is_forward = true;
  ExpandedNodeId node_id;
  QualifiedName browse_name;
  LocalizedText display_name;
  NodeClass node_class = NodeClass::kUnspecified;
  ExpandedNodeId type_definition;
  static constexpr auto fields() {
    using S = ReferenceDescription;
    return std::tuple{field("ReferenceTypeId", &S::reference_type_id),
                      field("IsForward", &S::is_forward), field("NodeId", &S::node_id),
                      field("BrowseName", &S::browse_name), field("DisplayName", &S::display_name),
                      field("NodeClass", &S::node_class),
                      field("TypeDefinition", &S::type_definition)};
  }
};

struct BrowseResult {
  static constexpr std::string_view kName = "BrowseResult";
  StatusCode status;
  ByteString continuation_point;
  std::vector<ReferenceDescription> references;
  static constexpr auto fields() {
    using S = BrowseResult;
    return std::tuple{field("StatusCode", &S::status),
                      field("ContinuationPoint", &S::continuation_point),
                      field("References", &S::references)};
  }
};

struct BrowseRequest {
  static constexpr std::string_view kName = "BrowseRequest";
  static constexpr std::uint32_t kEncodingId = 527;
  RequestHeader header;
  ViewDescription view;
  std::uint32_t requested_max_references_per_node = 0;
  std::vector<BrowseDescription> nodes_to_browse;
  static constexpr auto fields() {
    using S = BrowseRequest;
    return std::tuple{field("RequestHeader", &S::header), field("View", &S::view),
                      field("RequestedMaxReferencesPerNode", &S::requested_max_references_per_node),
                      field("NodesToBrowse", &S::nodes_to_browse)};
  }
};

struct BrowseResponse {
  static constexpr std::string_view kName = "BrowseResponse";
  static constexpr std::uint32_t kEncodingId = 530;
  ResponseHeader header;
  std::vector<BrowseResult> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = BrowseResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

struct BrowseNextRequest {
  static constexpr std::string_view kName = "BrowseNextRequest";
  static constexpr std::uint32_t kEncodingId = 533;
  RequestHeader header;
  bool release_continuation_points = false;
  std::vector<ByteString> continuation_points;
  static constexpr auto fields() {
    using S = BrowseNextRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("ReleaseContinuationPoints", &S::release_continuation_points),
                      field("ContinuationPoints", &S::continuation_points)};
  }
};

struct BrowseNextResponse {
  static constexpr std::string_view kName = "BrowseNextResponse";
  static constexpr std::uint32_t kEncodingId = 536;
  ResponseHeader header;
  std::vector<BrowseResult> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = BrowseNextResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

struct RelativePathElement {
  static constexpr std::string_view kName = "RelativePathElement";
  NodeId reference_type_id = NodeId::numeric(0, 33);  // HierarchicalReferences
  bool is_inverse = false;
  bool include_subtypes = true;
  QualifiedName target_name;
  static constexpr auto fields() {
    using S = RelativePathElement;
    return std::tuple{field("ReferenceTypeId", &S::reference_type_id),
                      field("IsInverse", &S::is_inverse),
                      field("IncludeSubtypes", &S::include_subtypes),
                      field("TargetName", &S::target_name)};
  }
};

struct RelativePath {
  static constexpr std::string_view kName = "RelativePath";
  std::vector<RelativePathElement> elements;
  static constexpr auto fields() { return std::tuple{field("Elements", &RelativePath::elements)}; }
};

struct BrowsePath {
  static constexpr std::string_view kName = "BrowsePath";
  NodeId starting_node;
  RelativePath relative_path;
  static constexpr auto fields() {
    using S = BrowsePath;
    return std::tuple{field("StartingNode", &S::starting_node),
                      field("RelativePath", &S::relative_path)};
  }
};

struct BrowsePathTarget {
  static constexpr std::string_view kName = "BrowsePathTarget";
  ExpandedNodeId target_id;
  std::uint32_t remaining_path_index = 0;
  static constexpr auto fields() {
    using S = BrowsePathTarget;
    return std::tuple{field("TargetId", &S::target_id),
                      field("RemainingPathIndex", &S::remaining_path_index)};
  }
};

struct BrowsePathResult {
  static constexpr std::string_view kName = "BrowsePathResult";
  StatusCode status;
  std::vector<BrowsePathTarget> targets;
  static constexpr auto fields() {
    using S = BrowsePathResult;
    return std::tuple{field("StatusCode", &S::status), field("Targets", &S::targets)};
  }
};

struct TranslateBrowsePathsToNodeIdsRequest {
  static constexpr std::string_view kName = "TranslateBrowsePathsToNodeIdsRequest";
  static constexpr std::uint32_t kEncodingId = 554;
  RequestHeader header;
  std::vector<BrowsePath> browse_paths;
  static constexpr auto fields() {
    using S = TranslateBrowsePathsToNodeIdsRequest;
    return std::tuple{field("RequestHeader", &S::header), field("BrowsePaths", &S::browse_paths)};
  }
};

struct TranslateBrowsePathsToNodeIdsResponse {
  static constexpr std::string_view kName = "TranslateBrowsePathsToNodeIdsResponse";
  static constexpr std::uint32_t kEncodingId = 557;
  ResponseHeader header;
  std::vector<BrowsePathResult> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = TranslateBrowsePathsToNodeIdsResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

}  // namespace resonance::opcua
