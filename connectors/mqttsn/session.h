#pragma once
// Per-client gateway state (spec 6): one Session per ClientId with its own topic-id table (spec
// 7.3: never a shared pool, so one client cannot misroute another's ids), its Will, its
// subscriptions, the QoS 1/2 in-flight state of both directions and the downstream queue.
// Sessions are keyed by ClientId (a sleeping client may wake from a new source port) and indexed
// by the endpoint they were last heard from.
//
// Not thread-safe: owned and touched only by the gateway's event-loop thread.

#include <boost/asio/ip/udp.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/mqttsn/messages.h"
#include "resonance/core/sample.h"
#include "resonance/core/time.h"

namespace resonance::mqttsn {

using Endpoint = boost::asio::ip::udp::endpoint;

std::string to_string(const Endpoint& endpoint);

// MQTT topic filter matching: '+' one level, '#' the rest (including the parent level). Names
// starting with '$' are not matched by a leading wildcard.
bool topic_matches(std::string_view filter, std::string_view name);
bool has_wildcard(std::string_view filter);

struct TopicEntry {
  SeriesId series = 0;  // 0: not a series path (a subscription topic, or not resolved yet)
  std::string name;
};

// Normal topic ids 1..N handed out in order, by client REGISTER, by SUBSCRIBE of a plain name or
// by the gateway's own REGISTER before a wildcard delivery; one name has one id.
class TopicTable {
 public:
  explicit TopicTable(std::size_t max_topics) : max_topics_(max_topics) {}
  std::optional<std::uint16_t> find(const std::string& name) const;
  const TopicEntry* find(std::uint16_t topic_id) const;
  TopicEntry* find_mutable(std::uint16_t topic_id);
  // nullopt when the table is full (max_topics, or the 16-bit id space).
  std::optional<std::uint16_t> add(const std::string& name, SeriesId series);
  // Restores an entry with a given id (persistence); false if the id is taken or out of range.
  bool restore(std::uint16_t topic_id, const std::string& name, SeriesId series);
  std::size_t size() const { return by_name_.size(); }
  // (id, entry) in id order.
  std::vector<std::pair<std::uint16_t, const TopicEntry*>> entries() const;

 private:
  std::size_t max_topics_;
  std::vector<TopicEntry> entries_;  // index = topic id - 1; an empty name is an unused slot
  std::unordered_map<std::string, std::uint16_t> by_name_;
};

struct Will {
  std::string topic;
  std::vector<std::uint8_t> message;
  std::int8_t qos = 0;
  bool retain = false;
  bool operator==(const Will&) const = default;
};

struct Subscription {
  TopicIdType type = TopicIdType::kNormal;
  std::string filter;          // topic filter (normal), predefined name, or the 2-char short name
  std::uint16_t topic_id = 0;  // predefined id / short name as sent; 0 for normal
  std::int8_t qos = 0;         // granted
  bool operator==(const Subscription&) const = default;
};

// A message waiting to go down to the client.
struct Downstream {
  std::string topic;
  std::vector<std::uint8_t> payload;
  std::int8_t qos = 0;
  bool retain = false;
  // How the matching subscription named the topic: a predefined id or short name is sent as
  // such; a normal (name or wildcard) subscription uses the client's normal topic id.
  TopicIdType via_type = TopicIdType::kNormal;
  std::uint16_t via_id = 0;
};

// Spec 6.14 client states as the gateway sees them.
enum class ClientState : std::uint8_t {
  kConnecting,    // CONNECT with Will flag, handshake in progress
  kActive,
  kAsleep,
  kAwake,         // woke with PINGREQ(ClientId); buffered messages go out, then PINGRESP
  kDisconnected,  // kept only for CleanSession=0 clients (subscriptions and topics survive)
};

std::string_view to_string(ClientState state);

// The one outstanding gateway→client exchange (spec 6.5/6.6: one at a time per client).
struct Outstanding {
  enum class Stage : std::uint8_t { kRegack, kPuback, kPubrec, kPubcomp };
  Stage stage = Stage::kPuback;
  Message message;        // what is retransmitted (REGISTER, PUBLISH with DUP, or PUBREL)
  std::uint16_t msg_id = 0;
  int retries = 0;
  MonoTime deadline{};
  Downstream item;        // the message being delivered (for the PUBLISH after a REGACK)
};

// The downstream buffer of one session. Most sessions never buffer anything, and an empty
// std::deque still allocates its map and a 512-byte node, which was half of an idle session's
// memory (issue 3: at most 2 KiB per idle client): the deque exists only while something waits.
class DownstreamQueue {
 public:
  bool empty() const { return !items_ || items_->empty(); }
  std::size_t size() const { return items_ ? items_->size() : 0; }
  Downstream& front() { return items_->front(); }
  void push_back(Downstream item) {
    if (!items_) items_ = std::make_unique<std::deque<Downstream>>();
    items_->push_back(std::move(item));
  }
  // Frees the storage once the last item is gone, so a session that drained returns to idle size.
  void pop_front() {
    items_->pop_front();
    if (items_->empty()) items_.reset();
  }
  void clear() { items_.reset(); }

 private:
  std::unique_ptr<std::deque<Downstream>> items_;
};

// Upstream QoS 1/2 MsgIds taken by the pipeline and awaiting its durable callback. A flat list:
// it holds at most max_inflight_per_client ids (16 by default), where a hash map cost an
// allocation and a free per PUBLISH on the gateway thread; the capacity stays once grown.
class PendingIds {
 public:
  bool contains(std::uint16_t id) const { return std::find(ids_.begin(), ids_.end(), id) != ids_.end(); }
  void insert(std::uint16_t id) {
    if (!contains(id)) ids_.push_back(id);
  }
  void erase(std::uint16_t id) {
    const auto it = std::find(ids_.begin(), ids_.end(), id);
    if (it == ids_.end()) return;
    *it = ids_.back();  // order carries no meaning
    ids_.pop_back();
  }
  std::size_t size() const { return ids_.size(); }

 private:
  std::vector<std::uint16_t> ids_;
};

struct Session {
  Session(std::uint64_t generation_, std::string client_id_, std::size_t max_topics_)
      : generation(generation_),
        client_id(std::move(client_id_)),
        max_topics(max_topics_),
        topics(max_topics_) {}

  // Unique per session for the gateway's lifetime: a durable completion carries it so that it
  // never acknowledges on behalf of a later session of the same client.
  std::uint64_t generation;
  std::string client_id;
  std::size_t max_topics;
  std::optional<Endpoint> endpoint;  // where the client was last heard from (none when restored w/o)
  ClientState state = ClientState::kActive;
  bool clean_session = true;
  std::uint16_t keep_alive_s = 0;  // 0 = not supervised
  std::uint16_t sleep_s = 0;       // while asleep
  MonoTime last_heard = mono_now();
  TopicTable topics;
  std::optional<Will> will;
  std::optional<Will> pending_will;  // during the CONNECT handshake
  bool pending_will_topic_seen = false;
  std::vector<Subscription> subscriptions;

  // Upstream QoS 1/2 PUBLISHes taken by the pipeline and awaiting its durable callback.
  PendingIds pending;
  // QoS 2 MsgIds whose PUBREC was sent, awaiting PUBREL (stored exactly once).
  std::set<std::uint16_t> qos2_received;
  // The last acknowledged (durable) QoS 1 MsgIds with their TopicId, a ring of kRecentAcked; a
  // retransmission of one of these is answered with the same PUBACK and not stored again. A fixed
  // array rather than a deque: no allocation per session (idle memory) and none per PUBACK.
  static constexpr std::size_t kRecentAcked = 16;
  std::array<std::pair<std::uint16_t, std::uint16_t>, kRecentAcked> recent_acked{};
  std::uint8_t recent_acked_count = 0;  // valid entries
  std::uint8_t recent_acked_next = 0;   // where the next one goes (the oldest once full)

  // Downstream.
  DownstreamQueue queue;
  std::optional<Outstanding> outstanding;
  std::uint16_t next_msg_id = 0;
  std::uint16_t take_msg_id() {
    if (++next_msg_id == 0) next_msg_id = 1;
    return next_msg_id;
  }

  void remember_acked(std::uint16_t msg_id, std::uint16_t topic_id);
  std::optional<std::uint16_t> recently_acked(std::uint16_t msg_id) const;  // -> topic id
  // Drops everything CleanSession=1 clears (spec 6.3: including the Will).
  void clear_state();
};

// Hashes the raw socket address (family, port, address bytes): the endpoint index is consulted
// for every datagram, and an ordered map's comparisons rebuilt ip::address objects at each of its
// ~10 levels for 1,000 clients.
struct EndpointHash {
  std::size_t operator()(const Endpoint& e) const noexcept;
};

// Sessions by ClientId, with an endpoint index.
class SessionTable {
 public:
  Session* find(const Endpoint& endpoint);
  Session* find_client(const std::string& client_id);
  // A fresh session for `client_id` (replacing any existing one), not yet bound to an endpoint.
  Session& create(const std::string& client_id, std::size_t max_topics);
  // Binds the session to `endpoint`, unbinding whatever session was there before.
  void bind(Session& session, const Endpoint& endpoint);
  void unbind(Session& session);
  void erase(const std::string& client_id);
  // Drops one session in state kDisconnected (the oldest heard); false if there is none.
  bool evict_disconnected();
  std::size_t size() const { return sessions_.size(); }
  std::size_t live() const;  // not kDisconnected
  void clear() {
    sessions_.clear();
    by_endpoint_.clear();
  }
  template <typename F>
  void for_each(F&& f) {
    for (auto& [id, s] : sessions_) f(*s);
  }

 private:
  std::map<std::string, std::unique_ptr<Session>> sessions_;
  std::unordered_map<Endpoint, Session*, EndpointHash> by_endpoint_;
  std::uint64_t next_generation_ = 1;
};

}  // namespace resonance::mqttsn
