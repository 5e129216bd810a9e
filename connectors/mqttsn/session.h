#pragma once
// Per-client gateway state: the session of one UDP source endpoint with its own topic-id table
// (spec 7.3: never a shared pool, so one client cannot misroute another's ids) and its QoS 1
// in-flight and recently-acknowledged message ids for duplicate detection.
//
// Not thread-safe: owned and touched only by the gateway's event-loop thread.

#include <boost/asio/ip/udp.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "resonance/core/sample.h"
#include "resonance/core/time.h"

namespace resonance::mqttsn {

using Endpoint = boost::asio::ip::udp::endpoint;

std::string to_string(const Endpoint& endpoint);

struct TopicEntry {
  SeriesId series = 0;
  std::string name;
};

// Topic ids 1..N handed out in REGISTER order; registering a name twice returns the same id.
class TopicTable {
 public:
  explicit TopicTable(std::size_t max_topics) : max_topics_(max_topics) {}
  std::optional<std::uint16_t> find(const std::string& name) const;
  const TopicEntry* find(std::uint16_t topic_id) const;
  // nullopt when the table is full (max_topics, or the 16-bit id space).
  std::optional<std::uint16_t> add(const std::string& name, SeriesId series);
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t max_topics_;
  std::vector<TopicEntry> entries_;  // index = topic id - 1
  std::unordered_map<std::string, std::uint16_t> by_name_;
};

struct Session {
  Session(std::uint64_t generation_, std::string client_id_, std::uint16_t keep_alive_s_,
          std::size_t max_topics)
      : generation(generation_),
        client_id(std::move(client_id_)),
        keep_alive_s(keep_alive_s_),
        topics(max_topics) {}

  // Unique per session for the gateway's lifetime: a durable completion carries it so that it
  // never acknowledges on behalf of a later session at the same endpoint.
  std::uint64_t generation;
  std::string client_id;
  std::uint16_t keep_alive_s;  // 0 = not supervised
  MonoTime last_heard = mono_now();
  TopicTable topics;
  // QoS 1 MsgId -> TopicId, taken by the pipeline and awaiting its durable callback.
  std::unordered_map<std::uint16_t, std::uint16_t> pending;
  // The last acknowledged (durable) QoS 1 MsgIds with their TopicId, newest last; a retransmission
  // of one of these is answered with the same PUBACK and not stored again.
  std::deque<std::pair<std::uint16_t, std::uint16_t>> recent_acked;
  static constexpr std::size_t kRecentAcked = 16;

  void remember_acked(std::uint16_t msg_id, std::uint16_t topic_id);
  std::optional<std::uint16_t> recently_acked(std::uint16_t msg_id) const;  // -> topic id
};

// Sessions by source endpoint.
class SessionTable {
 public:
  Session* find(const Endpoint& endpoint);
  // Replaces any session at `endpoint`.
  Session& create(const Endpoint& endpoint, std::string client_id, std::uint16_t keep_alive_s,
                  std::size_t max_topics);
  void erase(const Endpoint& endpoint) { sessions_.erase(endpoint); }
  // Drops sessions of `client_id` at endpoints other than `keep` (a device that rebooted onto a
  // new source port takes its identity with it); returns how many.
  std::size_t erase_client_elsewhere(const std::string& client_id, const Endpoint& keep);
  // Drops sessions silent for more than 1.5x their keep-alive; returns the dropped endpoints
  // with their client ids.
  std::vector<std::pair<Endpoint, std::string>> expire(MonoTime now);
  std::size_t size() const { return sessions_.size(); }
  void clear() { sessions_.clear(); }

 private:
  std::map<Endpoint, Session> sessions_;
  std::uint64_t next_generation_ = 1;
};

}  // namespace resonance::mqttsn
