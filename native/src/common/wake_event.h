// Wakes a session thread blocked in ppoll(): an eventfd a JS-thread call signals (stop,
// reconfigure, keyframe request) and the thread drains after waking.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/errors.h"
#include "net/udp_socket.h"

namespace deskcast {

class WakeEvent {
 public:
  WakeEvent() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_.get() < 0) throw DeskcastError(errc::kInternal, "eventfd failed: " + errnoText(errno));
  }

  int fd() const noexcept { return fd_.get(); }

  void signal() noexcept {
    uint64_t one = 1;
    ssize_t ignored = write(fd_.get(), &one, sizeof one);
    (void)ignored;
  }

  void drain() noexcept {
    uint64_t value;
    ssize_t ignored = read(fd_.get(), &value, sizeof value);
    (void)ignored;
  }

 private:
  UniqueFd fd_;
};

}  // namespace deskcast
