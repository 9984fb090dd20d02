// One session of a kind per process: a ProcessSlot<Kind> holds the process-wide "a session of
// this kind exists" flag for its lifetime, and refuses a second one with a clear error.
#pragma once

#include <atomic>

#include "common/errors.h"

namespace deskcast {

template <typename Kind>
class ProcessSlot {
 public:
  explicit ProcessSlot(const char* busyMessage) {
    if (active().exchange(true)) throw DeskcastError(errc::kSessionBusy, busyMessage);
  }
  ~ProcessSlot() { active().store(false); }
  ProcessSlot(const ProcessSlot&) = delete;
  ProcessSlot& operator=(const ProcessSlot&) = delete;

 private:
  static std::atomic<bool>& active() {
    static std::atomic<bool> flag{false};
    return flag;
  }
};

}  // namespace deskcast
