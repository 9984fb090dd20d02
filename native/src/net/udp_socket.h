// One non-blocking UDP socket, connect()ed to the media destination (mediasoup PlainTransport,
// rtcpMux: RTP and RTCP share it). The destination can be changed at run time; the local port
// stays the same. Shared by the video session and (later) the audio session.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace deskcast {

// A resolved socket address (IPv4 or IPv6).
class SocketAddress {
 public:
  // Resolves a numeric address or host name. Throws DeskcastError(ERR_SOCKET) on failure.
  static SocketAddress resolve(const std::string& host, uint16_t port);

  int family() const noexcept { return storage_.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const noexcept { return length_; }
  std::string toString() const;

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const noexcept { return fd_; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

class UdpSocket {
 public:
  // Creates a socket of the destination's family bound to an ephemeral port and connects it.
  // Throws DeskcastError(ERR_SOCKET).
  explicit UdpSocket(const SocketAddress& destination);

  // Points the socket at a new destination (same address family). Thread-safe with respect to
  // concurrent send()/recv() on the pipeline thread. Throws DeskcastError(ERR_SOCKET).
  void connect(const SocketAddress& destination);

  // Returns 0 on success or the errno value (EAGAIN when the send buffer is full,
  // ECONNREFUSED when the peer's port is closed, ...). Never throws.
  int send(const uint8_t* data, size_t size) noexcept;

  // Reads one datagram. Returns its size (>= 0), -EAGAIN when nothing is pending, or -errno.
  // `truncated` is set when the datagram was larger than `capacity`.
  long recv(uint8_t* buffer, size_t capacity, bool* truncated) noexcept;

  int fd() const noexcept { return fd_.get(); }
  int family() const noexcept { return family_; }
  uint16_t localPort() const noexcept { return localPort_; }

 private:
  UniqueFd fd_;
  int family_;
  uint16_t localPort_ = 0;
};

}  // namespace deskcast
