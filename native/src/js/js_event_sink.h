// Delivers SessionEvents from the pipeline thread to a JS callback through a
// Napi::ThreadSafeFunction. The queue is small and bounded; post() never blocks: when full,
// stats/log/keyframe events are dropped (errors evict the oldest droppable event instead).
// At most one TSFN call is in flight; each JS-thread call drains the whole queue.
#pragma once

#include <napi.h>

#include <array>
#include <atomic>
#include <mutex>

#include "common/session_events.h"

namespace deskcast {

class JsEventSink final : public EventSink {
 public:
  // The sink deletes itself when its ThreadSafeFunction finalizes (after close()).
  static JsEventSink* create(Napi::Env env, Napi::Function callback, const char* resourceName);

  void post(SessionEvent&& event) noexcept override;  // any thread

  // JS thread only.
  void ref(Napi::Env env);    // keep the event loop alive (session running)
  void unref(Napi::Env env);  // let the process exit (not started, failed)
  void close();               // no post() may follow; pending events are still delivered

  static Napi::Object toJs(Napi::Env env, const SessionEvent& event);

 private:
  static constexpr size_t kCapacity = 16;
  static void callJs(Napi::Env env, Napi::Function callback, JsEventSink* self, void* unused);
  static void finalize(Napi::Env env, void* unused, JsEventSink* self);
  using Tsfn = Napi::TypedThreadSafeFunction<JsEventSink, void, &JsEventSink::callJs>;

  JsEventSink() = default;

  std::mutex mutex_;
  std::array<SessionEvent, kCapacity> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
  uint64_t dropped_ = 0;
  std::atomic<bool> scheduled_{false};
  bool closed_ = false;
  bool refed_ = true;
  Tsfn tsfn_;
};

}  // namespace deskcast
