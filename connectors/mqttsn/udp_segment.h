#pragma once
// UDP segmentation offload (Linux UDP_SEGMENT): one sendmsg carries several equal-size datagrams
// laid end to end; the kernel emits each as its own datagram. Used by the gateway for a run of
// PUBACKs to one client, and by the load generator and tests to send a device's burst.

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

namespace resonance::mqttsn {

// Ancillary-data room for one UDP_SEGMENT control message.
struct SegmentControl {
  alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(std::uint16_t))> bytes{};
};

// Makes `h` a segmented send of datagrams `segment` bytes long (the last may be shorter).
inline void set_udp_segment(msghdr& h, SegmentControl& control, std::uint16_t segment) {
  h.msg_control = control.bytes.data();
  h.msg_controllen = control.bytes.size();
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof segment);
  std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
}

// Sends `bytes` (equal-size datagrams of `segment` bytes laid end to end, the last may be shorter)
// on a connected socket in one call; the sendmsg result.
inline ssize_t send_segmented(int fd, std::span<const std::uint8_t> bytes, std::uint16_t segment) {
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr h{};
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  SegmentControl control;
  set_udp_segment(h, control, segment);
  return ::sendmsg(fd, &h, 0);
}

}  // namespace resonance::mqttsn
