#include "connectors/mqttsn/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace resonance::mqttsn {

std::string to_string(const Endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

std::optional<std::uint16_t> TopicTable::find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

const TopicEntry* TopicTable::find(std::uint16_t topic_id) const {
  if (topic_id == 0 || topic_id > entries_.size()) return nullptr;
  return &entries_[topic_id - 1];
}

std::optional<std::uint16_t> TopicTable::add(const std::string& name, SeriesId series) {
  if (auto existing = find(name)) return existing;
  if (entries_.size() >= max_topics_ || entries_.size() >= std::numeric_limits<std::uint16_t>::max())
    return std::nullopt;
  entries_.push_back({series, name});
  const auto id = static_cast<std::uint16_t>(entries_.size());
  by_name_.emplace(name, id);
  return id;
}

void Session::remember_acked(std::uint16_t msg_id, std::uint16_t topic_id) {
  recent_acked.emplace_back(msg_id, topic_id);
  if (recent_acked.size() > kRecentAcked) recent_acked.pop_front();
}

std::optional<std::uint16_t> Session::recently_acked(std::uint16_t msg_id) const {
  for (const auto& [id, topic] : recent_acked)
    if (id == msg_id) return topic;
  return std::nullopt;
}

Session* SessionTable::find(const Endpoint& endpoint) {
  auto it = sessions_.find(endpoint);
  return it == sessions_.end() ? nullptr : &it->second;
}

Session& SessionTable::create(const Endpoint& endpoint, std::string client_id,
                              std::uint16_t keep_alive_s, std::size_t max_topics) {
  sessions_.erase(endpoint);
  auto [it, inserted] = sessions_.try_emplace(endpoint, next_generation_++, std::move(client_id),
                                              keep_alive_s, max_topics);
  return it->second;
}

std::size_t SessionTable::erase_client_elsewhere(const std::string& client_id, const Endpoint& keep) {
  return std::erase_if(sessions_, [&](const auto& kv) {
    return kv.first != keep && kv.second.client_id == client_id;
  });
}

std::vector<std::pair<Endpoint, std::string>> SessionTable::expire(MonoTime now) {
  std::vector<std::pair<Endpoint, std::string>> dropped;
  std::erase_if(sessions_, [&](const auto& kv) {
    const Session& s = kv.second;
    if (s.keep_alive_s == 0) return false;
    // 1.5x tolerance (spec 7.2 asks for at least 10%/50%); generous because radio links jitter.
    const auto limit = std::chrono::milliseconds(std::int64_t{s.keep_alive_s} * 1500);
    if (now - s.last_heard <= limit) return false;
    dropped.emplace_back(kv.first, s.client_id);
    return true;
  });
  return dropped;
}

}  // namespace resonance::mqttsn
