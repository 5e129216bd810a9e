#include "connectors/mqttsn/session.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace resonance::mqttsn {

std::string to_string(const Endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

std::string_view to_string(ClientState state) {
  switch (state) {
    case ClientState::kConnecting: return "connecting";
    case ClientState::kActive: return "active";
    case ClientState::kAsleep: return "asleep";
    case ClientState::kAwake: return "awake";
    case ClientState::kDisconnected: return "disconnected";
  }
  return "?";
}

bool has_wildcard(std::string_view filter) {
  return filter.find_first_of("+#") != std::string_view::npos;
}

bool topic_matches(std::string_view filter, std::string_view name) {
  if (!name.empty() && name.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#'))
    return false;
  std::size_t f = 0;
  std::size_t n = 0;
  for (;;) {
    const std::size_t f_end = std::min(filter.find('/', f), filter.size());
    const std::string_view level = filter.substr(f, f_end - f);
    if (level == "#") return true;  // matches the parent level and everything below
    const std::size_t n_end = std::min(name.find('/', n), name.size());
    if (n > name.size()) return false;  // the name ran out of levels
    const std::string_view part = name.substr(n, n_end - n);
    if (level != "+" && level != part) return false;
    const bool f_last = f_end == filter.size();
    const bool n_last = n_end == name.size();
    if (f_last || n_last) {
      if (f_last && n_last) return true;
      // "a/#" matches "a": the filter continues with exactly "/#".
      return n_last && filter.substr(f_end) == "/#";
    }
    f = f_end + 1;
    n = n_end + 1;
  }
}

std::optional<std::uint16_t> TopicTable::find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

const TopicEntry* TopicTable::find(std::uint16_t topic_id) const {
  if (topic_id == 0 || topic_id > entries_.size()) return nullptr;
  const TopicEntry& e = entries_[topic_id - 1];
  return e.name.empty() ? nullptr : &e;
}

TopicEntry* TopicTable::find_mutable(std::uint16_t topic_id) {
  return const_cast<TopicEntry*>(std::as_const(*this).find(topic_id));
}

std::optional<std::uint16_t> TopicTable::add(const std::string& name, SeriesId series) {
  if (auto existing = find(name)) return existing;
  if (by_name_.size() >= max_topics_ || entries_.size() >= std::numeric_limits<std::uint16_t>::max())
    return std::nullopt;
  entries_.push_back({series, name});
  const auto id = static_cast<std::uint16_t>(entries_.size());
  by_name_.emplace(name, id);
  return id;
}

bool TopicTable::restore(std::uint16_t topic_id, const std::string& name, SeriesId series) {
  if (topic_id == 0 || name.empty() || by_name_.contains(name) || by_name_.size() >= max_topics_)
    return false;
  if (topic_id > entries_.size()) entries_.resize(topic_id);
  if (!entries_[topic_id - 1].name.empty()) return false;
  entries_[topic_id - 1] = {series, name};
  by_name_.emplace(name, topic_id);
  return true;
}

std::vector<std::pair<std::uint16_t, const TopicEntry*>> TopicTable::entries() const {
  std::vector<std::pair<std::uint16_t, const TopicEntry*>> out;
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (!entries_[i].name.empty()) out.emplace_back(static_cast<std::uint16_t>(i + 1), &entries_[i]);
  return out;
}

void Session::remember_acked(std::uint16_t msg_id, std::uint16_t topic_id) {
  recent_acked[recent_acked_next] = {msg_id, topic_id};
  recent_acked_next = static_cast<std::uint8_t>((recent_acked_next + 1) % kRecentAcked);
  if (recent_acked_count < kRecentAcked) ++recent_acked_count;
}

std::optional<std::uint16_t> Session::recently_acked(std::uint16_t msg_id) const {
  // Oldest first, as before the ring: the first match wins.
  const std::size_t start = recent_acked_count < kRecentAcked ? 0 : recent_acked_next;
  for (std::size_t k = 0; k < recent_acked_count; ++k) {
    const auto& [id, topic] = recent_acked[(start + k) % kRecentAcked];
    if (id == msg_id) return topic;
  }
  return std::nullopt;
}

void Session::clear_state() {
  topics = TopicTable(max_topics);
  will.reset();
  pending_will.reset();
  pending_will_topic_seen = false;
  subscriptions.clear();
  qos2_received.clear();
  recent_acked_count = 0;
  recent_acked_next = 0;
  queue.clear();
  outstanding.reset();
}

std::size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
  // FNV-1a over the bytes that identify a peer; v4 and v6 never collide in meaning because the
  // family is hashed too.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  const sockaddr* sa = e.data();
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    mix(&in->sin_family, sizeof in->sin_family);
    mix(&in->sin_port, sizeof in->sin_port);
    mix(&in->sin_addr, sizeof in->sin_addr);
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    mix(&in6->sin6_family, sizeof in6->sin6_family);
    mix(&in6->sin6_port, sizeof in6->sin6_port);
    mix(&in6->sin6_addr, sizeof in6->sin6_addr);
    mix(&in6->sin6_scope_id, sizeof in6->sin6_scope_id);
  }
  return static_cast<std::size_t>(h);
}

Session* SessionTable::find(const Endpoint& endpoint) {
  auto it = by_endpoint_.find(endpoint);
  return it == by_endpoint_.end() ? nullptr : it->second;
}

Session* SessionTable::find_client(const std::string& client_id) {
  auto it = sessions_.find(client_id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Session& SessionTable::create(const std::string& client_id, std::size_t max_topics) {
  erase(client_id);
  auto session = std::make_unique<Session>(next_generation_++, client_id, max_topics);
  Session& ref = *session;
  sessions_.emplace(client_id, std::move(session));
  return ref;
}

void SessionTable::bind(Session& session, const Endpoint& endpoint) {
  if (session.endpoint && *session.endpoint == endpoint) {
    by_endpoint_[endpoint] = &session;
    return;
  }
  unbind(session);
  if (auto it = by_endpoint_.find(endpoint); it != by_endpoint_.end()) {
    it->second->endpoint.reset();  // another client's old address, now reused
    by_endpoint_.erase(it);
  }
  session.endpoint = endpoint;
  by_endpoint_[endpoint] = &session;
}

void SessionTable::unbind(Session& session) {
  if (!session.endpoint) return;
  auto it = by_endpoint_.find(*session.endpoint);
  if (it != by_endpoint_.end() && it->second == &session) by_endpoint_.erase(it);
  session.endpoint.reset();
}

void SessionTable::erase(const std::string& client_id) {
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return;
  unbind(*it->second);
  sessions_.erase(it);
}

bool SessionTable::evict_disconnected() {
  auto victim = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
    if (it->second->state == ClientState::kDisconnected &&
        (victim == sessions_.end() || it->second->last_heard < victim->second->last_heard))
      victim = it;
  if (victim == sessions_.end()) return false;
  unbind(*victim->second);
  sessions_.erase(victim);
  return true;
}

std::size_t SessionTable::live() const {
  return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(), [](const auto& kv) {
    return kv.second->state != ClientState::kDisconnected;
  }));
}

}  // namespace resonance::mqttsn
