#pragma once
// The gateway's event loop: the UDP socket, the session table and the protocol handlers.
// Internal to connectors/mqttsn (Gateway is the public face).
//
// Threading: everything here runs on the one thread that calls run(), except the constructor,
// bind(), shutdown() and the DurableCallbacks' relay, which are documented one by one.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <span>

#include "connectors/mqttsn/gateway.h"
#include "connectors/mqttsn/gateway_metrics.h"
#include "connectors/mqttsn/messages.h"
#include "connectors/mqttsn/session.h"

namespace resonance::mqttsn {

// Lets DurableCallbacks, which run on the pipeline's thread and may outlive the gateway, reach
// the event loop: they post through it while `loop` is set; shutdown() clears it under the lock.
struct DurableRelay {
  std::mutex mu;
  class GatewayLoop* loop = nullptr;  // guarded by mu
};

class GatewayLoop {
 public:
  GatewayLoop(const GatewayOptions& options, BatchConsumer& pipeline, SeriesCatalog& catalog,
              MetricsRegistry& metrics);
  ~GatewayLoop();

  // Controlling thread, before run(): opens and binds the socket, arms receive and supervision.
  Status bind();
  // The event-loop thread: returns after shutdown().
  void run();
  // Controlling thread: detaches the relay and stops the io_context. run() then returns; the
  // caller joins and destroys the loop.
  void shutdown();
  std::uint16_t bound_port() const { return bound_port_.load(); }

 private:
  void receive();
  void supervise();
  void on_datagram(const Endpoint& from, std::span<const std::uint8_t> bytes);
  void send(const Endpoint& to, const Message& message);
  void send_puback(const Endpoint& to, std::uint16_t topic_id, std::uint16_t msg_id, ReturnCode rc);

  void handle(const Endpoint& from, Session* session, const Connect& m);
  void handle(const Endpoint& from, Session* session, const Register& m);
  void handle(const Endpoint& from, Session* session, const Publish& m);
  void handle(const Endpoint& from, Session* session, const Pingreq& m);
  void handle(const Endpoint& from, Session* session, const Disconnect& m);
  void handle(const Endpoint& from, Session* session, const SearchGw& m);
  void handle(const Endpoint& from, Session* session, const Subscribe& m);
  void handle(const Endpoint& from, Session* session, const WillTopicUpd& m);
  void handle(const Endpoint& from, Session* session, const WillMsgUpd& m);
  template <typename T>
  void handle(const Endpoint& from, Session* session, const T& m);  // everything else

  // Submits a decoded PUBLISH; answers at once unless the batch was accepted with QoS 1.
  void submit(const Endpoint& from, Session& session, const Publish& m, const TopicEntry& topic);
  // On the event loop, after the pipeline's DurableCallback fired.
  void on_durable(const Endpoint& from, std::uint64_t generation, std::uint16_t msg_id,
                  std::uint16_t topic_id, bool qos1, const Status& status);
  DurableCallback make_durable_callback(const Endpoint& from, const Session& session,
                                        std::uint16_t msg_id, std::uint16_t topic_id, bool qos1);
  void update_sessions_gauge();

  GatewayOptions options_;
  BatchConsumer& pipeline_;
  SeriesCatalog& catalog_;
  GatewayMetrics metrics_;
  boost::asio::io_context io_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer supervision_timer_;
  std::shared_ptr<DurableRelay> relay_;
  std::atomic<std::uint16_t> bound_port_{0};

  // Event-loop thread only.
  SessionTable sessions_;
  Endpoint sender_;
  std::array<std::uint8_t, 65536> buffer_{};  // larger than any UDP datagram
};

}  // namespace resonance::mqttsn
