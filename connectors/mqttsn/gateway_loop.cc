#include "connectors/mqttsn/gateway_loop.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "connectors/mqttsn/codec.h"
#include "connectors/mqttsn/payload.h"

namespace resonance::mqttsn {

namespace asio = boost::asio;
using asio::ip::udp;

GatewayLoop::GatewayLoop(const GatewayOptions& options, BatchConsumer& pipeline,
                         SeriesCatalog& catalog, MetricsRegistry& metrics)
    : options_(options),
      pipeline_(pipeline),
      catalog_(catalog),
      metrics_(metrics),
      socket_(io_),
      supervision_timer_(io_),
      relay_(std::make_shared<DurableRelay>()) {
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
  const udp::endpoint endpoint(address, options_.port);
  if (socket_.open(endpoint.protocol(), ec); ec)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: open UDP socket: {}", ec.message()));
  if (socket_.bind(endpoint, ec); ec)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: bind UDP {}:{}: {}",
                                                    options_.bind_address, options_.port, ec.message()));
  // Sends happen inline on the event loop; a full socket buffer must drop (and count), not block.
  if (socket_.non_blocking(true, ec); ec)
    return Status(StatusCode::kIoError, fmt::format("mqttsn: non-blocking socket: {}", ec.message()));
  const auto local = socket_.local_endpoint(ec);
  if (ec) return Status(StatusCode::kIoError, fmt::format("mqttsn: local endpoint: {}", ec.message()));
  bound_port_.store(local.port());
  receive();
  supervise();
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

void GatewayLoop::receive() {
  socket_.async_receive_from(
      asio::buffer(buffer_), sender_, [this](const boost::system::error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
          // ICMP-induced errors and the like: count and keep serving the other clients.
          metrics_.receive_errors.inc();
          spdlog::debug("mqttsn: receive error: {}", ec.message());
        } else {
          on_datagram(sender_, std::span<const std::uint8_t>(buffer_.data(), n));
        }
        receive();
      });
}

void GatewayLoop::supervise() {
  supervision_timer_.expires_after(std::chrono::milliseconds(options_.supervision_interval_ms));
  supervision_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    for (const auto& [endpoint, client_id] : sessions_.expire(mono_now())) {
      metrics_.keepalive_expired.inc();
      spdlog::info("mqttsn: client '{}' at {} silent beyond 1.5x keep-alive, session dropped",
                   client_id, to_string(endpoint));
    }
    update_sessions_gauge();
    supervise();
  });
}

void GatewayLoop::update_sessions_gauge() {
  metrics_.sessions.set(static_cast<double>(sessions_.size()));
}

void GatewayLoop::on_datagram(const Endpoint& from, std::span<const std::uint8_t> bytes) {
  auto message = decode(bytes);
  if (!message) {
    metrics_.malformed.inc();
    spdlog::debug("mqttsn: malformed datagram from {} dropped: {} [{}]", to_string(from),
                  message.error().message(), hex_dump(bytes));
    return;
  }
  metrics_.packet_in(type_of(*message));
  Session* session = sessions_.find(from);
  if (session) session->last_heard = mono_now();
  std::visit([&](const auto& m) { handle(from, session, m); }, *message);
}

void GatewayLoop::send(const Endpoint& to, const Message& message) {
  auto bytes = encode(message);
  if (!bytes) {  // only oversized messages fail, and the gateway sends none
    spdlog::error("mqttsn: cannot encode reply: {}", bytes.error().message());
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

void GatewayLoop::send_puback(const Endpoint& to, std::uint16_t topic_id, std::uint16_t msg_id,
                              ReturnCode rc) {
  metrics_.puback(rc);
  send(to, Puback{.topic_id = topic_id, .msg_id = msg_id, .return_code = rc});
}

// ---- handlers -------------------------------------------------------------------------------

void GatewayLoop::handle(const Endpoint& from, Session* session, const Connect& m) {
  if (m.flags.will) {
    // Will support arrives with issue 3; refusing beats silently dropping the device's Will.
    metrics_.connect_rejected.inc();
    send(from, Connack{.return_code = ReturnCode::kNotSupported});
    return;
  }
  if (!session && sessions_.size() >= options_.max_clients) {
    metrics_.connect_rejected.inc();
    spdlog::warn("mqttsn: CONNECT from '{}' at {} refused: {} clients connected (max_clients)",
                 m.client_id, to_string(from), sessions_.size());
    send(from, Connack{.return_code = ReturnCode::kCongestion});
    return;
  }
  if (sessions_.erase_client_elsewhere(m.client_id, from) > 0)
    spdlog::info("mqttsn: client '{}' reconnected from {}, old session dropped", m.client_id,
                 to_string(from));
  if (session && !m.flags.clean_session && session->client_id == m.client_id) {
    // CleanSession=0 from the same device: keep its topic ids and in-flight state.
    session->keep_alive_s = m.duration_s;
  } else {
    sessions_.create(from, m.client_id, m.duration_s, options_.max_topics_per_client);
  }
  update_sessions_gauge();
  spdlog::debug("mqttsn: client '{}' connected from {} (keep-alive {} s)", m.client_id,
                to_string(from), m.duration_s);
  send(from, Connack{.return_code = ReturnCode::kAccepted});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Register& m) {
  if (!session) {
    metrics_.unconnected.inc();
    send(from, Disconnect{});
    return;
  }
  auto reply = [&](std::uint16_t topic_id, ReturnCode rc) {
    if (rc != ReturnCode::kAccepted) metrics_.register_rejected.inc();
    send(from, Regack{.topic_id = topic_id, .msg_id = m.msg_id, .return_code = rc});
  };
  if (auto known = session->topics.find(m.topic_name)) return reply(*known, ReturnCode::kAccepted);
  // Note: a new path commits to SQLite on this thread; REGISTER is rare enough for that.
  auto series = catalog_.resolve(m.topic_name);
  if (!series) {
    if (series.error().code() == StatusCode::kInvalidArgument) {
      // Not a series path: rc 0x03 "not supported". Not 0x02 "invalid topic id", which tells a
      // client to re-register and would loop with the same name.
      spdlog::debug("mqttsn: REGISTER '{}' from '{}' refused: {}", m.topic_name, session->client_id,
                    series.error().message());
      return reply(0, ReturnCode::kNotSupported);
    }
    spdlog::warn("mqttsn: REGISTER '{}' from '{}': catalog error: {}", m.topic_name,
                 session->client_id, series.error().message());
    return reply(0, ReturnCode::kCongestion);  // transient: the client may retry later
  }
  auto topic_id = session->topics.add(m.topic_name, *series);
  if (!topic_id) {
    spdlog::warn("mqttsn: REGISTER '{}' from '{}' refused: {} topics (max_topics_per_client)",
                 m.topic_name, session->client_id, session->topics.size());
    return reply(0, ReturnCode::kNotSupported);
  }
  reply(*topic_id, ReturnCode::kAccepted);
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Publish& m) {
  if (m.flags.qos < 0) {
    // QoS -1 is connectionless (predefined ids/short names only), not supported yet; there is no
    // session to answer, so it is counted and dropped.
    metrics_.rejected_unsupported.inc();
    return;
  }
  if (!session) {
    metrics_.unconnected.inc();
    send(from, Disconnect{});
    return;
  }
  const bool qos1 = m.flags.qos == 1;
  (qos1 ? metrics_.publishes_qos1 : metrics_.publishes_qos0).inc();
  if (m.flags.qos == 2 || m.flags.topic_id_type != TopicIdType::kNormal) {
    metrics_.rejected_unsupported.inc();
    return send_puback(from, m.topic_id, m.msg_id, ReturnCode::kNotSupported);
  }
  const TopicEntry* topic = session->topics.find(m.topic_id);
  if (!topic) {
    // Answered for QoS 0 too (spec 6.6): the client learns to re-register.
    metrics_.invalid_topic_id.inc();
    return send_puback(from, m.topic_id, m.msg_id, ReturnCode::kInvalidTopicId);
  }
  if (qos1) {
    if (session->pending.contains(m.msg_id)) {
      metrics_.duplicates.inc();  // its PUBACK follows when the first copy is durable
      return;
    }
    if (auto acked_topic = session->recently_acked(m.msg_id)) {
      metrics_.duplicates.inc();  // our PUBACK was lost: repeat it, do not store again
      return send_puback(from, *acked_topic, m.msg_id, ReturnCode::kAccepted);
    }
    if (session->pending.size() >= options_.max_inflight_per_client) {
      metrics_.congestion.inc();
      return send_puback(from, m.topic_id, m.msg_id, ReturnCode::kCongestion);
    }
  }
  submit(from, *session, m, *topic);
}

void GatewayLoop::submit(const Endpoint& from, Session& session, const Publish& m,
                         const TopicEntry& topic) {
  const bool qos1 = m.flags.qos == 1;
  auto decoded = decode_payload(m.data);
  if (!decoded) {
    metrics_.rejected_payload.inc();
    spdlog::debug("mqttsn: PUBLISH from '{}' on '{}' rejected: {} [{}]", session.client_id,
                  topic.name, decoded.error().message(), hex_dump(m.data));
    if (qos1) send_puback(from, m.topic_id, m.msg_id, ReturnCode::kNotSupported);
    return;
  }
  SampleBatch batch;
  batch.samples.reserve(decoded->size());
  for (const auto& s : *decoded)
    batch.samples.push_back({.series = topic.series, .ts_ns = s.ts_ns, .value = s.value, .quality = s.quality});
  batch.provenance.connector = "mqttsn";
  batch.provenance.client_id = session.client_id;
  batch.provenance.receive_ts_ns = unix_now_ns();
  const std::size_t n = batch.samples.size();

  const Admission admission =
      pipeline_.submit(std::move(batch), make_durable_callback(from, session, m.msg_id, m.topic_id, qos1));
  switch (admission) {
    case Admission::kAccepted:
      metrics_.samples.inc(n);
      // The callback only posts, so its completion runs after this handler has recorded `pending`.
      if (qos1) session.pending.emplace(m.msg_id, m.topic_id);
      return;
    case Admission::kRetryLater:
      metrics_.congestion.inc();
      if (qos1) send_puback(from, m.topic_id, m.msg_id, ReturnCode::kCongestion);
      return;
    case Admission::kRejected:
      metrics_.rejected_pipeline.inc();
      spdlog::debug("mqttsn: PUBLISH from '{}' on '{}' rejected by the pipeline", session.client_id,
                    topic.name);
      if (qos1) send_puback(from, m.topic_id, m.msg_id, ReturnCode::kNotSupported);
      return;
  }
}

DurableCallback GatewayLoop::make_durable_callback(const Endpoint& from, const Session& session,
                                                   std::uint16_t msg_id, std::uint16_t topic_id,
                                                   bool qos1) {
  // Runs on the pipeline's flusher thread, possibly after the gateway stopped: it only posts.
  return [relay = relay_, from, generation = session.generation, msg_id, topic_id,
          qos1](const Status& status) {
    std::lock_guard lock(relay->mu);
    GatewayLoop* loop = relay->loop;
    if (!loop) return;
    asio::post(loop->io_, [loop, from, generation, msg_id, topic_id, qos1, status] {
      loop->on_durable(from, generation, msg_id, topic_id, qos1, status);
    });
  };
}

void GatewayLoop::on_durable(const Endpoint& from, std::uint64_t generation, std::uint16_t msg_id,
                             std::uint16_t topic_id, bool qos1, const Status& status) {
  if (!status.is_ok()) {
    metrics_.durable_errors.inc();
    spdlog::warn("mqttsn: batch from {} not durable: {}", to_string(from), status.to_string());
  }
  if (!qos1) return;
  Session* session = sessions_.find(from);
  if (!session || session->generation != generation) return;  // the session ended meanwhile
  session->pending.erase(msg_id);
  if (status.is_ok()) {
    session->remember_acked(msg_id, topic_id);
    send_puback(from, topic_id, msg_id, ReturnCode::kAccepted);
  } else {
    // Nothing is guaranteed stored: "congestion" makes the client send it again later.
    metrics_.congestion.inc();
    send_puback(from, topic_id, msg_id, ReturnCode::kCongestion);
  }
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Pingreq& m) {
  if (!session) {
    // Includes a sleeping client waking up (PINGREQ with ClientId): sleep is not supported yet.
    metrics_.unconnected.inc();
    send(from, Disconnect{});
    return;
  }
  (void)m;
  send(from, Pingresp{});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Disconnect& m) {
  if (session) {
    if (m.duration_s)
      spdlog::debug("mqttsn: client '{}' asked to sleep {} s; sleeping is not supported yet, "
                    "session ended", session->client_id, *m.duration_s);
    sessions_.erase(from);
    update_sessions_gauge();
  }
  send(from, Disconnect{});
}

void GatewayLoop::handle(const Endpoint& from, Session*, const SearchGw&) {
  send(from, GwInfo{.gw_id = options_.gateway_id, .gw_address = {}});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const Subscribe& m) {
  if (!session) {
    metrics_.unconnected.inc();
    send(from, Disconnect{});
    return;
  }
  send(from, Suback{.flags = {}, .topic_id = 0, .msg_id = m.msg_id,
                    .return_code = ReturnCode::kNotSupported});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const WillTopicUpd&) {
  if (!session) return (void)metrics_.unexpected.inc();
  send(from, WillTopicResp{.return_code = ReturnCode::kNotSupported});
}

void GatewayLoop::handle(const Endpoint& from, Session* session, const WillMsgUpd&) {
  if (!session) return (void)metrics_.unexpected.inc();
  send(from, WillMsgResp{.return_code = ReturnCode::kNotSupported});
}

template <typename T>
void GatewayLoop::handle(const Endpoint& from, Session*, const T&) {
  // Gateway-to-client messages, QoS 2 and subscription flows we never started: ignored.
  metrics_.unexpected.inc();
  spdlog::debug("mqttsn: unexpected {} from {} ignored", msg_type_name(T::kType), to_string(from));
}

}  // namespace resonance::mqttsn
