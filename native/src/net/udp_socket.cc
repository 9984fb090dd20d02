#include "net/udp_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <memory>

#include "common/errors.h"

namespace deskcast {
namespace {

std::string errnoText(int err) {
  char buf[128];
  return std::string(strerror_r(err, buf, sizeof buf));
}

[[noreturn]] void throwSocketError(const std::string& what, int err) {
  throw DeskcastError(errc::kSocket, what + ": " + errnoText(err));
}

}  // namespace

SocketAddress SocketAddress::resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* result = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  if (rc == EAI_ADDRFAMILY || rc == EAI_NONAME) {
    // AI_ADDRCONFIG hides loopback-only families on hosts without other interfaces: retry.
    hints.ai_flags = 0;
    rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  }
  if (rc != 0 || result == nullptr) {
    throw DeskcastError(errc::kSocket, "cannot resolve destination host '" + host +
                                           "': " + gai_strerror(rc) +
                                           " (pass an IP address such as 127.0.0.1)");
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(result, &freeaddrinfo);
  SocketAddress address;
  memcpy(&address.storage_, result->ai_addr, result->ai_addrlen);
  address.length_ = result->ai_addrlen;
  return address;
}

std::string SocketAddress::toString() const {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (storage_.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&storage_);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  auto* a = reinterpret_cast<const sockaddr_in6*>(&storage_);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  port = ntohs(a->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UdpSocket::UdpSocket(const SocketAddress& destination) : family_(destination.family()) {
  fd_ = UniqueFd(::socket(family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd_.get() < 0) throwSocketError("cannot create UDP socket", errno);

  // Keyframes burst ~100 packets at once: give the kernel room so they are not dropped.
  int sndbuf = 1 << 20;
  setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  int rcvbuf = 256 << 10;
  setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

  sockaddr_storage local{};
  socklen_t localLen;
  if (family_ == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&local);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_ANY);
    localLen = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&local);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_any;
    localLen = sizeof(sockaddr_in6);
  }
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), localLen) != 0) {
    throwSocketError("cannot bind the RTP/RTCP UDP socket", errno);
  }
  connect(destination);

  sockaddr_storage bound{};
  socklen_t boundLen = sizeof bound;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &boundLen) != 0) {
    throwSocketError("getsockname failed on the RTP/RTCP socket", errno);
  }
  localPort_ = family_ == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                  : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
}

void UdpSocket::connect(const SocketAddress& destination) {
  if (destination.family() != family_) {
    throw DeskcastError(errc::kSocket,
                        "destination " + destination.toString() +
                            " is of a different address family than the session's socket; "
                            "keep the PlainTransport on the same IP version or recreate the "
                            "session");
  }
  if (::connect(fd_.get(), destination.get(), destination.length()) != 0) {
    throwSocketError("cannot connect the RTP/RTCP socket to " + destination.toString(), errno);
  }
}

int UdpSocket::send(const uint8_t* data, size_t size) noexcept {
  for (;;) {
    ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL);
    if (n >= 0) return 0;
    if (errno == EINTR) continue;
    return errno;
  }
}

long UdpSocket::recv(uint8_t* buffer, size_t capacity, bool* truncated) noexcept {
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer, capacity, MSG_TRUNC | MSG_DONTWAIT);
    if (n >= 0) {
      *truncated = static_cast<size_t>(n) > capacity;
      return static_cast<long>(*truncated ? capacity : static_cast<size_t>(n));
    }
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

}  // namespace deskcast
