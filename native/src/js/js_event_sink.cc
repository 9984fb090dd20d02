#include "js/js_event_sink.h"

#include <utility>

namespace deskcast {

JsEventSink* JsEventSink::create(Napi::Env env, Napi::Function callback,
                                 const char* resourceName) {
  auto* self = new JsEventSink();
  try {
    // maxQueueSize 2: we coalesce to one call in flight (plus one being dispatched).
    self->tsfn_ = Tsfn::New(env, callback, resourceName, 2, 1, self, &JsEventSink::finalize,
                            static_cast<void*>(nullptr));
  } catch (...) {
    delete self;
    throw;
  }
  return self;
}

void JsEventSink::finalize(Napi::Env, void*, JsEventSink* self) { delete self; }

void JsEventSink::post(SessionEvent&& event) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    if (count_ == kCapacity) {
      if (event.droppable()) {
        dropped_++;
        return;
      }
      // An error or state change must get through: drop the oldest droppable event instead
      // (keeping the order of the rest), or the oldest event if none is droppable.
      size_t victim = 0;
      while (victim < count_ && !ring_[(head_ + victim) % kCapacity].droppable()) victim++;
      if (victim == count_) victim = 0;
      for (size_t j = victim; j > 0; j--) {
        ring_[(head_ + j) % kCapacity] = std::move(ring_[(head_ + j - 1) % kCapacity]);
      }
      head_ = (head_ + 1) % kCapacity;
      count_--;
      dropped_++;
    }
    ring_[(head_ + count_) % kCapacity] = std::move(event);
    count_++;
  }
  if (!scheduled_.exchange(true)) {
    if (tsfn_.NonBlockingCall() != napi_ok) scheduled_.store(false);
  }
}

void JsEventSink::callJs(Napi::Env env, Napi::Function callback, JsEventSink* self, void*) {
  self->scheduled_.store(false);  // posts from now on schedule another call
  if (env == nullptr) return;     // the environment is shutting down
  std::array<SessionEvent, kCapacity> batch;
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    while (self->count_ > 0) {
      batch[n++] = std::move(self->ring_[self->head_]);
      self->head_ = (self->head_ + 1) % kCapacity;
      self->count_--;
    }
  }
  for (size_t i = 0; i < n; i++) {
    const SessionEvent& event = batch[i];
    // The pipeline thread has stopped after a fatal error: stop holding the loop open.
    if (event.type == SessionEvent::Type::kError) self->unref(env);
    try {
      callback.Call({toJs(env, event)});
    } catch (Napi::Error& e) {
      // A throwing listener surfaces as an uncaught exception (as with EventEmitter);
      // the rest of this batch is dropped. While the environment terminates (a Worker's
      // terminate()) JS cannot run and re-throwing fails too: then the events are dropped.
      try {
        e.ThrowAsJavaScriptException();
      } catch (const Napi::Error&) {
      }
      return;
    }
  }
}

void JsEventSink::ref(Napi::Env env) {
  if (!refed_ && !closed_) {
    tsfn_.Ref(env);
    refed_ = true;
  }
}

void JsEventSink::unref(Napi::Env env) {
  if (refed_ && !closed_) {
    tsfn_.Unref(env);
    refed_ = false;
  }
}

void JsEventSink::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  tsfn_.Release();  // finalize() (→ delete this) runs after the queued calls
}

Napi::Object JsEventSink::toJs(Napi::Env env, const SessionEvent& event) {
  Napi::Object o = Napi::Object::New(env);
  switch (event.type) {
    case SessionEvent::Type::kStats: {
      const VideoStats& s = event.stats;
      o.Set("type", "stats");
      o.Set("framesCaptured", static_cast<double>(s.framesCaptured));
      o.Set("framesEncoded", static_cast<double>(s.framesEncoded));
      o.Set("framesSent", static_cast<double>(s.framesSent));
      o.Set("keyframesSent", static_cast<double>(s.keyframesSent));
      o.Set("packetsSent", static_cast<double>(s.packetsSent));
      o.Set("bytesSent", static_cast<double>(s.bytesSent));
      o.Set("captureFps", s.captureFps);
      o.Set("captureMsAvg", s.captureMsAvg);
      o.Set("convertMsAvg", s.convertMsAvg);
      o.Set("encodeMsAvg", s.encodeMsAvg);
      o.Set("captureMsP50", s.captureMsP50);
      o.Set("convertMsP50", s.convertMsP50);
      o.Set("encodeMsP50", s.encodeMsP50);
      o.Set("width", s.width);
      o.Set("height", s.height);
      o.Set("encoder", s.encoder);
      o.Set("pliReceived", static_cast<double>(s.pliReceived));
      o.Set("firReceived", static_cast<double>(s.firReceived));
      o.Set("rtcpMalformed", static_cast<double>(s.rtcpMalformed));
      {
        Napi::Object stages = Napi::Object::New(env);
        auto put = [&](const char* name, const std::vector<float>& v) {
          Napi::Array a = Napi::Array::New(env, v.size());
          for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), static_cast<double>(v[i]));
          stages.Set(name, a);
        };
        put("changeToGrab", s.changeToGrabMs);
        put("grab", s.grabMs);
        put("convert", s.convertMs);
        put("encode", s.encodeMs);
        put("send", s.sendMs);
        o.Set("stageMs", stages);
      }
      o.Set("vp8Active", s.vp8Active);
      o.Set("vp8FramesSent", static_cast<double>(s.vp8FramesSent));
      o.Set("vp8KeyframesSent", static_cast<double>(s.vp8KeyframesSent));
      o.Set("vp8BytesSent", static_cast<double>(s.vp8BytesSent));
      o.Set("vp8PliReceived", static_cast<double>(s.vp8PliReceived));
      o.Set("vp8EncodeMsAvg", s.vp8EncodeMsAvg);
      break;
    }
    case SessionEvent::Type::kAudioStats: {
      const AudioStats& s = event.audioStats;
      o.Set("type", "stats");
      o.Set("chunksCaptured", static_cast<double>(s.chunksCaptured));
      o.Set("packetsSent", static_cast<double>(s.packetsSent));
      o.Set("bytesSent", static_cast<double>(s.bytesSent));
      o.Set("encodeMsAvg", s.encodeMsAvg);
      o.Set("encodeErrors", static_cast<double>(s.encodeErrors));
      o.Set("sendErrors", static_cast<double>(s.sendErrors));
      o.Set("senderReports", static_cast<double>(s.senderReports));
      o.Set("rtcpReceived", static_cast<double>(s.rtcpReceived));
      o.Set("rtcpMalformed", static_cast<double>(s.rtcpMalformed));
      o.Set("discontinuities", static_cast<double>(s.discontinuities));
      break;
    }
    case SessionEvent::Type::kAudioState:
      o.Set("type", "state");
      o.Set("state", audioStateName(event.audioState));
      o.Set("reason", event.message);
      o.Set("source", event.source);
      break;
    case SessionEvent::Type::kKeyframe:
      o.Set("type", "keyframe");
      o.Set("reason", keyframeReasonName(event.reason));
      break;
    case SessionEvent::Type::kError:
      o.Set("type", "error");
      o.Set("code", event.code);
      o.Set("message", event.message);
      break;
    case SessionEvent::Type::kLog:
      o.Set("type", "log");
      o.Set("level", event.warn ? "warn" : "info");
      o.Set("message", event.message);
      break;
  }
  return o;
}

}  // namespace deskcast
