#pragma once
// The gateway's event loop: the UDP socket, the session table and the protocol handlers.
// Internal to connectors/mqttsn (Gateway is the public face).
//
// Threading: everything here runs on the one thread that calls run(), except the constructor,
// bind(), shutdown(), persist_now() (controlling thread, loop not running), post_deliver() (any
// thread: it only posts) and the DurableCallbacks' relay, which are documented one by one.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <span>

#include "connectors/mqttsn/gateway.h"
#include "connectors/mqttsn/gateway_metrics.h"
#include "connectors/mqttsn/messages.h"
#include "connectors/mqttsn/session.h"
#include "connectors/mqttsn/session_writer.h"

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

  // Controlling thread, before run(): loads the state file, opens and binds the socket, arms
  // receive, supervision and ADVERTISE.
  Status bind();
  // The event-loop thread: returns after shutdown().
  void run();
  // Controlling thread: detaches the relay and stops the io_context. run() then returns; the
  // caller joins and destroys the loop.
  void shutdown();
  // Controlling thread, after run() returned: writes the state file (if configured).
  void persist_now();    // hands the encoded state to the writer thread
  void drain_persist();  // waits until what persist_now() handed over is on disk
  std::uint16_t bound_port() const { return bound_port_.load(); }
  // Any thread: posts a downstream delivery to the loop.
  void post_deliver(std::string topic, std::vector<std::uint8_t> payload, int qos, bool retain);

 private:
  void receive();
  void supervise();
  void advertise();
  void on_datagram(const Endpoint& from, std::span<const std::uint8_t> bytes);
  void send(const Endpoint& to, const Message& message);
  void send_to(Session& session, const Message& message);
  void send_puback(const Endpoint& to, std::uint16_t topic_id, std::uint16_t msg_id, ReturnCode rc);

  void handle(const Endpoint& from, Session* session, const Connect& m);
  void handle(const Endpoint& from, Session* session, const WillTopic& m);
  void handle(const Endpoint& from, Session* session, const WillMsg& m);
  void handle(const Endpoint& from, Session* session, const Register& m);
  void handle(const Endpoint& from, Session* session, const Regack& m);
  void handle(const Endpoint& from, Session* session, Publish& m);
  void handle(const Endpoint& from, Session* session, const Puback& m);
  void handle(const Endpoint& from, Session* session, const Pubrec& m);
  void handle(const Endpoint& from, Session* session, const Pubrel& m);
  void handle(const Endpoint& from, Session* session, const Pubcomp& m);
  void handle(const Endpoint& from, Session* session, const Subscribe& m);
  void handle(const Endpoint& from, Session* session, const Unsubscribe& m);
  void handle(const Endpoint& from, Session* session, const Pingreq& m);
  void handle(const Endpoint& from, Session* session, const Disconnect& m);
  void handle(const Endpoint& from, Session* session, const SearchGw& m);
  void handle(const Endpoint& from, Session* session, const WillTopicUpd& m);
  void handle(const Endpoint& from, Session* session, const WillMsgUpd& m);
  template <typename T>
  void handle(const Endpoint& from, Session* session, const T& m);  // everything else

  // A session able to exchange messages (connected, awake or asleep-but-pinging); otherwise the
  // endpoint gets DISCONNECT and false.
  bool require_session(const Endpoint& from, Session* session);
  void publish_qos_minus_one(const Endpoint& from, Publish& m);
  // Stores (series topics and equipment prefixes) and fans out to device subscriptions; answers
  // unless the samples were staged with QoS 1/2 (then flush_staged or on_group_durable does).
  void route(const Endpoint& from, Session* session, Publish& m, const std::string& name,
             SeriesId series);
  // `series` != 0: a series topic (single-series payload forms); 0: an equipment prefix
  // (multi-signal forms, each signal mapped through signal_series_path and the catalog).
  // Decodes at once (a bad payload is answered and quarantined alone, now); good samples are
  // staged as one part of the wake-up's group.
  void submit(const Endpoint& from, Session* session, Publish& m, const std::string& name,
              SeriesId series);
  // Hands every staged PUBLISH to the pipeline as ONE group (one part, with its own provenance,
  // per PUBLISH) and answers the parts the pipeline did not take. Called at the end of each
  // receive wake-up and before any message other than PUBLISH is handled, so everything a
  // client sent before, say, a DISCONNECT or a PUBREL has been submitted when that is handled.
  void flush_staged();
  // The samples of a PUBLISH on `name`. kInvalidArgument: the payload is refused (the message says
  // why, for the quarantine); any other error is the catalog's (transient, nothing refused).
  Result<std::vector<Sample>> samples_of(std::span<const std::uint8_t> payload,
                                         const std::string& name, SeriesId series);
  // Keeps a refused PUBLISH in options_.quarantine (if set) with its provenance and raw bytes.
  void quarantine(const Endpoint& from, const Session* session, const std::string& topic,
                  std::span<const std::uint8_t> payload, std::string reason_code, std::string reason);
  void acknowledge(const Endpoint& to, Session* session, const Publish& m);
  // Who gets a PUBACK/PUBREC once a group is durable: one per accepted QoS 1/2 part.
  struct AckTarget {
    std::string client_id;
    std::uint64_t generation = 0;  // never acknowledges on behalf of a later session
    std::uint16_t msg_id = 0;
    std::uint16_t topic_id = 0;
    std::int8_t qos = 1;
  };
  // On the event loop, after the pipeline's DurableCallback for a group fired.
  void on_group_durable(const std::vector<AckTarget>& acks, const Status& status);
  void on_durable(const AckTarget& ack, const Status& status);
  // The topic name of a staged PUBLISH, for the quarantine (rare: only when the pipeline refuses).
  std::string topic_name_of(const Session* session, const Publish& m) const;
  // A series for `name`, or 0 when it is not a series path (or the catalog failed: logged).
  SeriesId series_of(const std::string& name);

  // Downstream.
  void deliver(const std::string& topic, std::span<const std::uint8_t> payload, std::int8_t qos,
               bool retain);
  void enqueue(Session& session, Downstream item);
  void pump(Session& session);
  void send_publish(Session& session, Downstream item, TopicIdType type, std::uint16_t topic_id);
  void resend_outstanding(Session& session, bool dup);
  void finish_outstanding(Session& session);

  // Keep-alive / sleep expiry and exhausted retransmissions: publishes the Will; drops the
  // session (CleanSession=1) or keeps it disconnected.
  void lose(Session& session, std::string_view why);
  void end_session(Session& session);  // graceful: no Will
  Session& fresh_session(const std::string& client_id);
  void add_subscription_count(std::ptrdiff_t delta);
  void update_sessions_gauge();
  void mark_dirty() { dirty_ = true; }
  void load_state();

  GatewayOptions options_;
  BatchConsumer& pipeline_;
  SeriesCatalog& catalog_;
  GatewayMetrics metrics_;
  boost::asio::io_context io_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer supervision_timer_;
  boost::asio::steady_timer advertise_timer_;
  std::shared_ptr<DurableRelay> relay_;
  std::atomic<std::uint16_t> bound_port_{0};
  std::set<boost::asio::ip::address> allowed_sources_;
  std::optional<Endpoint> advertise_to_;

  // Event-loop thread only.
  SessionTable sessions_;
  std::size_t subscription_count_ = 0;  // over all sessions: skip fan-out when zero
  std::unordered_map<std::uint16_t, SeriesId> predefined_series_;
  // Signal series per equipment prefix (max_signals_per_equipment), counted from the catalog on
  // first need and kept up to date as multi-signal payloads create series.
  std::unordered_map<std::string, std::size_t> signals_per_equipment_;
  std::size_t& signals_of(const std::string& equipment);
  bool dirty_ = false;
  MonoTime last_persist_ = mono_now();
  std::unique_ptr<SessionFileWriter> state_writer_;  // when options_.state_file is set
  // Datagrams are read in batches with recvmmsg (one system call for up to kRecvBatch of them):
  // at high packet rates the per-datagram system call was the gateway's largest cost.
  struct RecvBatch;
  std::unique_ptr<RecvBatch> rx_;

  // PUBLISHes decoded in this wake-up, waiting for flush_staged(): staged_parts_[i] is the
  // SampleBatch (with its device's provenance) of staged_[i]. Sessions referenced here stay valid
  // until the flush: only handlers of other messages end sessions, and they flush first.
  struct Staged {
    Endpoint from;
    Session* session = nullptr;  // null for QoS -1
    Publish message;             // header and payload (the payload is kept for the quarantine)
    std::size_t samples = 0;
  };
  std::vector<Staged> staged_;
  // While tx_batching_, send() queues here and flush_tx() sends the lot with sendmmsg.
  // A datagram queued while batching: its bytes are [offset, offset + size) of tx_bytes_, one
  // buffer reused for every group (a vector per PUBACK was an allocation per message).
  struct Outgoing {
    Endpoint to;
    std::size_t offset;
    std::size_t size;
    MsgType type;
  };
  bool tx_batching_ = false;
  std::vector<Outgoing> tx_;
  std::vector<std::uint8_t> tx_bytes_;
  bool gso_ok_ = true;         // cleared the first time the kernel refuses UDP_SEGMENT
  std::uint32_t kernel_drops_seen_ = 0;  // the socket's drop count (SO_MEMINFO) last seen
  void note_kernel_drops(std::uint32_t cumulative);
  std::chrono::steady_clock::time_point last_drop_log_{};
  void flush_tx();
  std::vector<SampleBatch> staged_parts_;
  std::size_t staged_samples_ = 0;
  TimestampNs staged_receive_ts_ = 0;  // one receive time per group (read in the same wake-up)
  // A group is flushed early beyond this many samples, so one wake-up of large multi-signal
  // payloads cannot make a group the store refuses as a whole.
  static constexpr std::size_t kMaxStagedSamples = 16384;
};

}  // namespace resonance::mqttsn
