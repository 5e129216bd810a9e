#pragma once
// The MQTT-SN load generator of mqttsn_bench: simulated devices as raw UDP sockets (one socket,
// so one source port and one gateway session, per device), PUBLISHes built by hand (28 bytes:
// header, topic id, msg id, a tag-0x01 sample) and sent in batches with sendmmsg, PUBACKs read
// with recvmmsg. Runs on the calling thread; the gateway runs on its own.

#include <cstdint>
#include <string>
#include <vector>

#include "resonance/core/status.h"

namespace resonance::bench {

struct Device {
  int fd = -1;
  std::uint16_t topic_id = 0;
  std::int64_t next_ts_ns = 0;
  std::uint16_t next_msg_id = 1;
};

class LoadGen {
 public:
  // gso: a device's burst of PUBLISHes leaves in one sendmsg with UDP_SEGMENT (each PUBLISH is
  // still its own datagram on the wire) instead of one datagram per sendmmsg entry, which is what
  // lets one core offer more than ~200,000 datagrams/s here.
  LoadGen(std::uint16_t gateway_port, std::string prefix, bool gso = false)
      : port_(gateway_port), prefix_(std::move(prefix)), gso_(gso) {}
  ~LoadGen();
  LoadGen(const LoadGen&) = delete;
  LoadGen& operator=(const LoadGen&) = delete;

  // Opens n sockets connected to the gateway (no traffic yet).
  Status open(int n);
  // CONNECT -> CONNACK for every device, one after the other; the round-trip of each in µs.
  Result<std::vector<double>> connect_all();
  // REGISTER one series path per device ("plant1/bench/<prefix>/m<i>/temp").
  Status register_all();
  void close_all();

  struct Qos0Result {
    std::uint64_t sent = 0;
    double seconds = 0;
  };
  // QoS 0 PUBLISHes round-robin over the devices at `rate` packets/s (0 = as fast as possible)
  // for `seconds`.
  Qos0Result run_qos0(double rate, double seconds);

  struct Qos1Result {
    std::uint64_t sent = 0, accepted = 0, congestion = 0, other = 0;
    double seconds = 0;
    std::vector<double> latency_us;  // PUBLISH sent -> its PUBACK rc 0x00
  };
  // QoS 1: each device keeps `window` PUBLISHes awaiting PUBACK, for `seconds`, then waits for
  // the last PUBACKs (up to 2 s).
  // `gro`: the devices take a run of PUBACKs as one UDP_GRO buffer (each still its own datagram).
  Qos1Result run_qos1(int window, double seconds, bool gro = true);

  std::size_t size() const { return devices_.size(); }

 private:
  // Sends k PUBLISHes of kPublishSize bytes laid end to end in buf; returns how many left.
  int send_burst(Device& d, std::uint8_t* buf, int k);

  std::uint16_t port_;
  std::string prefix_;
  bool gso_ = false;
  std::vector<Device> devices_;
};

}  // namespace resonance::bench
