#include "loadgen.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "connectors/mqttsn/codec.h"
#include "connectors/mqttsn/udp_segment.h"

namespace resonance::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kPublishSize = 28;  // 7-byte PUBLISH header + 21-byte tag-0x01 sample
constexpr std::int64_t kStartTs = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

void put_be(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

// PUBLISH (normal topic id) carrying one sample: the layout of docs/formats/mqttsn-payload.md.
void build_publish(std::uint8_t* p, int qos, Device& d, double value) {
  p[0] = kPublishSize;
  p[1] = 0x0C;
  p[2] = static_cast<std::uint8_t>(qos << 5);
  put_be(p + 3, d.topic_id, 2);
  put_be(p + 5, qos > 0 ? d.next_msg_id : 0, 2);
  p[7] = 0x01;
  put_be(p + 8, static_cast<std::uint64_t>(d.next_ts_ns), 8);
  d.next_ts_ns += 1'000'000;  // 1 ms apart, strictly increasing per series
  put_be(p + 16, std::bit_cast<std::uint64_t>(value), 8);
  put_be(p + 24, 0, 4);  // Good
}

Result<mqttsn::Message> exchange(int fd, const mqttsn::Message& request, int timeout_ms = 2000) {
  auto bytes = mqttsn::encode(request);
  if (!bytes) return error(bytes.error());
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::send(fd, bytes->data(), bytes->size(), 0) < 0)
      return error(StatusCode::kIoError, fmt::format("send: {}", std::strerror(errno)));
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) continue;
    std::array<std::uint8_t, 512> buf{};
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) continue;
    return mqttsn::decode(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
  }
  return error(StatusCode::kIoError, "no answer from the gateway");
}

}  // namespace

LoadGen::~LoadGen() { close_all(); }

void LoadGen::close_all() {
  for (auto& d : devices_)
    if (d.fd >= 0) ::close(d.fd);
  devices_.clear();
}

Status LoadGen::open(int n) {
  sockaddr_in gw{};
  gw.sin_family = AF_INET;
  gw.sin_port = htons(port_);
  gw.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return Status(StatusCode::kIoError, fmt::format("socket {}: {}", i, std::strerror(errno)));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&gw), sizeof gw) != 0) {
      ::close(fd);
      return Status(StatusCode::kIoError, fmt::format("connect {}: {}", i, std::strerror(errno)));
    }
    devices_.push_back({fd, 0, kStartTs, 1});
  }
  return Status::ok();
}

Result<std::vector<double>> LoadGen::connect_all() {
  std::vector<double> us;
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    mqttsn::Connect c;
    c.flags.clean_session = true;
    c.duration_s = 3600;  // idle clients must not expire during the run
    c.client_id = fmt::format("{}-{:05}", prefix_, i);
    const auto t = Clock::now();
    auto reply = exchange(devices_[i].fd, c);
    const double elapsed = std::chrono::duration<double, std::micro>(Clock::now() - t).count();
    if (!reply) return error(reply.error().code(), fmt::format("CONNECT {}: {}", c.client_id, reply.error().message()));
    const auto* ack = std::get_if<mqttsn::Connack>(&*reply);
    if (!ack || ack->return_code != mqttsn::ReturnCode::kAccepted)
      return error(StatusCode::kIoError, fmt::format("CONNECT {}: refused", c.client_id));
    us.push_back(elapsed);
  }
  return us;
}

Status LoadGen::register_all() {
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    mqttsn::Register r;
    r.msg_id = 1;
    r.topic_name = fmt::format("plant1/bench/{}/m{:05}/temp", prefix_, i);
    auto reply = exchange(devices_[i].fd, r);
    if (!reply) return Status(reply.error());
    const auto* ack = std::get_if<mqttsn::Regack>(&*reply);
    if (!ack || ack->return_code != mqttsn::ReturnCode::kAccepted)
      return Status(StatusCode::kIoError, fmt::format("REGISTER {}: refused", r.topic_name));
    devices_[i].topic_id = ack->topic_id;
  }
  return Status::ok();
}

int LoadGen::send_burst(Device& d, std::uint8_t* buf, int k) {
  if (gso_ && k > 1) {
    const std::span<const std::uint8_t> all(buf, static_cast<std::size_t>(k) * kPublishSize);
    return mqttsn::send_segmented(d.fd, all, kPublishSize) > 0 ? k : 0;  // all segments or none
  }
  std::array<iovec, 64> iov{};
  std::array<mmsghdr, 64> msgs{};
  k = std::min(k, 64);
  for (int j = 0; j < k; ++j) {
    iov[j] = {buf + static_cast<std::size_t>(j) * kPublishSize, kPublishSize};
    msgs[j] = {};
    msgs[j].msg_hdr.msg_iov = &iov[j];
    msgs[j].msg_hdr.msg_iovlen = 1;
  }
  return std::max(::sendmmsg(d.fd, msgs.data(), static_cast<unsigned>(k), 0), 0);
}

LoadGen::Qos0Result LoadGen::run_qos0(double rate, double seconds) {
  constexpr int kBurst = 64;  // most packets of one device in one system call
  // Paced runs offer in rounds of 10 ms: each device gets its share of the round at once, which
  // is what lets a burst leave in one system call; over a step the offered rate is exact.
  constexpr double kRound = 0.010;
  std::array<std::uint8_t, kBurst * kPublishSize> buf{};
  Qos0Result r;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::size_t next = 0;
  const std::size_t n = devices_.size();
  while (true) {
    const auto now = Clock::now();
    if (now >= end) break;
    std::uint64_t due = kBurst * n;  // unpaced: a round of bursts
    if (rate > 0) {
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const double should = rate * (std::floor(elapsed / kRound) + 1) * kRound;  // this round's end
      due = should > static_cast<double>(r.sent) ? static_cast<std::uint64_t>(should) - r.sent : 0;
      if (due == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
    }
    // Spread what is due over the devices in turn, several packets per device per system call.
    const int per = static_cast<int>(std::clamp<std::uint64_t>((due + n - 1) / n, 1, kBurst));
    while (due > 0) {
      Device& d = devices_[next];
      next = (next + 1) % n;
      const int k = static_cast<int>(std::min<std::uint64_t>(per, due));
      for (int j = 0; j < k; ++j)
        build_publish(buf.data() + static_cast<std::size_t>(j) * kPublishSize, 0, d, static_cast<double>(r.sent + j));
      const int sent = send_burst(d, buf.data(), k);
      r.sent += static_cast<std::uint64_t>(sent);
      due -= static_cast<std::uint64_t>(sent);
      if (sent < k) {
        d.next_ts_ns -= static_cast<std::int64_t>(k - sent) * 1'000'000;
        break;  // socket buffer full: give the gateway a moment
      }
      if (Clock::now() >= end) break;  // a rate the sender cannot reach must not stretch the step
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

LoadGen::Qos1Result LoadGen::run_qos1(int window, double seconds, bool gro) {
  constexpr int kSlots = 4096;  // msg id -> send time, per device (window << kSlots)
  const std::size_t n = devices_.size();
  std::vector<Clock::time_point> sent_at(n * kSlots);
  std::vector<int> inflight(n, 0);
  // epoll, not poll: scanning 100 sockets per round cost the generator more than the gateway's
  // whole receive path.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < n; ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, devices_[i].fd, &ev);
  }
  std::vector<epoll_event> ready(n);
  // UDP_GRO on the simulated devices' sockets: the gateway sends a client's run of PUBACKs as one
  // UDP_SEGMENT buffer, and without GRO the kernel splits it and queues every 7-byte datagram on
  // the gateway's own send path (loopback delivers in the sender's context), work that belongs to
  // the devices, which in a plant sit on other machines. Each PUBACK is still its own datagram;
  // the buffer carries the segment size and is split here.
  const int on = gro ? 1 : 0;
  for (const Device& d : devices_) ::setsockopt(d.fd, SOL_UDP, UDP_GRO, &on, sizeof on);
  constexpr int kBatch = 32;
  constexpr std::size_t kRecvBytes = 2048;  // a run of at most 64 PUBACKs of 7 bytes
  std::vector<std::array<std::uint8_t, kRecvBytes>> rbufs(kBatch);
  std::array<std::array<char, CMSG_SPACE(sizeof(int))>, kBatch> rctl{};
  std::array<iovec, kBatch> riov{};
  std::array<mmsghdr, kBatch> rmsgs{};
  // Contiguous, as send_burst wants them.
  std::array<std::array<std::uint8_t, kPublishSize>, 64> sbufs{};
  static_assert(sizeof(sbufs) == 64 * kPublishSize);
  for (int k = 0; k < kBatch; ++k) {
    riov[k] = {rbufs[k].data(), rbufs[k].size()};
    rmsgs[k] = {};
    rmsgs[k].msg_hdr.msg_iov = &riov[k];
    rmsgs[k].msg_hdr.msg_iovlen = 1;
  }
  const auto arm_control = [&] {
    for (int k = 0; k < kBatch; ++k) {
      rmsgs[k].msg_hdr.msg_control = rctl[k].data();
      rmsgs[k].msg_hdr.msg_controllen = rctl[k].size();
    }
  };
  window = std::clamp(window, 1, 64);
  Qos1Result r;
  r.latency_us.reserve(1 << 20);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto drain_end = end + std::chrono::seconds(2);
  std::uint64_t outstanding = 0;
  while (true) {
    const auto now = Clock::now();
    const bool sending = now < end;
    if (!sending && (outstanding == 0 || now >= drain_end)) break;
    if (sending)
      for (std::size_t i = 0; i < n; ++i) {
        const int k = window - inflight[i];
        if (k <= 0) continue;
        Device& d = devices_[i];
        const auto t = Clock::now();
        const std::uint16_t first_id = d.next_msg_id;
        for (int j = 0; j < k; ++j) {
          build_publish(sbufs[j].data(), 1, d, static_cast<double>(r.sent + j));
          sent_at[i * kSlots + d.next_msg_id % kSlots] = t;
          d.next_msg_id = static_cast<std::uint16_t>(d.next_msg_id % 65535 + 1);
        }
        const int ok = send_burst(d, sbufs.data()->data(), k);
        // Unsent ones give their msg ids back (ids run 1..65535).
        d.next_msg_id = static_cast<std::uint16_t>((first_id - 1 + ok) % 65535 + 1);
        d.next_ts_ns -= static_cast<std::int64_t>(k - ok) * 1'000'000;
        inflight[i] += ok;
        outstanding += static_cast<std::uint64_t>(ok);
        r.sent += static_cast<std::uint64_t>(ok);
      }
    const int nready = ::epoll_wait(ep, ready.data(), static_cast<int>(n), 1);
    for (int e = 0; e < nready; ++e) {
      const std::size_t i = ready[static_cast<std::size_t>(e)].data.u64;
      arm_control();
      const int got = ::recvmmsg(devices_[i].fd, rmsgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      const auto t = Clock::now();
      for (int m = 0; m < got; ++m) {
        const std::size_t len = rmsgs[m].msg_len;
        if ((rmsgs[m].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
          ++r.other;
          continue;
        }
        std::size_t segment = len;
        msghdr& h = rmsgs[m].msg_hdr;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c))
          if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int gso = 0;
            std::memcpy(&gso, CMSG_DATA(c), sizeof gso);
            if (gso > 0) segment = static_cast<std::size_t>(gso);
          }
        for (std::size_t off = 0; off < len; off += segment) {
          const std::uint8_t* p = rbufs[m].data() + off;
          if (std::min(segment, len - off) != 7 || p[1] != 0x0D) {
            ++r.other;
            continue;
          }
          const std::uint16_t msg_id = static_cast<std::uint16_t>(p[4] << 8 | p[5]);
          --inflight[i];
          --outstanding;
          if (p[6] == 0x00) {
            ++r.accepted;
            r.latency_us.push_back(
                std::chrono::duration<double, std::micro>(t - sent_at[i * kSlots + msg_id % kSlots]).count());
          } else if (p[6] == 0x01) {
            ++r.congestion;
          } else {
            ++r.other;
          }
        }
      }
    }
  }
  ::close(ep);
  const int off = 0;
  for (const Device& d : devices_) ::setsockopt(d.fd, SOL_UDP, UDP_GRO, &off, sizeof off);
  r.seconds = std::chrono::duration<double>(std::min(Clock::now(), end) - start).count();
  return r;
}

}  // namespace resonance::bench
