#include "connectors/mqttsn/gateway_loop.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "connectors/mqttsn/codec.h"
#include "connectors/mqttsn/payload.h"
#include "connectors/mqttsn/session_store.h"
#include "connectors/mqttsn/udp_segment.h"
#include "resonance/pipeline/quarantine.h"

namespace resonance::mqttsn {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// Spec 7.2: the gateway tolerates 50% over short keep-alive/sleep periods, 10% over ones longer
// than a minute.
std::chrono::milliseconds with_tolerance(std::uint16_t seconds) {
  const std::int64_t ms = std::int64_t{seconds} * 1000;
  return std::chrono::milliseconds(seconds > 60 ? ms * 11 / 10 : ms * 3 / 2);
}

std::string short_name(std::uint16_t id) {
  return std::string{static_cast<char>(id >> 8), static_cast<char>(id & 0xff)};
}

// MQTT filter rules: '#' only as the whole last level, '+' only as a whole level.
bool valid_filter(std::string_view filter) {
  if (filter.empty()) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = std::min(filter.find('/', start), filter.size());
    const auto level = filter.substr(start, end - start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) return false;
    if (level == "#" && end != filter.size()) return false;
    if (end == filter.size()) return true;
    start = end + 1;
  }
}

Result<Endpoint> parse_endpoint(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return error(StatusCode::kInvalidArgument, fmt::format("'{}' must be [v6-address]:port", text));
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return error(StatusCode::kInvalidArgument, fmt::format("'{}' must be address:port", text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return error(StatusCode::kInvalidArgument, fmt::format("'{}' is not an IP address", host));
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (...) {
    p = -1;
  }
  if (p <= 0 || p > 65535)
    return error(StatusCode::kInvalidArgument, fmt::format("port '{}' must be 1..65535", port));
  return Endpoint(address, static_cast<std::uint16_t>(p));
}

// An equipment-level topic, site/area/line/equipment: the prefix of the series paths its
// multi-signal payloads name (docs/formats/mqttsn-payload.md, tag 0x03 and JSON "signals"). It
// maps to no series itself.
Status validate_equipment_prefix(std::string_view name) {
  const auto slashes = std::count(name.begin(), name.end(), '/');
  if (slashes != 3)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("'{}' has {} segments; an equipment prefix has 4 (site/area/line/equipment)",
                              name, slashes + 1));
  // The segment rules are the series path's: check them on a path with a placeholder signal.
  return validate_series_path(fmt::format("{}/signal", name));
}

bool can_exchange(const Session& s) {
  return s.state == ClientState::kActive || s.state == ClientState::kAwake;
}

}  // namespace

struct GatewayLoop::RecvBatch {
  static constexpr unsigned kRecvBatch = 16;
  static constexpr unsigned kMaxPerWakeup = 256;  // then let timers and posted work run
  std::array<std::array<std::uint8_t, 65536>, kRecvBatch> buffers{};  // larger than any datagram
  std::array<sockaddr_storage, kRecvBatch> from{};
  std::array<iovec, kRecvBatch> iov{};
  std::array<mmsghdr, kRecvBatch> msgs{};
  // Ancillary data: the UDP_GRO segment size when the kernel hands over coalesced datagrams.
  alignas(cmsghdr) std::array<std::array<std::uint8_t, 64>, kRecvBatch> control{};
  // Re-armed before every recvmmsg: the kernel overwrites the lengths.
  void arm() {
    for (unsigned i = 0; i < kRecvBatch; ++i) {
      iov[i] = {buffers[i].data(), buffers[i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = control[i].data();
      msgs[i].msg_hdr.msg_controllen = control[i].size();
    }
  }
  // The size of each datagram in a GRO-coalesced buffer; 0 when the buffer is one datagram.
  static std::size_t segment_size(msghdr& h) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        return size > 0 ? static_cast<std::size_t>(size) : 0;
      }
    }
    return 0;
  }
};

GatewayLoop::GatewayLoop(const GatewayOptions& options, BatchConsumer& pipeline,
                         SeriesCatalog& catalog, MetricsRegistry& metrics)
    : options_(options),
      pipeline_(pipeline),
      catalog_(catalog),
      metrics_(metrics),
      socket_(io_),
      supervision_timer_(io_),
      advertise_timer_(io_),
      relay_(std::make_shared<DurableRelay>()) {
  if (!options_.state_file.empty())
    state_writer_ = std::make_unique<SessionFileWriter>(options_.state_file, [this](const Status& st) {
      if (st.is_ok()) return;
      metrics_.persist_errors.inc();
      spdlog::warn("mqttsn: session state not saved: {}", st.message());
    });
  std::lock_guard lock(relay_->mu);
  relay_->loop = this;
}

GatewayLoop::~GatewayLoop() {
  shutdown();
  metrics_.sessions.set(0);
}

Status GatewayLoop::bind() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.bind_address, ec);
  if (ec)
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("mqttsn: bind_address '{}' is not an IP address: {}",
                              options_.bind_address, ec.message()));
  for (const auto& source : options_.allowed_sources) {
    const auto a = asio::ip::make_address(source, ec);
    if (ec)
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("mqttsn: allowed source '{}' is not an IP address", source));
    allowed_sources_.insert(a);
  }
  if (options_.advertise_interval_ms > 0) {
    auto to = parse_endpoint(options_.advertise_address);
    if (!to)
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("mqttsn: advertise_address: {}", to.error().message()));
    advertise_to_ = *to;
  }
  load_state();
  const udp::endpoint endpoint(address, options_.port);
  if (socket_.open(endpoint.protocol(), ec); ec)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: open UDP socket: {}", ec.message()));
  if (socket_.bind(endpoint, ec); ec)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: bind UDP {}:{}: {}",
                                                    options_.bind_address, options_.port, ec.message()));
  // Sends happen inline on the event loop; a full socket buffer must drop (and count), not block.
  if (socket_.non_blocking(true, ec); ec)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: non-blocking socket: {}", ec.message()));
  // Room for bursts of many clients (the kernel caps it at net.core.rmem_max).
  socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  socket_.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  // UDP_GRO (Linux 5.0+): the kernel may hand over several datagrams of one sender in one buffer,
  // which takes a whole system call and skb per datagram off the receive path at high rates.
  // Without it (older kernels, other systems) every datagram arrives on its own: same result.
  const int on = 1;
  if (::setsockopt(socket_.native_handle(), SOL_UDP, UDP_GRO, &on, sizeof on) != 0)
    spdlog::debug("mqttsn: UDP_GRO not available: {}", std::strerror(errno));
  const auto local = socket_.local_endpoint(ec);
  if (ec) return Status(StatusCode::kIoError, fmt::format("mqttsn: local endpoint: {}", ec.message()));
  bound_port_.store(local.port());
  receive();
  supervise();
  if (advertise_to_) advertise();
  return Status::ok();
}

void GatewayLoop::run() {
  // Handlers do not throw (errors are values), so run() only returns after shutdown().
  io_.run();
}

void GatewayLoop::shutdown() {
  {
    std::lock_guard lock(relay_->mu);
    relay_->loop = nullptr;
  }
  io_.stop();
}

void GatewayLoop::post_deliver(std::string topic, std::vector<std::uint8_t> payload, int qos,
                               bool retain) {
  asio::post(io_, [this, topic = std::move(topic), payload = std::move(payload), qos, retain] {
    deliver(topic, payload, static_cast<std::int8_t>(std::clamp(qos, 0, 2)), retain);
  });
}

// ---- persistence ------------------------------------------------------------------------------

void GatewayLoop::load_state() {
  if (options_.state_file.empty()) return;
  auto stored = read_sessions_file(options_.state_file);
  if (!stored) {
    // A damaged file must not keep the gateway down: start empty, keep the evidence.
    spdlog::error("mqttsn: session state not restored: {}", stored.error().message());
    std::error_code ec;
    std::filesystem::rename(options_.state_file, options_.state_file + ".corrupt", ec);
    return;
  }
  for (auto& s : *stored) {
    Session& session = sessions_.create(s.client_id, options_.max_topics_per_client);
    session.clean_session = s.clean_session;
    session.keep_alive_s = s.keep_alive_s;
    session.sleep_s = s.sleep_s;
    session.state = s.state;
    session.will = s.will;
    session.last_heard = mono_now();  // supervision restarts from the restart
    if (s.endpoint && s.state != ClientState::kDisconnected) {
      boost::system::error_code ec;
      const auto a = asio::ip::make_address(s.endpoint->first, ec);
      if (!ec) sessions_.bind(session, Endpoint(a, s.endpoint->second));
    }
    if (!session.endpoint) session.state = ClientState::kDisconnected;
    for (const auto& [id, name] : s.topics) {
      const auto info = catalog_.find(name);
      session.topics.restore(id, name, info ? info->id : 0);
    }
    session.subscriptions = std::move(s.subscriptions);
    subscription_count_ += session.subscriptions.size();
  }
  metrics_.sessions_restored.inc(stored->size());
  update_sessions_gauge();
  spdlog::info("mqttsn: restored {} session(s) from {}", stored->size(), options_.state_file);
}

void GatewayLoop::persist_now() {
  if (!state_writer_) return;
  std::vector<StoredSession> out;
  sessions_.for_each([&](Session& s) {
    if (s.state == ClientState::kConnecting) return;
    if (s.state == ClientState::kDisconnected && s.clean_session) return;
    StoredSession st;
    st.client_id = s.client_id;
    st.clean_session = s.clean_session;
    st.keep_alive_s = s.keep_alive_s;
    st.state = s.state == ClientState::kAwake ? ClientState::kAsleep : s.state;
    st.sleep_s = s.sleep_s;
    if (s.endpoint) st.endpoint.emplace(s.endpoint->address().to_string(), s.endpoint->port());
    if (s.will && !s.will->topic.empty()) st.will = s.will;
    for (const auto& [id, entry] : s.topics.entries()) st.topics.emplace_back(id, entry->name);
    st.subscriptions = s.subscriptions;
    out.push_back(std::move(st));
  });
  // A failed write is counted and logged by the writer; the next change writes the whole state
  // again, as a retry would.
  state_writer_->submit(encode_sessions(out));
  dirty_ = false;
  last_persist_ = mono_now();
}

void GatewayLoop::drain_persist() {
  if (state_writer_) state_writer_->drain();
}

// ---- socket and timers ------------------------------------------------------------------------

void GatewayLoop::receive() {
  if (!rx_) rx_ = std::make_unique<RecvBatch>();
  socket_.async_wait(asio::socket_base::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      metrics_.receive_errors.inc();
      spdlog::debug("mqttsn: wait error: {}", ec.message());
      receive();
      return;
    }
    unsigned handled = 0;
    while (handled < RecvBatch::kMaxPerWakeup) {
      rx_->arm();
      const int n = ::recvmmsg(socket_.native_handle(), rx_->msgs.data(), RecvBatch::kRecvBatch,
                               MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        // ICMP-induced errors and the like: count and keep serving the other clients.
        metrics_.receive_errors.inc();
        spdlog::debug("mqttsn: receive error: {}", std::strerror(errno));
        break;
      }
      if (n == 0) break;
      for (int i = 0; i < n; ++i) {
        auto& h = rx_->msgs[static_cast<std::size_t>(i)];
        if (h.msg_hdr.msg_namelen > sizeof(sockaddr_storage)) continue;
        Endpoint from;
        std::memcpy(from.data(), &rx_->from[static_cast<std::size_t>(i)], h.msg_hdr.msg_namelen);
        from.resize(h.msg_hdr.msg_namelen);
        const std::uint8_t* data = rx_->buffers[static_cast<std::size_t>(i)].data();
        if (h.msg_hdr.msg_flags & MSG_TRUNC) {
          // Cannot happen with 64 KiB buffers (the largest UDP payload); if it does, say so.
          metrics_.receive_errors.inc();
          spdlog::warn("mqttsn: a datagram from {} was larger than the receive buffer; dropped", to_string(from));
          continue;
        }
        // With UDP_GRO one buffer may hold several datagrams of one sender, each `segment`
        // bytes except the last: split them back into the PUBLISHes the device sent.
        const std::size_t segment = RecvBatch::segment_size(h.msg_hdr);
        const std::size_t len = h.msg_len;
        if (segment == 0 || segment >= len) {
          on_datagram(from, std::span<const std::uint8_t>(data, len));
          ++handled;
          continue;
        }
        for (std::size_t off = 0; off < len; off += segment) {
          on_datagram(from, std::span<const std::uint8_t>(data + off, std::min(segment, len - off)));
          ++handled;
        }
      }
      if (static_cast<unsigned>(n) < RecvBatch::kRecvBatch) break;  // drained
    }
    flush_staged();  // the PUBLISHes of this wake-up go to the pipeline together
    receive();
  });
}

void GatewayLoop::note_kernel_drops(std::uint32_t cumulative) {
  // The kernel's count is cumulative for the socket (wrapping at 2^32; unsigned arithmetic keeps
  // the difference right).
  const std::uint32_t fresh = cumulative - kernel_drops_seen_;
  if (fresh == 0) return;
  kernel_drops_seen_ = cumulative;
  metrics_.kernel_drops.inc(fresh);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_drop_log_ >= std::chrono::seconds(1)) {  // a log line per second at most
    last_drop_log_ = now;
    spdlog::warn("mqttsn: the kernel dropped {} datagram buffer(s) at the full receive buffer (the gateway "
                 "fell behind; counted in resonance_mqttsn_kernel_drops_total)", fresh);
  }
}

void GatewayLoop::supervise() {
  supervision_timer_.expires_after(std::chrono::milliseconds(options_.supervision_interval_ms));
  supervision_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    // Datagrams the kernel drops at a full receive buffer never reach us: read the socket's drop
    // count every tick, so they are counted and logged, not silent.
    std::array<std::uint32_t, SK_MEMINFO_VARS> meminfo{};
    socklen_t len = sizeof meminfo;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_MEMINFO, meminfo.data(), &len) == 0 &&
        len >= (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t))
      note_kernel_drops(meminfo[SK_MEMINFO_DROPS]);
    const MonoTime now = mono_now();
    std::vector<std::pair<std::string, std::string_view>> lost;
    std::vector<std::string> retry;
    sessions_.for_each([&](Session& s) {
      const bool sleeping = s.state == ClientState::kAsleep || s.state == ClientState::kAwake;
      if (s.state == ClientState::kDisconnected) return;
      if (sleeping) {
        if (s.sleep_s > 0 && now - s.last_heard > with_tolerance(s.sleep_s))
          lost.emplace_back(s.client_id, "sleep duration");
      } else if (s.keep_alive_s > 0 && now - s.last_heard > with_tolerance(s.keep_alive_s)) {
        lost.emplace_back(s.client_id, "keep-alive");
      }
      if (s.outstanding && can_exchange(s) && now >= s.outstanding->deadline) retry.push_back(s.client_id);
    });
    for (const auto& [client_id, why] : lost)
      if (Session* s = sessions_.find_client(client_id)) {
        if (why == "keep-alive") metrics_.keepalive_expired.inc();
        lose(*s, why);
      }
    for (const auto& client_id : retry) {
      Session* s = sessions_.find_client(client_id);
      if (!s || !s->outstanding) continue;
      if (s->outstanding->retries >= options_.max_retries) {
        metrics_.downstream_dropped_retries.inc();
        s->outstanding.reset();
        lose(*s, "retransmissions exhausted");
        continue;
      }
      ++s->outstanding->retries;
      metrics_.retransmissions.inc();
      resend_outstanding(*s, true);
    }
    if (!lost.empty()) update_sessions_gauge();
    if (dirty_ && now - last_persist_ >= std::chrono::milliseconds(options_.persist_interval_ms))
      persist_now();
    supervise();
  });
}

void GatewayLoop::advertise() {
  const auto duration_s = static_cast<std::uint16_t>(
      std::min<int>((options_.advertise_interval_ms + 999) / 1000, 65535));
  send(*advertise_to_, Advertise{.gw_id = options_.gateway_id, .duration_s = duration_s});
  advertise_timer_.expires_after(std::chrono::milliseconds(options_.advertise_interval_ms));
  advertise_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) advertise();
  });
}

void GatewayLoop::update_sessions_gauge() {
  metrics_.sessions.set(static_cast<double>(sessions_.live()));
}

void GatewayLoop::on_datagram(const Endpoint& from, std::span<const std::uint8_t> bytes) {
  if (!allowed_sources_.empty() && !allowed_sources_.contains(from.address())) {
    metrics_.denied.inc();
    spdlog::debug("mqttsn: datagram from {} dropped: source not in allowed_sources", to_string(from));
    return;
  }
  auto message = decode(bytes);
  if (!message) {
    metrics_.malformed.inc();
    spdlog::debug("mqttsn: malformed datagram from {} dropped: {} [{}]", to_string(from),
                  message.error().message(), hex_dump(bytes));
    return;
  }
  metrics_.packet_in(type_of(*message));
  // Anything but a PUBLISH may change sessions or answer about earlier messages (PUBREL,
  // DISCONNECT, CONNECT): what was staged before it goes to the pipeline first.
  if (!std::holds_alternative<Publish>(*message)) flush_staged();
  Session* session = sessions_.find(from);
  if (session) session->last_heard = mono_now();
  std::visit([&](auto& m) { handle(from, session, m); }, *message);
}

void GatewayLoop::send(const Endpoint& to, const Message& message) {
  if (tx_batching_) {
    const std::size_t offset = tx_bytes_.size();
    if (Status s = encode_append(message, tx_bytes_); !s) {  // only oversized messages fail
      metrics_.send_errors.inc();
      spdlog::error("mqttsn: cannot encode {}: {}", msg_type_name(type_of(message)), s.message());
      return;
    }
    tx_.push_back(Outgoing{to, offset, tx_bytes_.size() - offset, type_of(message)});
    return;
  }
  auto bytes = encode(message);
  if (!bytes) {
    metrics_.send_errors.inc();
    spdlog::error("mqttsn: cannot encode {}: {}", msg_type_name(type_of(message)), bytes.error().message());
    return;
  }
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(*bytes), to, 0, ec);
  if (ec) {
    metrics_.send_errors.inc();
    spdlog::debug("mqttsn: send {} to {} failed: {}", msg_type_name(type_of(message)),
                  to_string(to), ec.message());
    return;
  }
  metrics_.packet_out(type_of(message));
}

void GatewayLoop::send_to(Session& session, const Message& message) {
  if (session.endpoint) send(*session.endpoint, message);
}

void GatewayLoop::send_puback(const Endpoint& to, std::uint16_t topic_id, std::uint16_t msg_id,
                              ReturnCode rc) {
  metrics_.puback(rc);
  send(to, Puback{.topic_id = topic_id, .msg_id = msg_id, .return_code = rc});
}

bool GatewayLoop::require_session(const Endpoint& from, Session* session) {
  if (session && session->state != ClientState::kConnecting &&
      session->state != ClientState::kDisconnected)
    return true;
  metrics_.unconnected.inc();
  send(from, Disconnect{});
  return false;
}

// ---- connect, will ----------------------------------------------------------------------------

Session& GatewayLoop::fresh_session(const std::string& client_id) {
  if (Session* old = sessions_.find_client(client_id))
    add_subscription_count(-static_cast<std::ptrdiff_t>(old->subscriptions.size()));
  return sessions_.create(client_id, options_.max_topics_per_client);
}

void GatewayLoop::add_subscription_count(std::ptrdiff_t delta) {
  subscription_count_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(subscription_count_) + delta);
}

void GatewayLoop::handle(const Endpoint& from, Session*, const Connect& m) {
  if (!options_.allowed_client_ids.empty() && !options_.allowed_client_ids.contains(m.client_id)) {
    metrics_.connect_rejected.inc();
    metrics_.denied.inc();
    spdlog::warn("mqttsn: CONNECT from '{}' at {} refused: not in allowed_client_ids", m.client_id,
                 to_string(from));
    send(from, Connack{.return_code = ReturnCode::kNotSupported});
    return;
  }
  Session* existing = sessions_.find_client(m.client_id);
  if (!existing && sessions_.size() >= options_.max_clients && !sessions_.evict_disconnected()) {
    metrics_.connect_rejected.inc();
    spdlog::warn("mqttsn: CONNECT from '{}' at {} refused: {} clients known (max_clients)",
                 m.client_id, to_string(from), sessions_.size());
    send(from, Connack{.return_code = ReturnCode::kCongestion});
    return;
  }
  Session* session = existing;
  if (m.flags.clean_session || !existing) {
    // CleanSession=1 clears topics, subscriptions, buffered messages and the Will (spec 6.3).
    session = &fresh_session(m.client_id);
  } else if (existing->state == ClientState::kConnecting && !m.flags.will) {
    existing->pending_will.reset();
  }
  session->clean_session = m.flags.clean_session;
  session->keep_alive_s = m.duration_s;
  session->sleep_s = 0;
  session->last_heard = mono_now();
  sessions_.bind(*session, from);
  mark_dirty();
  if (m.flags.will) {
    // Spec 6.3: WILLTOPICREQ, WILLTOPIC, WILLMSGREQ, WILLMSG, then CONNACK. A retransmitted
    // CONNECT restarts the handshake.
    session->state = ClientState::kConnecting;
    session->pending_will = Will{};
    session->pending_will_topic_seen = false;
    send(from, WillTopicReq{});
    return;
  }
  session->state = ClientState::kActive;
  update_sessions_gauge();
  spdlog::debug("mqttsn: client '{}' connected from {} (keep-alive {} s, clean {})", m.client_id,
                to_string(from), m.duration_s, m.flags.clean_session);
  send(from, Connack{.return_code = ReturnCode::kAccepted});
  if (session->outstanding) resend_outstanding(*session, true);
  pump(*session);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const WillTopic& m) {
  if (!session || session->state != ClientState::kConnecting || !session->pending_will) {
    metrics_.unexpected.inc();
    return;
  }
  if (m.topic.empty()) {
    // An empty WILLTOPIC: no Will (spec 6.3 / 5.4.7).
    session->pending_will.reset();
    session->will.reset();
    session->state = ClientState::kActive;
    update_sessions_gauge();
    send(from, Connack{.return_code = ReturnCode::kAccepted});
    pump(*session);
    return;
  }
  session->pending_will->topic = m.topic;
  session->pending_will->qos = static_cast<std::int8_t>(std::clamp<int>(m.flags.qos, 0, 2));
  session->pending_will->retain = m.flags.retain;
  session->pending_will_topic_seen = true;
  send(from, WillMsgReq{});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const WillMsg& m) {
  if (!session || session->state != ClientState::kConnecting || !session->pending_will ||
      !session->pending_will_topic_seen) {
    metrics_.unexpected.inc();
    return;
  }
  session->pending_will->message = m.message;
  session->will = std::move(session->pending_will);
  session->pending_will.reset();
  session->state = ClientState::kActive;
  mark_dirty();
  update_sessions_gauge();
  send(from, Connack{.return_code = ReturnCode::kAccepted});
  pump(*session);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const WillTopicUpd& m) {
  if (!require_session(from, session)) return;
  if (m.topic.empty()) {
    session->will.reset();
  } else {
    Will w = session->will.value_or(Will{});
    w.topic = m.topic;
    w.qos = static_cast<std::int8_t>(std::clamp<int>(m.flags.qos, 0, 2));
    w.retain = m.flags.retain;
    session->will = std::move(w);
  }
  mark_dirty();
  send(from, WillTopicResp{.return_code = ReturnCode::kAccepted});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const WillMsgUpd& m) {
  if (!require_session(from, session)) return;
  if (!session->will) {
    // A Will message without a Will topic could never be published.
    send(from, WillMsgResp{.return_code = ReturnCode::kNotSupported});
    return;
  }
  session->will->message = m.message;
  mark_dirty();
  send(from, WillMsgResp{.return_code = ReturnCode::kAccepted});
}

// ---- register ---------------------------------------------------------------------------------

void GatewayLoop::handle(const Endpoint& from, Session* session, const Register& m) {
  if (!require_session(from, session)) return;
  auto reply = [&](std::uint16_t topic_id, ReturnCode rc) {
    if (rc != ReturnCode::kAccepted) metrics_.register_rejected.inc();
    send(from, Regack{.topic_id = topic_id, .msg_id = m.msg_id, .return_code = rc});
  };
  if (auto known = session->topics.find(m.topic_name)) return reply(*known, ReturnCode::kAccepted);
  // An equipment prefix (multi-signal payloads) is accepted with no series of its own; every
  // other name must be a series path.
  SeriesId series = 0;
  if (!validate_equipment_prefix(m.topic_name).is_ok()) {
    // Note: a new path commits to SQLite on this thread; REGISTER is rare enough for that.
    auto resolved = catalog_.resolve(m.topic_name);
    if (!resolved) {
      if (resolved.error().code() == StatusCode::kInvalidArgument) {
        // Neither: rc 0x03 "not supported". Not 0x02 "invalid topic id", which tells a client to
        // re-register and would loop with the same name.
        spdlog::debug("mqttsn: REGISTER '{}' from '{}' refused: {}", m.topic_name,
                      session->client_id, resolved.error().message());
        return reply(0, ReturnCode::kNotSupported);
      }
      spdlog::warn("mqttsn: REGISTER '{}' from '{}': catalog error: {}", m.topic_name,
                   session->client_id, resolved.error().message());
      return reply(0, ReturnCode::kCongestion);  // transient: the client may retry later
    }
    series = *resolved;
  }
  auto topic_id = session->topics.add(m.topic_name, series);
  if (!topic_id) {
    spdlog::warn("mqttsn: REGISTER '{}' from '{}' refused: {} topics (max_topics_per_client)",
                 m.topic_name, session->client_id, session->topics.size());
    return reply(0, ReturnCode::kNotSupported);
  }
  mark_dirty();
  reply(*topic_id, ReturnCode::kAccepted);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Regack& m) {
  if (!require_session(from, session)) return;
  auto& out = session->outstanding;
  if (!out || out->stage != Outstanding::Stage::kRegack || out->msg_id != m.msg_id) {
    metrics_.unexpected.inc();
    return;
  }
  Outstanding done = std::move(*out);
  out.reset();
  if (m.return_code != ReturnCode::kAccepted) {
    metrics_.downstream_dropped_rejected.inc();
    spdlog::debug("mqttsn: client '{}' refused REGISTER of '{}' (rc {})", session->client_id,
                  done.item.topic, static_cast<int>(m.return_code));
    pump(*session);
    return;
  }
  const std::uint16_t topic_id = std::get<Register>(done.message).topic_id;
  send_publish(*session, std::move(done.item), TopicIdType::kNormal, topic_id);
  pump(*session);
}

// ---- publish from devices ---------------------------------------------------------------------

SeriesId GatewayLoop::series_of(const std::string& name) {
  if (validate_series_path(name).is_ok()) {
    auto series = catalog_.resolve(name);
    if (series) return *series;
    spdlog::warn("mqttsn: catalog error for '{}': {}", name, series.error().message());
  }
  return 0;
}

void GatewayLoop::publish_qos_minus_one(const Endpoint& from, Publish& m) {
  // Spec 6.8: connectionless, predefined ids and short names only, never answered.
  metrics_.publishes_qosm1.inc();
  std::string short_storage;
  const std::string* name = nullptr;
  SeriesId series = 0;
  if (m.flags.topic_id_type == TopicIdType::kPredefined) {
    auto it = options_.predefined_topics.find(m.topic_id);
    if (it == options_.predefined_topics.end()) {
      metrics_.invalid_topic_id.inc();
      return;
    }
    name = &it->second;
    auto cached = predefined_series_.find(m.topic_id);
    series = cached != predefined_series_.end() ? cached->second
                                                 : (predefined_series_[m.topic_id] = series_of(*name));
  } else if (m.flags.topic_id_type == TopicIdType::kShortName) {
    short_storage = short_name(m.topic_id);
    name = &short_storage;
  } else {
    metrics_.rejected_unsupported.inc();  // a normal id means nothing without a session
    return;
  }
  route(from, nullptr, m, *name, series);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, Publish& m) {
  if (m.flags.qos < 0) return publish_qos_minus_one(from, m);
  if (!require_session(from, session)) return;
  switch (m.flags.qos) {
    case 0: metrics_.publishes_qos0.inc(); break;
    case 1: metrics_.publishes_qos1.inc(); break;
    default: metrics_.publishes_qos2.inc(); break;
  }
  // The name is referenced, not copied (a copy per PUBLISH was an allocation per message);
  // route() copies it when a delivery could add to a topic table.
  std::string short_storage;
  const std::string* name = nullptr;
  SeriesId series = 0;
  switch (m.flags.topic_id_type) {
    case TopicIdType::kNormal: {
      TopicEntry* topic = session->topics.find_mutable(m.topic_id);
      if (topic) {
        if (topic->series == 0) topic->series = series_of(topic->name);  // subscribed first
        name = &topic->name;
        series = topic->series;
      }
      break;
    }
    case TopicIdType::kPredefined: {
      auto it = options_.predefined_topics.find(m.topic_id);
      if (it != options_.predefined_topics.end()) {
        name = &it->second;
        auto cached = predefined_series_.find(m.topic_id);
        series = cached != predefined_series_.end() ? cached->second
                                                     : (predefined_series_[m.topic_id] = series_of(*name));
      }
      break;
    }
    case TopicIdType::kShortName:
      short_storage = short_name(m.topic_id);
      name = &short_storage;
      break;
  }
  if (!name || name->empty()) {
    // Answered for QoS 0 too (spec 6.6): the client learns to re-register.
    metrics_.invalid_topic_id.inc();
    return send_puback(from, m.topic_id, m.msg_id, ReturnCode::kInvalidTopicId);
  }
  if (m.flags.qos >= 1) {
    if (session->pending.contains(m.msg_id)) {
      metrics_.duplicates.inc();  // its PUBACK/PUBREC follows when the first copy is durable
      return;
    }
    if (m.flags.qos == 1) {
      if (auto acked_topic = session->recently_acked(m.msg_id)) {
        metrics_.duplicates.inc();  // our PUBACK was lost: repeat it, do not store again
        return send_puback(from, *acked_topic, m.msg_id, ReturnCode::kAccepted);
      }
    } else if (session->qos2_received.contains(m.msg_id)) {
      metrics_.duplicates.inc();  // our PUBREC was lost: repeat it, do not store again
      return send(from, Pubrec{.msg_id = m.msg_id});
    }
    if (session->pending.size() >= options_.max_inflight_per_client) {
      metrics_.congestion.inc();
      return send_puback(from, m.topic_id, m.msg_id, ReturnCode::kCongestion);
    }
  }
  route(from, session, m, *name, series);
}

void GatewayLoop::route(const Endpoint& from, Session* session, Publish& m,
                        const std::string& topic_name, SeriesId series) {
  // `topic_name` may live in a topic table, and a delivery may REGISTER a topic with a subscriber
  // (growing its table): with subscriptions about, work on a copy.
  std::string copy;
  const std::string* name = &topic_name;
  if (subscription_count_ > 0) {
    copy = topic_name;
    name = &copy;
    deliver(*name, m.data, static_cast<std::int8_t>(std::max<int>(m.flags.qos, 0)), m.flags.retain);
  }
  if (series != 0 || validate_equipment_prefix(*name).is_ok())
    return submit(from, session, m, *name, series);
  // Neither a series nor an equipment: routed to device subscriptions only (commands, short names), and that is done.
  metrics_.routed_only.inc();
  acknowledge(from, session, m);
}

void GatewayLoop::acknowledge(const Endpoint& to, Session* session, const Publish& m) {
  if (!session) return;
  if (m.flags.qos == 1) {
    session->remember_acked(m.msg_id, m.topic_id);
    send_puback(to, m.topic_id, m.msg_id, ReturnCode::kAccepted);
  } else if (m.flags.qos == 2) {
    session->qos2_received.insert(m.msg_id);
    send(to, Pubrec{.msg_id = m.msg_id});
  }
}

Result<std::vector<Sample>> GatewayLoop::samples_of(std::span<const std::uint8_t> payload,
                                                    const std::string& name, SeriesId series) {
  // Decoder errors are re-labelled kInvalidArgument: the caller tells refusals (quarantine) from
  // catalog failures (transient) by that code alone.
  auto refuse = [](std::string message) { return error(StatusCode::kInvalidArgument, std::move(message)); };
  std::vector<Sample> out;
  if (series != 0) {
    // A series topic: single-series forms only (decode_payload refuses multi-signal ones and says why).
    auto decoded = decode_payload(payload);
    if (!decoded) return refuse(decoded.error().message());
    out.reserve(decoded->size());
    for (const auto& s : *decoded)
      out.push_back({.series = series, .ts_ns = s.ts_ns, .value = s.value, .quality = s.quality});
    return out;
  }
  auto decoded = decode_any_payload(payload);
  if (!decoded) return refuse(decoded.error().message());
  if (!decoded->is_multi_signal())
    return refuse(fmt::format(
        "payload: a {} payload carries the samples of one series, but topic '{}' is an equipment "
        "prefix (site/area/line/equipment) that names none; publish it on a series path or use a "
        "multi-signal form (tag 0x03, JSON \"signals\")",
        to_string(decoded->format), name));
  // Every suffix is checked before any series is created, so a refused payload leaves nothing in
  // the catalog. One bad suffix refuses the whole payload (a payload is accepted or refused as a
  // whole, docs/formats/mqttsn-payload.md).
  std::vector<std::string> paths;
  paths.reserve(decoded->signals.size());
  std::size_t total = 0;
  for (const auto& signal : decoded->signals) {
    auto path = signal_series_path(name, signal.suffix);
    if (!path) return refuse(path.error().message());
    paths.push_back(std::move(*path));
    total += signal.samples.size();
  }
  std::size_t fresh = 0;  // series this payload would create
  const std::size_t cap = options_.max_signals_per_equipment;
  if (cap > 0) {
    for (auto it = paths.begin(); it != paths.end(); ++it)  // a suffix repeated in one payload counts once
      if (!catalog_.find(*it) && std::find(paths.begin(), it, *it) == it) ++fresh;
    if (fresh > 0) {
      const std::size_t have = signals_of(name);
      if (have + fresh > cap)
        return refuse(fmt::format(
            "payload: {} new signal(s) on topic '{}' would exceed max_signals_per_equipment ({}; "
            "it has {}); nothing stored",
            fresh, name, cap, have));
    }
  }
  out.reserve(total);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    // Known paths are served from memory; a new one commits to SQLite on this thread.
    auto id = catalog_.resolve(paths[i]);
    if (!id) return std::unexpected(id.error());
    for (const auto& s : decoded->signals[i].samples)
      out.push_back({.series = *id, .ts_ns = s.ts_ns, .value = s.value, .quality = s.quality});
  }
  if (fresh > 0) signals_of(name) += fresh;
  return out;
}

std::size_t& GatewayLoop::signals_of(const std::string& equipment) {
  auto it = signals_per_equipment_.find(equipment);
  if (it != signals_per_equipment_.end()) return it->second;
  // Once per equipment prefix per run: every series path under it (REGISTERed ones too).
  const std::string prefix = equipment + "/";
  std::size_t n = 0;
  for (const auto& info : catalog_.list())
    if (info.path.compare(0, prefix.size(), prefix) == 0) ++n;
  return signals_per_equipment_.emplace(equipment, n).first->second;
}

void GatewayLoop::quarantine(const Endpoint& from, const Session* session, const std::string& topic,
                             std::span<const std::uint8_t> payload, std::string reason_code,
                             std::string reason) {
  if (!options_.quarantine) return;
  QuarantineEntry entry;
  entry.reason = std::move(reason);
  entry.reason_code = std::move(reason_code);
  entry.stage = "mqttsn_gateway";
  entry.connector = "mqttsn";
  entry.client_id = session ? session->client_id : std::string();  // empty for QoS -1
  entry.source = to_string(from);
  entry.topic = topic;
  entry.set_raw(payload);
  options_.quarantine->add(std::move(entry));  // never blocks on I/O
}

void GatewayLoop::submit(const Endpoint& from, Session* session, Publish& m,
                         const std::string& name, SeriesId series) {
  const bool acked = session && m.flags.qos >= 1;
  const std::string_view client_id = session ? std::string_view(session->client_id) : std::string_view();
  auto samples = samples_of(m.data, name, series);
  if (!samples) {
    if (samples.error().code() != StatusCode::kInvalidArgument) {
      // The catalog failed (I/O), not the payload: nothing refused; the client resends later.
      metrics_.congestion.inc();
      spdlog::warn("mqttsn: PUBLISH from '{}' on '{}': catalog error: {}", client_id, name,
                   samples.error().message());
      if (acked) send_puback(from, m.topic_id, m.msg_id, ReturnCode::kCongestion);
      return;
    }
    metrics_.rejected_payload.inc();
    spdlog::debug("mqttsn: PUBLISH from '{}' on '{}' rejected: {} [{}]", client_id, name,
                  samples.error().message(), hex_dump(m.data));
    quarantine(from, session, name, m.data, "payload", samples.error().message());
    if (acked) send_puback(from, m.topic_id, m.msg_id, ReturnCode::kNotSupported);
    return;
  }
  if (staged_.empty()) staged_receive_ts_ = unix_now_ns();
  SampleBatch part;
  part.samples = std::move(*samples);
  part.provenance.connector = "mqttsn";
  // Per PUBLISH, so per device: the provenance store and the audit log keep who sent what.
  part.provenance.client_id = session ? session->client_id : to_string(from);
  part.provenance.receive_ts_ns = staged_receive_ts_;
  // Recorded now, not at the flush, so a retransmission later in the same wake-up is a duplicate
  // and max_inflight_per_client counts what is staged.
  if (acked) session->pending.insert(m.msg_id);
  staged_samples_ += part.samples.size();
  const std::size_t n = part.samples.size();
  staged_parts_.push_back(std::move(part));
  staged_.push_back(Staged{.from = from, .session = session, .message = std::move(m), .samples = n});
  if (staged_samples_ >= kMaxStagedSamples) flush_staged();
}

std::string GatewayLoop::topic_name_of(const Session* session, const Publish& m) const {
  switch (m.flags.topic_id_type) {
    case TopicIdType::kNormal:
      if (session)
        if (const TopicEntry* e = session->topics.find(m.topic_id)) return e->name;
      break;
    case TopicIdType::kPredefined:
      if (auto it = options_.predefined_topics.find(m.topic_id); it != options_.predefined_topics.end())
        return it->second;
      break;
    case TopicIdType::kShortName: return short_name(m.topic_id);
  }
  return {};
}

void GatewayLoop::flush_staged() {
  if (staged_.empty()) return;
  // The acknowledgements this group may owe, known before submitting: the callback reads this
  // list only on the loop thread (it posts), after this function has trimmed it to the parts the
  // pipeline accepted.
  auto acks = std::make_shared<std::vector<AckTarget>>();
  bool owes_acks = false;
  for (const Staged& st : staged_) owes_acks = owes_acks || (st.session && st.message.flags.qos >= 1);
  // Runs on the pipeline's flusher thread, possibly after the gateway stopped: it only posts, and
  // posts nothing for a group of QoS 0/-1 messages (no one to answer).
  DurableCallback on_durable = [relay = relay_, acks, owes_acks](const Status& status) {
    std::lock_guard lock(relay->mu);
    GatewayLoop* loop = relay->loop;
    if (!loop) return;
    if (!status.is_ok()) {
      loop->metrics_.durable_errors.inc();
      spdlog::warn("mqttsn: a group of PUBLISHes is not durable: {}", status.to_string());
    }
    if (!owes_acks) return;
    asio::post(loop->io_, [loop, acks, status] { loop->on_group_durable(*acks, status); });
  };
  const std::vector<Admission> admissions = pipeline_.submit_group(staged_parts_, std::move(on_durable));
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    Staged& st = staged_[i];
    const Publish& m = st.message;
    Session* session = st.session;
    const bool acked = session && m.flags.qos >= 1;
    const Admission admission = i < admissions.size() ? admissions[i] : Admission::kRejected;
    switch (admission) {
      case Admission::kAccepted:
        metrics_.samples.inc(st.samples);
        if (acked)
          acks->push_back(AckTarget{.client_id = session->client_id, .generation = session->generation,
                                    .msg_id = m.msg_id, .topic_id = m.topic_id, .qos = m.flags.qos});
        break;
      case Admission::kRetryLater:
        metrics_.congestion.inc();
        if (acked) {
          session->pending.erase(m.msg_id);
          send_puback(st.from, m.topic_id, m.msg_id, ReturnCode::kCongestion);
        }
        break;
      case Admission::kRejected: {
        metrics_.rejected_pipeline.inc();
        const std::string name = topic_name_of(session, m);
        spdlog::debug("mqttsn: PUBLISH from '{}' on '{}' rejected by the pipeline",
                      session ? session->client_id : to_string(st.from), name);
        quarantine(st.from, session, name, m.data, "rejected",
                   fmt::format("the pipeline rejected the whole batch of {} sample(s) decoded from this "
                               "PUBLISH (samples a stage refused are also quarantined by that stage)",
                               st.samples));
        if (acked) {
          session->pending.erase(m.msg_id);
          send_puback(st.from, m.topic_id, m.msg_id, ReturnCode::kNotSupported);
        }
        break;
      }
    }
  }
  staged_.clear();
  staged_parts_.clear();
  staged_samples_ = 0;
}

void GatewayLoop::on_group_durable(const std::vector<AckTarget>& acks, const Status& status) {
  // A group's acknowledgements leave in sendmmsg batches: one system call per up to kTxBatch
  // PUBACKs instead of one each.
  tx_batching_ = true;
  for (const AckTarget& ack : acks) on_durable(ack, status);
  tx_batching_ = false;
  flush_tx();
}

void GatewayLoop::flush_tx() {
  // One sendmmsg entry per destination run: consecutive datagrams of equal size to one client
  // (the PUBACKs of a burst it sent) leave as one UDP_SEGMENT send. They are still separate
  // datagrams on the wire; the kernel builds and routes one buffer instead of one per PUBACK.
  constexpr std::size_t kTxBatch = 64;     // entries per sendmmsg
  constexpr std::size_t kMaxSegments = 64;  // UDP_MAX_SEGMENTS on older kernels
  std::array<mmsghdr, kTxBatch> msgs{};
  std::array<std::size_t, kTxBatch> count{};  // datagrams per entry
  std::array<SegmentControl, kTxBatch> control{};
  std::array<iovec, kTxBatch> iov{};
  std::size_t pos = 0;
  while (pos < tx_.size()) {
    std::size_t n = 0, next = pos;
    while (n < kTxBatch && next < tx_.size()) {
      Outgoing& first = tx_[next];
      std::size_t run = 1;
      if (gso_ok_) {
        std::size_t bytes = first.size;
        // Queued one after the other, a run's datagrams are also adjacent in tx_bytes_: one iovec.
        while (next + run < tx_.size() && run < kMaxSegments && tx_[next + run].to == first.to &&
               tx_[next + run].size == first.size && tx_[next + run].offset == first.offset + bytes &&
               bytes + first.size <= 65000) {
          bytes += first.size;
          ++run;
        }
      }
      iov[n] = {tx_bytes_.data() + first.offset, first.size * run};
      msgs[n] = {};
      msgs[n].msg_hdr.msg_name = first.to.data();
      msgs[n].msg_hdr.msg_namelen = static_cast<socklen_t>(first.to.size());
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      if (run > 1) set_udp_segment(msgs[n].msg_hdr, control[n], static_cast<std::uint16_t>(first.size));
      count[n++] = run;
      next += run;
    }
    std::size_t done = 0;
    while (done < n) {
      const int sent = ::sendmmsg(socket_.native_handle(), msgs.data() + done, static_cast<unsigned>(n - done), 0);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (count[done] > 1 && (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT)) {
          // No UDP GSO here (an old kernel, a device without it): one datagram per entry from now on.
          spdlog::info("mqttsn: UDP segmentation offload unavailable ({}); sending datagrams one by one",
                       std::strerror(errno));
          gso_ok_ = false;
          break;  // rebuild the rest without coalescing
        }
        // As send(): a full socket buffer (non-blocking) or an unreachable peer drops that
        // entry's datagrams, counted; the client retransmits its PUBLISH and gets the PUBACK again.
        metrics_.send_errors.inc(count[done]);
        spdlog::debug("mqttsn: send {} to {} failed: {}", msg_type_name(tx_[pos].type), to_string(tx_[pos].to),
                      std::strerror(errno));
        pos += count[done++];
        continue;
      }
      for (int k = 0; k < sent; ++k, ++done)
        for (std::size_t j = 0; j < count[done]; ++j) metrics_.packet_out(tx_[pos++].type);
    }
  }
  tx_.clear();
  tx_bytes_.clear();
}

void GatewayLoop::on_durable(const AckTarget& ack, const Status& status) {
  Session* session = sessions_.find_client(ack.client_id);
  if (!session || session->generation != ack.generation) return;  // the session ended meanwhile
  session->pending.erase(ack.msg_id);
  if (!session->endpoint) return;
  if (!status.is_ok()) {
    // Nothing is guaranteed stored: "congestion" makes the client send it again later.
    metrics_.congestion.inc();
    return send_puback(*session->endpoint, ack.topic_id, ack.msg_id, ReturnCode::kCongestion);
  }
  if (ack.qos == 2) {
    session->qos2_received.insert(ack.msg_id);
    send(*session->endpoint, Pubrec{.msg_id = ack.msg_id});
  } else {
    session->remember_acked(ack.msg_id, ack.topic_id);
    send_puback(*session->endpoint, ack.topic_id, ack.msg_id, ReturnCode::kAccepted);
  }
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Pubrel& m) {
  if (!require_session(from, session)) return;
  // Spec 6.6 QoS 2: the message was stored once when first received; PUBREL releases the id.
  session->qos2_received.erase(m.msg_id);
  send(from, Pubcomp{.msg_id = m.msg_id});
}

// ---- downstream -------------------------------------------------------------------------------

void GatewayLoop::deliver(const std::string& topic, std::span<const std::uint8_t> payload,
                          std::int8_t qos, bool retain) {
  if (topic.empty() || has_wildcard(topic)) {
    metrics_.downstream_dropped_rejected.inc();
    return;
  }
  std::vector<Session*> targets;
  sessions_.for_each([&](Session& s) {
    if (s.subscriptions.empty()) return;
    if (s.state == ClientState::kDisconnected && s.clean_session) return;
    const Subscription* best = nullptr;
    for (const auto& sub : s.subscriptions) {
      const bool match = sub.type == TopicIdType::kNormal ? topic_matches(sub.filter, topic)
                                                          : sub.filter == topic;
      // A predefined/short subscription names the topic the client knows; prefer it.
      if (match && (!best || (best->type == TopicIdType::kNormal && sub.type != TopicIdType::kNormal) ||
                    (best->type == sub.type && sub.qos > best->qos)))
        best = &sub;
    }
    if (!best) return;
    Downstream item{.topic = topic,
                    .payload = std::vector<std::uint8_t>(payload.begin(), payload.end()),
                    .qos = std::min(qos, best->qos),
                    .retain = retain,
                    .via_type = best->type,
                    .via_id = best->topic_id};
    enqueue(s, std::move(item));
    targets.push_back(&s);
  });
  for (Session* s : targets) pump(*s);
}

void GatewayLoop::enqueue(Session& session, Downstream item) {
  if (session.queue.size() >= options_.max_queued_per_client) {
    session.queue.pop_front();  // drop-oldest: the newest command or output matters most
    metrics_.downstream_dropped_queue.inc();
  }
  session.queue.push_back(std::move(item));
}

void GatewayLoop::pump(Session& session) {
  while (!session.outstanding && !session.queue.empty() && can_exchange(session) && session.endpoint) {
    Downstream item = std::move(session.queue.front());
    session.queue.pop_front();
    if (item.via_type != TopicIdType::kNormal) {
      send_publish(session, std::move(item), item.via_type, item.via_id);
      continue;
    }
    if (auto id = session.topics.find(item.topic)) {
      send_publish(session, std::move(item), TopicIdType::kNormal, *id);
      continue;
    }
    // Spec 6.9/6.5: before the first PUBLISH on a wildcard match the gateway REGISTERs the name.
    auto id = session.topics.add(item.topic, 0);
    if (!id) {
      metrics_.downstream_dropped_rejected.inc();
      continue;
    }
    mark_dirty();
    const std::uint16_t msg_id = session.take_msg_id();
    Outstanding out;
    out.stage = Outstanding::Stage::kRegack;
    out.message = Register{.topic_id = *id, .msg_id = msg_id, .topic_name = item.topic};
    out.msg_id = msg_id;
    out.deadline = mono_now() + std::chrono::milliseconds(options_.retry_timeout_ms);
    out.item = std::move(item);
    send_to(session, out.message);
    session.outstanding = std::move(out);
  }
  if (session.state == ClientState::kAwake && !session.outstanding && session.queue.empty()) {
    // Spec 6.14: buffered messages delivered; PINGRESP sends the client back to sleep.
    session.state = ClientState::kAsleep;
    session.last_heard = mono_now();
    send_to(session, Pingresp{});
  }
}

void GatewayLoop::send_publish(Session& session, Downstream item, TopicIdType type,
                               std::uint16_t topic_id) {
  Publish p;
  p.flags.qos = item.qos;
  p.flags.retain = item.retain;
  p.flags.topic_id_type = type;
  p.topic_id = topic_id;
  p.data = item.payload;
  metrics_.downstream_sent.inc();
  if (item.qos == 0) {
    send_to(session, p);
    return;
  }
  p.msg_id = session.take_msg_id();
  Outstanding out;
  out.stage = item.qos == 1 ? Outstanding::Stage::kPuback : Outstanding::Stage::kPubrec;
  out.msg_id = p.msg_id;
  out.deadline = mono_now() + std::chrono::milliseconds(options_.retry_timeout_ms);
  out.message = p;
  out.item = std::move(item);
  send_to(session, out.message);
  session.outstanding = std::move(out);
}

void GatewayLoop::resend_outstanding(Session& session, bool dup) {
  Outstanding& out = *session.outstanding;
  if (auto* p = std::get_if<Publish>(&out.message)) p->flags.dup = dup;
  out.deadline = mono_now() + std::chrono::milliseconds(options_.retry_timeout_ms);
  send_to(session, out.message);
}

void GatewayLoop::finish_outstanding(Session& session) {
  session.outstanding.reset();
  pump(session);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Puback& m) {
  if (!require_session(from, session)) return;
  auto& out = session->outstanding;
  // A PUBACK also rejects a QoS 2 PUBLISH (spec 6.6).
  if (!out || out->msg_id != m.msg_id ||
      (out->stage != Outstanding::Stage::kPuback && out->stage != Outstanding::Stage::kPubrec)) {
    metrics_.unexpected.inc();
    return;
  }
  if (m.return_code == ReturnCode::kAccepted)
    metrics_.downstream_acked.inc();
  else
    metrics_.downstream_dropped_rejected.inc();
  finish_outstanding(*session);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Pubrec& m) {
  if (!require_session(from, session)) return;
  auto& out = session->outstanding;
  if (!out || out->msg_id != m.msg_id ||
      (out->stage != Outstanding::Stage::kPubrec && out->stage != Outstanding::Stage::kPubcomp)) {
    metrics_.unexpected.inc();
    return;
  }
  out->stage = Outstanding::Stage::kPubcomp;
  out->message = Pubrel{.msg_id = m.msg_id};
  out->retries = 0;
  resend_outstanding(*session, false);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Pubcomp& m) {
  if (!require_session(from, session)) return;
  auto& out = session->outstanding;
  if (!out || out->stage != Outstanding::Stage::kPubcomp || out->msg_id != m.msg_id) {
    metrics_.unexpected.inc();
    return;
  }
  metrics_.downstream_acked.inc();
  finish_outstanding(*session);
}

// ---- subscribe --------------------------------------------------------------------------------

void GatewayLoop::handle(const Endpoint& from, Session* session, const Subscribe& m) {
  if (!require_session(from, session)) return;
  const auto granted = static_cast<std::int8_t>(std::clamp<int>(m.flags.qos, 0, 2));
  auto reply = [&](std::uint16_t topic_id, ReturnCode rc) {
    if (rc != ReturnCode::kAccepted) metrics_.subscribe_rejected.inc();
    Flags flags;
    flags.qos = granted;
    send(from, Suback{.flags = flags, .topic_id = topic_id, .msg_id = m.msg_id, .return_code = rc});
  };
  Subscription sub{.type = m.flags.topic_id_type, .filter = {}, .topic_id = 0, .qos = granted};
  std::uint16_t reply_id = 0;
  switch (m.flags.topic_id_type) {
    case TopicIdType::kNormal:
      if (!valid_filter(m.topic_name)) return reply(0, ReturnCode::kNotSupported);
      sub.filter = m.topic_name;
      if (!has_wildcard(m.topic_name)) {
        // A plain name gets its topic id now (spec 6.9); a wildcard gets 0x0000 and REGISTERs later.
        auto id = session->topics.add(m.topic_name, 0);
        if (!id) return reply(0, ReturnCode::kNotSupported);
        reply_id = *id;
      }
      break;
    case TopicIdType::kPredefined: {
      auto it = options_.predefined_topics.find(m.topic_id);
      if (it == options_.predefined_topics.end()) return reply(m.topic_id, ReturnCode::kInvalidTopicId);
      sub.filter = it->second;
      sub.topic_id = m.topic_id;
      reply_id = m.topic_id;
      break;
    }
    case TopicIdType::kShortName:
      sub.filter = short_name(m.topic_id);
      sub.topic_id = m.topic_id;
      break;
  }
  auto same = std::find_if(session->subscriptions.begin(), session->subscriptions.end(),
                           [&](const Subscription& s) { return s.type == sub.type && s.filter == sub.filter; });
  if (same != session->subscriptions.end()) {
    same->qos = granted;
  } else {
    if (session->subscriptions.size() >= options_.max_subscriptions_per_client)
      return reply(reply_id, ReturnCode::kCongestion);
    session->subscriptions.push_back(std::move(sub));
    add_subscription_count(1);
  }
  mark_dirty();
  reply(reply_id, ReturnCode::kAccepted);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Unsubscribe& m) {
  if (!require_session(from, session)) return;
  std::string filter;
  switch (m.flags.topic_id_type) {
    case TopicIdType::kNormal: filter = m.topic_name; break;
    case TopicIdType::kPredefined: {
      auto it = options_.predefined_topics.find(m.topic_id);
      if (it != options_.predefined_topics.end()) filter = it->second;
      break;
    }
    case TopicIdType::kShortName: filter = short_name(m.topic_id); break;
  }
  const auto before = session->subscriptions.size();
  std::erase_if(session->subscriptions, [&](const Subscription& s) {
    return s.type == m.flags.topic_id_type && s.filter == filter;
  });
  add_subscription_count(static_cast<std::ptrdiff_t>(session->subscriptions.size()) -
                         static_cast<std::ptrdiff_t>(before));
  mark_dirty();
  send(from, Unsuback{.msg_id = m.msg_id});  // spec 6.10: answered whether or not it existed
}

// ---- ping, sleep, disconnect ------------------------------------------------------------------

void GatewayLoop::handle(const Endpoint& from, Session* session, const Pingreq& m) {
  if (m.client_id) {
    // Spec 6.14: a sleeping client wakes (possibly from a new source port).
    Session* s = sessions_.find_client(*m.client_id);
    if (!s || s->state == ClientState::kDisconnected || s->state == ClientState::kConnecting) {
      metrics_.unconnected.inc();
      send(from, Disconnect{});
      return;
    }
    sessions_.bind(*s, from);
    s->last_heard = mono_now();
    if (s->state == ClientState::kActive) {
      send(from, Pingresp{});
      return;
    }
    s->state = ClientState::kAwake;
    if (s->outstanding) {
      s->outstanding->retries = 0;
      resend_outstanding(*s, true);
      return;  // pump() finishes with PINGRESP once the exchange completes
    }
    pump(*s);
    return;
  }
  if (!require_session(from, session)) return;
  send(from, Pingresp{});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Disconnect& m) {
  if (session && m.duration_s && *m.duration_s > 0 && session->state != ClientState::kConnecting &&
      session->state != ClientState::kDisconnected) {
    // Spec 6.14: asleep; downstream messages are buffered until the client wakes.
    session->state = ClientState::kAsleep;
    session->sleep_s = *m.duration_s;
    session->last_heard = mono_now();
    mark_dirty();
    send(from, Disconnect{});
    return;
  }
  if (session) end_session(*session);
  send(from, Disconnect{});
}

void GatewayLoop::end_session(Session& session) {
  mark_dirty();
  if (session.clean_session) {
    add_subscription_count(-static_cast<std::ptrdiff_t>(session.subscriptions.size()));
    sessions_.erase(session.client_id);  // invalidates `session`
  } else {
    session.state = ClientState::kDisconnected;
    session.outstanding.reset();
    sessions_.unbind(session);
  }
  update_sessions_gauge();
}

void GatewayLoop::lose(Session& session, std::string_view why) {
  spdlog::info("mqttsn: client '{}' lost ({}){}", session.client_id, why,
               session.will ? ", publishing its Will" : "");
  if (session.will && !session.will->topic.empty()) {
    metrics_.wills_published.inc();
    const Will will = *session.will;
    const std::string client_id = session.client_id;
    end_session(session);  // before delivery: the lost client is no recipient of its own Will
    if (options_.on_will) options_.on_will(client_id, will.topic, will.message, will.qos, will.retain);
    deliver(will.topic, will.message, will.qos, will.retain);
    return;
  }
  end_session(session);
}

void GatewayLoop::handle(const Endpoint& from, Session*, const SearchGw&) {
  // Spec 6.1: a gateway answers SEARCHGW with GWINFO (unicast here: UDP has no radius).
  send(from, GwInfo{.gw_id = options_.gateway_id, .gw_address = {}});
}

template <typename T>
void GatewayLoop::handle(const Endpoint&, Session*, const T&) {
  // Gateway-to-client messages (ADVERTISE, GWINFO, CONNACK, ...): ignored.
  metrics_.unexpected.inc();
}

}  // namespace resonance::mqttsn
