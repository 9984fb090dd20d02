// Runs an InputInjector on its own thread, fed from the JS thread through a bounded queue of
// fixed-size commands: the JS thread never waits for the desktop, and a stalled desktop costs
// dropped (counted, logged) commands, never memory.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/session_events.h"
#include "common/wake_event.h"
#include "input/input_injector.h"

namespace deskcast {

struct InputCommand {
  enum class Type : uint8_t {
    kPointerAbsolute, kPointerRelative, kButton, kScroll, kKey, kText, kReleaseAll
  };
  static constexpr size_t kMaxTextChunk = 32;  // code points per command; text() spans several

  Type type = Type::kReleaseAll;
  bool down = false;
  KeyMode mode = KeyMode::kText;
  uint8_t textLength = 0;
  int32_t x = 0;  // pointer x / dx / button number / scroll dx
  int32_t y = 0;  // pointer y / dy / scroll dy
  uint32_t keysym = 0;
  uint32_t keycode = 0;
  KeyId id;
  char32_t text[kMaxTextChunk] = {};
};

struct InjectorStats {
  uint64_t commandsQueued = 0;
  uint64_t commandsDropped = 0;  // queue full
};

class InjectorThread {
 public:
  static constexpr size_t kQueueCapacity = 1024;
  using Opener = std::function<std::unique_ptr<InputInjector>(EventSink&)>;

  explicit InjectorThread(EventSink& events);
  ~InjectorThread();
  InjectorThread(const InjectorThread&) = delete;
  InjectorThread& operator=(const InjectorThread&) = delete;

  // Blocking (the JS binding calls it from libuv's pool): connects the backend.
  // Throws DeskcastError; ERR_SESSION_STATE if stop() came first.
  void open(const Opener& opener);
  // After open(): starts the thread. False if stop() came in between.
  bool startThread();

  // Any thread; never blocks on the desktop. All-or-nothing: false (and counted as dropped)
  // when the queue has no room for every command.
  bool push(const InputCommand* commands, size_t count) noexcept;

  // Drops queued commands, releases everything the viewer holds, joins the thread and
  // disconnects. Idempotent.
  void stop();

  InjectorStats stats() const noexcept;

 private:
  void run() noexcept;
  void execute(const InputCommand& command);

  EventSink& events_;
  std::mutex lifecycleMutex_;  // open / startThread / stop
  std::unique_ptr<InputInjector> backend_;
  std::thread thread_;
  bool stopped_ = false;
  WakeEvent wake_;
  std::atomic<bool> stopRequested_{false};

  mutable std::mutex queueMutex_;
  std::array<InputCommand, kQueueCapacity> queue_;
  size_t head_ = 0;
  size_t count_ = 0;
  uint64_t queued_ = 0;
  uint64_t dropped_ = 0;
  int64_t lastDropWarnNs_ = 0;
  uint64_t droppedAtLastWarn_ = 0;

  static constexpr size_t kBatch = 64;
  std::array<InputCommand, kBatch> batch_;  // the thread's working copy
};

}  // namespace deskcast
