#pragma once
// Subscription service structures (OPC 10000-4, 5.12-5.13) and the notifications a Publish
// response carries, described by field tables like services.h.

#include <cstdint>
#include <string_view>
#include <tuple>
#include <vector>

#include "connectors/opcua/services.h"

namespace resonance::opcua {

struct CreateSubscriptionRequest {
  static constexpr std::string_view kName = "CreateSubscriptionRequest";
  static constexpr std::uint32_t kEncodingId = 787;
  RequestHeader header;
  double requested_publishing_interval_ms = 100;
  std::uint32_t requested_lifetime_count = 300;
  std::uint32_t requested_max_keep_alive_count = 10;
  std::uint32_t max_notifications_per_publish = 0;  // 0 = no limit
  bool publishing_enabled = true;
  std::uint8_t priority = 0;
  static constexpr auto fields() {
    using S = CreateSubscriptionRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("RequestedPublishingInterval", &S::requested_publishing_interval_ms),
                      field("RequestedLifetimeCount", &S::requested_lifetime_count),
                      field("RequestedMaxKeepAliveCount", &S::requested_max_keep_alive_count),
                      field("MaxNotificationsPerPublish", &S::max_notifications_per_publish),
                      field("PublishingEnabled", &S::publishing_enabled),
                      field("Priority", &S::priority)};
  }
};

struct CreateSubscriptionResponse {
  static constexpr std::string_view kName = "CreateSubscriptionResponse";
  static constexpr std::uint32_t kEncodingId = 790;
  ResponseHeader header;
  std::uint32_t subscription_id = 0;
  double revised_publishing_interval_ms = 0;
  std::uint32_t revised_lifetime_count = 0;
  std::uint32_t revised_max_keep_alive_count = 0;
  static constexpr auto fields() {
    using S = CreateSubscriptionResponse;
    return std::tuple{field("ResponseHeader", &S::header),
                      field("SubscriptionId", &S::subscription_id),
                      field("RevisedPublishingInterval", &S::revised_publishing_interval_ms),
                      field("RevisedLifetimeCount", &S::revised_lifetime_count),
                      field("RevisedMaxKeepAliveCount", &S::revised_max_keep_alive_count)};
  }
};

struct MonitoringParameters {
  static constexpr std::string_view kName = "MonitoringParameters";
  std::uint32_t client_handle = 0;
  double sampling_interval_ms = -1;  // -1 = the publishing interval
  ExtensionObject filter;
  std::uint32_t queue_size = 1;
  bool discard_oldest = true;
  static constexpr auto fields() {
    using S = MonitoringParameters;
    return std::tuple{field("ClientHandle", &S::client_handle),
                      field("SamplingInterval", &S::sampling_interval_ms),
                      field("Filter", &S::filter), field("QueueSize", &S::queue_size),
                      field("DiscardOldest", &S::discard_oldest)};
  }
};

struct MonitoredItemCreateRequest {
  static constexpr std::string_view kName = "MonitoredItemCreateRequest";
  ReadValueId item_to_monitor;
  MonitoringMode monitoring_mode = MonitoringMode::kReporting;
  MonitoringParameters requested_parameters;
  static constexpr auto fields() {
    using S = MonitoredItemCreateRequest;
    return std::tuple{field("ItemToMonitor", &S::item_to_monitor),
                      field("MonitoringMode", &S::monitoring_mode),
                      field("RequestedParameters", &S::requested_parameters)};
  }
};

struct MonitoredItemCreateResult {
  static constexpr std::string_view kName = "MonitoredItemCreateResult";
  StatusCode status;
  std::uint32_t monitored_item_id = 0;
  double revised_sampling_interval_ms = 0;
  std::uint32_t revised_queue_size = 0;
  ExtensionObject filter_result;
  static constexpr auto fields() {
    using S = MonitoredItemCreateResult;
    return std::tuple{field("StatusCode", &S::status),
                      field("MonitoredItemId", &S::monitored_item_id),
                      field("RevisedSamplingInterval", &S::revised_sampling_interval_ms),
                      field("RevisedQueueSize", &S::revised_queue_size),
                      field("FilterResult", &S::filter_result)};
  }
};

struct CreateMonitoredItemsRequest {
  static constexpr std::string_view kName = "CreateMonitoredItemsRequest";
  static constexpr std::uint32_t kEncodingId = 751;
  RequestHeader header;
  std::uint32_t subscription_id = 0;
  TimestampsToReturn timestamps_to_return = TimestampsToReturn::kBoth;
  std::vector<MonitoredItemCreateRequest> items_to_create;
  static constexpr auto fields() {
    using S = CreateMonitoredItemsRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("SubscriptionId", &S::subscription_id),
                      field("TimestampsToReturn", &S::timestamps_to_return),
                      field("ItemsToCreate", &S::items_to_create)};
  }
};

struct CreateMonitoredItemsResponse {
  static constexpr std::string_view kName = "CreateMonitoredItemsResponse";
  static constexpr std::uint32_t kEncodingId = 754;
  ResponseHeader header;
  std::vector<MonitoredItemCreateResult> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = CreateMonitoredItemsResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

struct SubscriptionAcknowledgement {
  static constexpr std::string_view kName = "SubscriptionAcknowledgement";
  std::uint32_t subscription_id = 0;
  std::uint32_t sequence_number = 0;
  static constexpr auto fields() {
    using S = SubscriptionAcknowledgement;
    return std::tuple{field("SubscriptionId", &S::subscription_id),
                      field("SequenceNumber", &S::sequence_number)};
  }
};

struct PublishRequest {
  static constexpr std::string_view kName = "PublishRequest";
  static constexpr std::uint32_t kEncodingId = 826;
  RequestHeader header;
  std::vector<SubscriptionAcknowledgement> acknowledgements;
  static constexpr auto fields() {
    using S = PublishRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("SubscriptionAcknowledgements", &S::acknowledgements)};
  }
};

struct NotificationMessage {
  static constexpr std::string_view kName = "NotificationMessage";
  std::uint32_t sequence_number = 0;
  DateTime publish_time;
  // DataChangeNotification (811), EventNotificationList (916), StatusChangeNotification (820);
  // empty in a keep-alive.
  std::vector<ExtensionObject> notification_data;
  static constexpr auto fields() {
    using S = NotificationMessage;
    return std::tuple{field("SequenceNumber", &S::sequence_number),
                      field("PublishTime", &S::publish_time),
                      field("NotificationData", &S::notification_data)};
  }
};

struct PublishResponse {
  static constexpr std::string_view kName = "PublishResponse";
  static constexpr std::uint32_t kEncodingId = 829;
  ResponseHeader header;
  std::uint32_t subscription_id = 0;
  std::vector<std::uint32_t> available_sequence_numbers;
  bool more_notifications = false;
  NotificationMessage notification_message;
  std::vector<StatusCode> results;  // one per acknowledgement sent
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = PublishResponse;
    return std::tuple{field("ResponseHeader", &S::header),
                      field("SubscriptionId", &S::subscription_id),
                      field("AvailableSequenceNumbers", &S::available_sequence_numbers),
                      field("MoreNotifications", &S::more_notifications),
                      field("NotificationMessage", &S::notification_message),
                      field("Results", &S::results), field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

struct RepublishRequest {
  static constexpr std::string_view kName = "RepublishRequest";
  static constexpr std::uint32_t kEncodingId = 832;
  RequestHeader header;
  std::uint32_t subscription_id = 0;
  std::uint32_t retransmit_sequence_number = 0;
  static constexpr auto fields() {
    using S = RepublishRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("SubscriptionId", &S::subscription_id),
                      field("RetransmitSequenceNumber", &S::retransmit_sequence_number)};
  }
};

struct RepublishResponse {
  static constexpr std::string_view kName = "RepublishResponse";
  static constexpr std::uint32_t kEncodingId = 835;
  ResponseHeader header;
  NotificationMessage notification_message;
  static constexpr auto fields() {
    using S = RepublishResponse;
    return std::tuple{field("ResponseHeader", &S::header),
                      field("NotificationMessage", &S::notification_message)};
  }
};

struct DeleteSubscriptionsRequest {
  static constexpr std::string_view kName = "DeleteSubscriptionsRequest";
  static constexpr std::uint32_t kEncodingId = 847;
  RequestHeader header;
  std::vector<std::uint32_t> subscription_ids;
  static constexpr auto fields() {
    using S = DeleteSubscriptionsRequest;
    return std::tuple{field("RequestHeader", &S::header),
                      field("SubscriptionIds", &S::subscription_ids)};
  }
};

struct DeleteSubscriptionsResponse {
  static constexpr std::string_view kName = "DeleteSubscriptionsResponse";
  static constexpr std::uint32_t kEncodingId = 850;
  ResponseHeader header;
  std::vector<StatusCode> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = DeleteSubscriptionsResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

// TransferSubscriptions (OPC 10000-4, 5.13.7): a new session takes over subscriptions whose
// session is gone; the server keeps their unacknowledged notification messages for Republish.
struct TransferResult {
  static constexpr std::string_view kName = "TransferResult";
  StatusCode status;
  std::vector<std::uint32_t> available_sequence_numbers;
  static constexpr auto fields() {
    using S = TransferResult;
    return std::tuple{field("StatusCode", &S::status),
                      field("AvailableSequenceNumbers", &S::available_sequence_numbers)};
  }
};

struct TransferSubscriptionsRequest {
  static constexpr std::string_view kName = "TransferSubscriptionsRequest";
  static constexpr std::uint32_t kEncodingId = 841;
  RequestHeader header;
  std::vector<std::uint32_t> subscription_ids;
  bool send_initial_values = false;
  static constexpr auto fields() {
    using S = TransferSubscriptionsRequest;
    return std::tuple{field("RequestHeader", &S::header), field("SubscriptionIds", &S::subscription_ids),
                      field("SendInitialValues", &S::send_initial_values)};
  }
};

struct TransferSubscriptionsResponse {
  static constexpr std::string_view kName = "TransferSubscriptionsResponse";
  static constexpr std::uint32_t kEncodingId = 844;
  ResponseHeader header;
  std::vector<TransferResult> results;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = TransferSubscriptionsResponse;
    return std::tuple{field("ResponseHeader", &S::header), field("Results", &S::results),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

// ---- notification bodies (inside NotificationMessage.NotificationData) --------------------------

struct MonitoredItemNotification {
  static constexpr std::string_view kName = "MonitoredItemNotification";
  std::uint32_t client_handle = 0;
  DataValue value;
  static constexpr auto fields() {
    using S = MonitoredItemNotification;
    return std::tuple{field("ClientHandle", &S::client_handle), field("Value", &S::value)};
  }
};

struct DataChangeNotification {
  static constexpr std::string_view kName = "DataChangeNotification";
  static constexpr std::uint32_t kEncodingId = 811;
  std::vector<MonitoredItemNotification> monitored_items;
  std::vector<DiagnosticInfo> diagnostic_infos;
  static constexpr auto fields() {
    using S = DataChangeNotification;
    return std::tuple{field("MonitoredItems", &S::monitored_items),
                      field("DiagnosticInfos", &S::diagnostic_infos)};
  }
};

struct StatusChangeNotification {
  static constexpr std::string_view kName = "StatusChangeNotification";
  static constexpr std::uint32_t kEncodingId = 820;
  StatusCode status;
  DiagnosticInfo diagnostic_info;
  static constexpr auto fields() {
    using S = StatusChangeNotification;
    return std::tuple{field("Status", &S::status), field("DiagnosticInfo", &S::diagnostic_info)};
  }
};

}  // namespace resonance::opcua
