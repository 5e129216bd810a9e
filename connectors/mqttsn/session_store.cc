#include "connectors/mqttsn/session_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace resonance::mqttsn {
namespace {

constexpr std::string_view kMagic = "resonance-mqttsn-sessions 1";

std::string hex(std::string_view bytes) {
  if (bytes.empty()) return "-";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) fmt::format_to(std::back_inserter(out), "{:02x}", c);
  return out;
}
std::string hex(const std::vector<std::uint8_t>& bytes) {
  return hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string_view state_name(ClientState s) {
  switch (s) {
    case ClientState::kAsleep: return "asleep";
    case ClientState::kDisconnected: return "disconnected";
    default: return "active";
  }
}

class LineParser {
 public:
  LineParser(std::size_t line, std::string_view text) : line_(line) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t end = std::min(text.find(' ', pos), text.size());
      if (end > pos) fields_.push_back(text.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  std::size_t size() const { return fields_.size(); }
  std::string_view at(std::size_t i) const { return i < fields_.size() ? fields_[i] : std::string_view{}; }
  Status fail(std::string_view what) const {
    return Status(StatusCode::kInvalidArgument, fmt::format("mqttsn sessions line {}: {}", line_, what));
  }
  Result<std::uint64_t> number(std::size_t i, std::string_view field, std::uint64_t max) const {
    const auto s = at(i);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > max)
      return error(fail(fmt::format("{} '{}' must be a number 0..{}", field, s, max)));
    return v;
  }
  Result<std::string> unhex(std::size_t i, std::string_view field) const {
    const auto s = at(i);
    if (s == "-") return std::string();
    if (s.empty() || s.size() % 2 != 0)
      return error(fail(fmt::format("{} '{}' is not an even number of hex digits", field, s)));
    std::string out;
    out.reserve(s.size() / 2);
    for (std::size_t k = 0; k < s.size(); k += 2) {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + k, s.data() + k + 2, v, 16);
      if (ec != std::errc() || p != s.data() + k + 2)
        return error(fail(fmt::format("{} has a non-hex digit at column {}", field, k)));
      out.push_back(static_cast<char>(v));
    }
    return out;
  }
  // "key=value" -> value, checking the key.
  Result<std::string_view> keyed(std::size_t i, std::string_view key) const {
    const auto s = at(i);
    if (s.size() <= key.size() || s.substr(0, key.size()) != key || s[key.size()] != '=')
      return error(fail(fmt::format("field {} must be {}=..., got '{}'", i, key, s)));
    return s.substr(key.size() + 1);
  }

 private:
  std::size_t line_;
  std::vector<std::string_view> fields_;
};

Result<std::uint64_t> parse_num(const LineParser& p, std::string_view s, std::string_view field,
                                std::uint64_t max) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v > max)
    return error(p.fail(fmt::format("{} '{}' must be a number 0..{}", field, s, max)));
  return v;
}

}  // namespace

std::string encode_sessions(const std::vector<StoredSession>& sessions) {
  std::string out(kMagic);
  out += '\n';
  for (const auto& s : sessions) {
    const std::string endpoint =
        s.endpoint ? fmt::format("{}|{}", s.endpoint->first, s.endpoint->second) : "-";
    fmt::format_to(std::back_inserter(out), "session {} clean={} keepalive={} state={} sleep={} endpoint={}\n",
                   hex(s.client_id), s.clean_session ? 1 : 0, s.keep_alive_s, state_name(s.state),
                   s.sleep_s, endpoint);
    if (s.will)
      fmt::format_to(std::back_inserter(out), "will {} {} {} {}\n", static_cast<int>(s.will->qos),
                     s.will->retain ? 1 : 0, hex(s.will->topic), hex(s.will->message));
    for (const auto& [id, name] : s.topics)
      fmt::format_to(std::back_inserter(out), "topic {} {}\n", id, hex(name));
    for (const auto& sub : s.subscriptions)
      fmt::format_to(std::back_inserter(out), "sub {} {} {} {}\n", static_cast<int>(sub.type),
                     static_cast<int>(sub.qos), sub.topic_id, hex(sub.filter));
  }
  fmt::format_to(std::back_inserter(out), "end {}\n", sessions.size());
  return out;
}

Result<std::vector<StoredSession>> decode_sessions(std::string_view text) {
  std::vector<StoredSession> out;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  bool ended = false;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      return error(StatusCode::kInvalidArgument,
                   fmt::format("mqttsn sessions line {}: truncated (no newline)", line_no + 1));
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    LineParser p(line_no, line);
    if (ended) return error(p.fail("data after the 'end' line"));
    if (line_no == 1) {
      if (line != kMagic) return error(p.fail(fmt::format("expected '{}'", kMagic)));
      continue;
    }
    const auto kind = p.at(0);
    if (kind == "session") {
      if (p.size() != 7) return error(p.fail("session needs 6 fields"));
      StoredSession s;
      auto id = p.unhex(1, "client id");
      if (!id) return error(id.error());
      if (id->empty() || id->size() > kMaxClientIdBytes)
        return error(p.fail(fmt::format("client id is {} bytes, must be 1..23", id->size())));
      s.client_id = std::move(*id);
      auto clean = p.keyed(2, "clean");
      if (!clean) return error(clean.error());
      auto c = parse_num(p, *clean, "clean", 1);
      if (!c) return error(c.error());
      s.clean_session = *c == 1;
      auto ka = p.keyed(3, "keepalive");
      if (!ka) return error(ka.error());
      auto k = parse_num(p, *ka, "keepalive", 65535);
      if (!k) return error(k.error());
      s.keep_alive_s = static_cast<std::uint16_t>(*k);
      auto st = p.keyed(4, "state");
      if (!st) return error(st.error());
      if (*st == "active") s.state = ClientState::kActive;
      else if (*st == "asleep") s.state = ClientState::kAsleep;
      else if (*st == "disconnected") s.state = ClientState::kDisconnected;
      else return error(p.fail(fmt::format("state '{}' must be active, asleep or disconnected", *st)));
      auto sl = p.keyed(5, "sleep");
      if (!sl) return error(sl.error());
      auto slv = parse_num(p, *sl, "sleep", 65535);
      if (!slv) return error(slv.error());
      s.sleep_s = static_cast<std::uint16_t>(*slv);
      auto ep = p.keyed(6, "endpoint");
      if (!ep) return error(ep.error());
      if (*ep != "-") {
        const auto bar = ep->rfind('|');
        if (bar == std::string_view::npos || bar == 0)
          return error(p.fail(fmt::format("endpoint '{}' must be address|port", *ep)));
        auto port = parse_num(p, ep->substr(bar + 1), "endpoint port", 65535);
        if (!port) return error(port.error());
        s.endpoint.emplace(std::string(ep->substr(0, bar)), static_cast<std::uint16_t>(*port));
      }
      out.push_back(std::move(s));
      continue;
    }
    if (kind == "end") {
      auto n = p.number(1, "session count", 1'000'000'000);
      if (!n) return error(n.error());
      if (p.size() != 2 || *n != out.size())
        return error(p.fail(fmt::format("end says {} sessions, the file has {}", p.at(1), out.size())));
      ended = true;
      continue;
    }
    if (out.empty()) return error(p.fail(fmt::format("'{}' before any session line", kind)));
    StoredSession& s = out.back();
    if (kind == "will") {
      if (p.size() != 5) return error(p.fail("will needs 4 fields"));
      auto qos = p.number(1, "will qos", 2);
      if (!qos) return error(qos.error());
      auto retain = p.number(2, "will retain", 1);
      if (!retain) return error(retain.error());
      auto topic = p.unhex(3, "will topic");
      if (!topic) return error(topic.error());
      auto msg = p.unhex(4, "will message");
      if (!msg) return error(msg.error());
      if (topic->empty()) return error(p.fail("will topic is empty"));
      s.will = Will{.topic = std::move(*topic),
                    .message = std::vector<std::uint8_t>(msg->begin(), msg->end()),
                    .qos = static_cast<std::int8_t>(*qos),
                    .retain = *retain == 1};
    } else if (kind == "topic") {
      if (p.size() != 3) return error(p.fail("topic needs 2 fields"));
      auto id = p.number(1, "topic id", 65535);
      if (!id) return error(id.error());
      if (*id == 0) return error(p.fail("topic id '0' must be 1..65535"));
      auto name = p.unhex(2, "topic name");
      if (!name) return error(name.error());
      if (name->empty()) return error(p.fail("topic name is empty"));
      s.topics.emplace_back(static_cast<std::uint16_t>(*id), std::move(*name));
    } else if (kind == "sub") {
      if (p.size() != 5) return error(p.fail("sub needs 4 fields"));
      auto type = p.number(1, "sub type", 2);
      if (!type) return error(type.error());
      auto qos = p.number(2, "sub qos", 2);
      if (!qos) return error(qos.error());
      auto id = p.number(3, "sub topic id", 65535);
      if (!id) return error(id.error());
      auto filter = p.unhex(4, "sub filter");
      if (!filter) return error(filter.error());
      if (filter->empty()) return error(p.fail("sub filter is empty"));
      s.subscriptions.push_back({.type = static_cast<TopicIdType>(*type),
                                 .filter = std::move(*filter),
                                 .topic_id = static_cast<std::uint16_t>(*id),
                                 .qos = static_cast<std::int8_t>(*qos)});
    } else {
      return error(p.fail(fmt::format("unknown record '{}'", kind)));
    }
  }
  if (line_no == 0) return error(StatusCode::kInvalidArgument, "mqttsn sessions: empty file");
  if (!ended)
    return error(StatusCode::kInvalidArgument,
                 fmt::format("mqttsn sessions line {}: no 'end' line (truncated file)", line_no));
  return out;
}

Status write_sessions_file(const std::filesystem::path& file, const std::vector<StoredSession>& sessions) {
  return write_sessions_text(file, encode_sessions(sessions));
}

Status write_sessions_text(const std::filesystem::path& file, const std::string& text) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: open {}: {}", tmp.string(), std::strerror(errno)));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status(StatusCode::kIoError, fmt::format("mqttsn: write {}: {}", tmp.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return Status(StatusCode::kIoError, fmt::format("mqttsn: fsync {}: {}", tmp.string(), std::strerror(err)));
  }
  ::close(fd);
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: rename {} -> {}: {}", tmp.string(),
                                                    file.string(), ec.message()));
  return Status::ok();
}

Result<std::vector<StoredSession>> read_sessions_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::vector<StoredSession>{};
  std::ifstream in(file, std::ios::binary);
  if (!in) return error(StatusCode::kIoError, fmt::format("mqttsn: cannot read {}", file.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto decoded = decode_sessions(buffer.str());
  if (!decoded)
    return error(decoded.error().code(), fmt::format("{}: {}", file.string(), decoded.error().message()));
  return decoded;
}

}  // namespace resonance::mqttsn
