#include "input/injector_thread.h"

#include <poll.h>

#include <cerrno>

#include "common/errors.h"
#include "common/media_clock.h"

namespace deskcast {
namespace {
constexpr int64_t kDropWarnIntervalNs = 5'000'000'000;
}

InjectorThread::InjectorThread(EventSink& events) : events_(events) {}

InjectorThread::~InjectorThread() { stop(); }

void InjectorThread::open(const Opener& opener) {
  std::lock_guard<std::mutex> lock(lifecycleMutex_);
  if (stopped_) throw DeskcastError(errc::kSessionState, "the InputInjector was stopped before it started");
  if (backend_) throw DeskcastError(errc::kSessionState, "InputInjector.start() was already called");
  backend_ = opener(events_);
}

bool InjectorThread::startThread() {
  std::lock_guard<std::mutex> lock(lifecycleMutex_);
  if (stopped_ || !backend_ || thread_.joinable()) return false;
  thread_ = std::thread([this] { run(); });
  return true;
}

bool InjectorThread::push(const InputCommand* commands, size_t count) noexcept {
  bool accepted = false;
  uint64_t warnDropped = 0;
  {
    std::lock_guard<std::mutex> lock(queueMutex_);
    if (kQueueCapacity - count_ >= count) {
      for (size_t i = 0; i < count; i++) queue_[(head_ + count_ + i) % kQueueCapacity] = commands[i];
      count_ += count;
      queued_ += count;
      accepted = true;
    } else {
      dropped_ += count;
      int64_t now = MediaClock::nowNs();
      if (now - lastDropWarnNs_ >= kDropWarnIntervalNs) {  // rate-limited warning
        lastDropWarnNs_ = now;
        warnDropped = dropped_ - droppedAtLastWarn_;
        droppedAtLastWarn_ = dropped_;
      }
    }
  }
  if (accepted) {
    wake_.signal();
  } else if (warnDropped > 0) {
    events_.postLog(true, "input: the desktop is not keeping up; dropped " +
                              std::to_string(warnDropped) + " input commands (queue of " +
                              std::to_string(kQueueCapacity) + " full)");
  }
  return accepted;
}

void InjectorThread::stop() {
  std::lock_guard<std::mutex> lock(lifecycleMutex_);
  stopped_ = true;
  if (thread_.joinable()) {
    stopRequested_.store(true);
    wake_.signal();
    thread_.join();
  } else if (backend_ && !backend_->connectionLost()) {
    backend_->releaseAll();  // opened but never started: nothing was pressed, bindings none
    backend_->flush();
  }
  backend_.reset();
}

InjectorStats InjectorThread::stats() const noexcept {
  std::lock_guard<std::mutex> lock(queueMutex_);
  return InjectorStats{queued_, dropped_};
}

void InjectorThread::execute(const InputCommand& c) {
  InputInjector& b = *backend_;
  switch (c.type) {
    case InputCommand::Type::kPointerAbsolute: b.pointerAbsolute(c.x, c.y); break;
    case InputCommand::Type::kPointerRelative: b.pointerRelative(c.x, c.y); break;
    case InputCommand::Type::kButton: b.button(c.x, c.down); break;
    case InputCommand::Type::kScroll: b.scroll(c.x, c.y); break;
    case InputCommand::Type::kKey: b.key(c.id, c.keysym, c.keycode, c.down, c.mode); break;
    case InputCommand::Type::kText: b.text(c.text, c.textLength); break;
    case InputCommand::Type::kReleaseAll: b.releaseAll(); break;
  }
}

void InjectorThread::run() noexcept {
  InputInjector& b = *backend_;
  bool lost = false;
  try {
    for (;;) {
      b.handleEvents();
      if (b.connectionLost()) {
        lost = true;
        break;
      }
      if (stopRequested_.load()) break;
      size_t n = 0;
      {
        std::lock_guard<std::mutex> lock(queueMutex_);
        while (count_ > 0 && n < kBatch) {
          batch_[n++] = queue_[head_];
          head_ = (head_ + 1) % kQueueCapacity;
          count_--;
        }
      }
      if (n > 0) {
        for (size_t i = 0; i < n && !b.connectionLost() && !stopRequested_.load(); i++) {
          execute(batch_[i]);
        }
        b.flush();
        continue;
      }
      pollfd fds[2] = {{b.pollFd(), POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
      int r = poll(fds, 2, 1000);
      if (r < 0 && errno != EINTR) break;
      if (fds[1].revents & POLLIN) wake_.drain();
    }
    if (!lost && !b.connectionLost()) {
      b.releaseAll();
      b.flush();
    } else {
      lost = true;
    }
  } catch (const DeskcastError& e) {
    SessionEvent event;
    event.type = SessionEvent::Type::kError;
    event.code = e.code();
    event.message = e.what();
    events_.post(std::move(event));
    return;
  } catch (const std::exception& e) {
    SessionEvent event;
    event.type = SessionEvent::Type::kError;
    event.code = errc::kInternal;
    event.message = std::string("input injector: ") + e.what();
    events_.post(std::move(event));
    return;
  }
  if (lost && !stopRequested_.load()) {
    SessionEvent event;
    event.type = SessionEvent::Type::kError;
    event.code = errc::kDisplayLost;
    event.message = "input: the X display went away; remote control stopped (restart the "
                    "desktop, then start a new InputInjector)";
    events_.post(std::move(event));
  }
}

}  // namespace deskcast
