// Client subscriptions: CreateSubscription, batched CreateMonitoredItems, and the Publish
// pipeline (several requests in flight, acknowledgements, keep-alives, Republish on gaps).

#include <algorithm>
#include <string>

#include "connectors/opcua/client.h"
#include "connectors/opcua/client_call.h"

namespace resonance::opcua {
namespace {
using Clock = std::chrono::steady_clock;
constexpr std::uint32_t kBadTooManyPublishRequests = 0x80780000;
constexpr std::uint32_t kBadNoSubscription = 0x80790000;
constexpr std::uint32_t kBadSubscriptionIdInvalid = 0x80280000;
constexpr std::uint32_t kMaxRepublishPerGap = 100;  // a hostile sequence jump must not loop for long
}  // namespace

Result<CreateSubscriptionResponse> Client::create_subscription(const CreateSubscriptionRequest& request) {
  CreateSubscriptionRequest req = request;
  auto resp = call<CreateSubscriptionResponse>(req);
  if (!resp) return error(resp.error());
  subscriptions_.push_back(resp->subscription_id);
  // Silence longer than 1.5 keep-alive periods (plus one request timeout) means the link is dead.
  // The revised values come from the server: a NaN or absurd interval must not become undefined
  // behaviour in the cast, so the product is clamped to [1 ms, 1 day].
  double keep_alive_ms = resp->revised_publishing_interval_ms *
                         std::max<std::uint32_t>(resp->revised_max_keep_alive_count, 1);
  if (!(keep_alive_ms >= 1.0)) keep_alive_ms = 1.0;
  keep_alive_ms = std::min(keep_alive_ms, 86'400'000.0);
  const auto keep_alive = std::chrono::milliseconds(static_cast<std::int64_t>(keep_alive_ms));
  keep_alive_timeout_ = std::max(keep_alive_timeout_,
                                 keep_alive * 3 / 2 + std::chrono::milliseconds(options_.request_timeout_ms));
  last_publish_response_ = Clock::now();
  return resp;
}

Result<std::vector<MonitoredItemCreateResult>> Client::create_monitored_items(
    std::uint32_t subscription_id, std::vector<MonitoredItemCreateRequest> items, std::size_t batch_size) {
  std::vector<MonitoredItemCreateResult> out;
  out.reserve(items.size());
  batch_size = std::max<std::size_t>(batch_size, 1);
  for (std::size_t first = 0; first < items.size(); first += batch_size) {
    CreateMonitoredItemsRequest req;
    req.subscription_id = subscription_id;
    req.timestamps_to_return = TimestampsToReturn::kBoth;
    const std::size_t last = std::min(items.size(), first + batch_size);
    req.items_to_create.assign(std::make_move_iterator(items.begin() + first),
                               std::make_move_iterator(items.begin() + last));
    auto resp = call<CreateMonitoredItemsResponse>(req);
    if (!resp) return error(with_context(resp.error(), "items " + std::to_string(first) + ".." + std::to_string(last - 1) + ":"));
    if (resp->results.size() != last - first)
      return error(resonance::StatusCode::kInvalidArgument,
                   "CreateMonitoredItemsResponse has " + std::to_string(resp->results.size()) +
                       " results for " + std::to_string(last - first) + " items");
    std::move(resp->results.begin(), resp->results.end(), std::back_inserter(out));
  }
  return out;
}

Status Client::delete_subscriptions(std::vector<std::uint32_t> ids) {
  DeleteSubscriptionsRequest req;
  req.subscription_ids = ids;
  auto resp = call<DeleteSubscriptionsResponse>(req);
  for (auto id : ids) {
    std::erase(subscriptions_, id);
    std::erase_if(last_sequence_, [id](const auto& p) { return p.first == id; });
  }
  if (!resp) return resp.error();
  return Status::ok();
}

Status Client::send_publish() {
  PublishRequest req;
  req.acknowledgements = std::move(acks_);
  acks_.clear();
  ServiceMessage m(std::move(req));
  auto id = send(m, std::get<PublishRequest>(m).header);
  if (!id) return id.error();
  publish_outstanding_.push_back(*id);
  return Status::ok();
}

Status Client::poll_notifications(std::chrono::milliseconds timeout, std::vector<DataChange>& out) {
  if (broken_) return Status(resonance::StatusCode::kUnavailable, "connection to " + options_.endpoint_url + " is broken");
  if (subscriptions_.empty()) return Status::ok();
  if (auto s = renew_channel_if_due(); !s) return s;
  const auto deadline = Clock::now() + timeout;
  bool handled = false;
  while (!handled) {
    while (publish_outstanding_.size() < publish_target_) {
      if (auto s = send_publish(); !s) return s;
    }
    while (!publish_queue_.empty()) {
      auto p = std::move(publish_queue_.front());
      publish_queue_.pop_front();
      handle_publish(std::move(p), out);
      handled = true;
    }
    if (handled) break;
    auto m = receive_message(deadline);
    if (!m) return m.error();
    if (!*m) break;  // timeout: nothing arrived
    auto& [id, message] = **m;
    auto it = std::find(publish_outstanding_.begin(), publish_outstanding_.end(), id);
    if (it == publish_outstanding_.end()) {
      ++counters_.dropped_responses;
      continue;
    }
    publish_outstanding_.erase(it);
    if (auto* p = std::get_if<PublishResponse>(&message)) {
      publish_queue_.push_back(std::move(*p));
    } else if (auto* f = std::get_if<ServiceFault>(&message)) {
      // The server holds fewer requests than we keep in flight: keep one less (Part 4 5.13.5).
      const auto code = f->header.service_result.code & 0xFFFF0000u;
      if (code == kBadTooManyPublishRequests && publish_target_ > 1) --publish_target_;
      // Our subscriptions are gone on the server (e.g. their lifetime ran out during an outage
      // the session survived): only new ones help, so the owner must start over.
      if (code == kBadNoSubscription || code == kBadSubscriptionIdInvalid)
        return fail(Status(resonance::StatusCode::kNotFound,
                           "the server no longer has our subscriptions (" + describe_status(f->header.service_result) +
                               "); they must be created again"));
      handled = true;
    }
  }
  if (subscriptions_.empty() || broken_) return Status::ok();
  while (publish_outstanding_.size() < publish_target_) {
    if (auto s = send_publish(); !s) return s;
  }
  if (Clock::now() - last_publish_response_ > keep_alive_timeout_)
    return fail(Status(resonance::StatusCode::kUnavailable,
                       "no Publish response or keep-alive from " + options_.endpoint_url + " for " +
                           std::to_string(keep_alive_timeout_.count()) + " ms"));
  return Status::ok();
}

void Client::handle_publish(PublishResponse&& resp, std::vector<DataChange>& out) {
  ++counters_.publish_responses;
  last_publish_response_ = Clock::now();
  if (resp.header.service_result.is_bad()) return;
  const std::uint32_t sub = resp.subscription_id;
  if (std::find(subscriptions_.begin(), subscriptions_.end(), sub) == subscriptions_.end()) {
    ++counters_.dropped_responses;  // for a subscription we already deleted
    return;
  }
  auto last_it = std::find_if(last_sequence_.begin(), last_sequence_.end(), [sub](const auto& p) { return p.first == sub; });
  const auto& msg = resp.notification_message;
  const bool keep_alive = msg.notification_data.empty();
  if (keep_alive) ++counters_.keep_alives;
  // A keep-alive carries the *next* sequence number; a data message its own.
  const std::uint32_t first_missing = last_it == last_sequence_.end() ? 0 : last_it->second + 1;
  const std::uint32_t upto = keep_alive ? msg.sequence_number : msg.sequence_number;
  if (last_it != last_sequence_.end() && upto > first_missing) {
    ++counters_.sequence_gaps;
    std::uint32_t tried = 0;
    for (std::uint32_t s = first_missing; s < upto; ++s) {
      if (tried++ == kMaxRepublishPerGap) {
        counters_.lost_notification_messages += upto - s;
        break;
      }
      RepublishRequest rep;
      rep.subscription_id = sub;
      rep.retransmit_sequence_number = s;
      auto got = call<RepublishResponse>(rep);
      if (!got) {
        ++counters_.lost_notification_messages;  // BadMessageNotAvailable: gone for good
        if (broken_) return;
        continue;
      }
      ++counters_.republished;
      collect(sub, got->notification_message, out);
      acks_.push_back({sub, s});
    }
  }
  if (!keep_alive) {
    if (last_it != last_sequence_.end() && msg.sequence_number <= last_it->second) return;  // duplicate
    collect(sub, msg, out);
    acks_.push_back({sub, msg.sequence_number});
    if (last_it == last_sequence_.end()) last_sequence_.emplace_back(sub, msg.sequence_number);
    else last_it->second = msg.sequence_number;
  } else if (last_it != last_sequence_.end() && upto > 0 && upto - 1 > last_it->second) {
    last_it->second = upto - 1;
  }
}

void Client::collect(std::uint32_t sub, const NotificationMessage& msg, std::vector<DataChange>& out) {
  for (const auto& data : msg.notification_data) {
    if (data.type_id != NodeId::numeric(0, DataChangeNotification::kEncodingId)) continue;  // events: later
    auto dcn = decode_extension_object<DataChangeNotification>(data, options_.decode_limits);
    if (!dcn) {
      ++counters_.dropped_responses;
      continue;
    }
    for (auto& item : dcn->monitored_items) {
      out.push_back(DataChange{sub, item.client_handle, std::move(item.value)});
      ++counters_.notifications;
    }
  }
}

}  // namespace resonance::opcua
