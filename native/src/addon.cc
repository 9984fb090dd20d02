// N-API bindings: exports `VideoSession`, `AudioSession` (js_audio_session.cc) and `__test`
// (test-only helpers).
#include <napi.h>

#include <memory>

#include "capture_session.h"
#include "errors.h"
#include "ffmpeg_util.h"
#include "js_audio_session.h"
#include "js_errors.h"
#include "js_event_sink.h"
#include "js_options.h"
#include "test_bindings.h"
#include "x11_display.h"

namespace deskcast {
namespace {

class VideoSession : public Napi::ObjectWrap<VideoSession> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "VideoSession",
                       {InstanceMethod<&VideoSession::start>("start"),
                        InstanceMethod<&VideoSession::reconfigure>("reconfigure"),
                        InstanceMethod<&VideoSession::setDestination>("setDestination"),
                        InstanceMethod<&VideoSession::requestKeyframe>("requestKeyframe"),
                        InstanceMethod<&VideoSession::stop>("stop"),
                        InstanceAccessor<&VideoSession::localPort>("localPort")});
  }

  explicit VideoSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VideoSession>(info) {
    Napi::Env env = info.Env();
    Napi::Function onEvent;
    VideoSessionConfig config = parseVideoSessionOptions(info, &onEvent);
    events_ = JsEventSink::create(env, onEvent, "deskcast.VideoSession.onEvent");
    events_->unref(env);  // an unstarted session does not keep the process alive
    try {
      session_ = std::make_unique<CaptureSession>(config, *events_);
    } catch (const DeskcastError& e) {
      events_->close();
      events_ = nullptr;
      throwJs(env, e);
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &VideoSession::onEnvCleanup, this);
    cleanupHookAdded_ = true;
  }

  ~VideoSession() override { shutdown(); }

 private:
  // Process / worker exit: stop the thread before the environment goes away.
  static void onEnvCleanup(void* self) {
    auto* session = static_cast<VideoSession*>(self);
    session->cleanupHookAdded_ = false;
    session->shutdown();
  }

  void shutdown() {
    if (cleanupHookAdded_) {
      napi_remove_env_cleanup_hook(env_, &VideoSession::onEnvCleanup, this);
      cleanupHookAdded_ = false;
    }
    if (session_) session_->stop();  // joins the pipeline thread, releases every handle
    session_.reset();
    if (events_ != nullptr) {
      events_->close();
      events_ = nullptr;
    }
  }

  CaptureSession& live(Napi::Env env) {
    if (!session_) {
      throwJs(env, DeskcastError(errc::kSessionState,
                                 "this VideoSession was stopped; create a new VideoSession"));
    }
    return *session_;
  }

  Napi::Value start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    VideoStartInfo started;
    try {
      started = live(env).start();
    } catch (const DeskcastError& e) {
      throwJs(env, e);
    }
    events_->ref(env);
    Ref();  // a running session is not garbage-collected while its thread streams
    refed_ = true;
    Napi::Object result = Napi::Object::New(env);
    result.Set("encoder", started.encoder);
    result.Set("width", started.width);
    result.Set("height", started.height);
    Napi::Array skipped = Napi::Array::New(env, started.skipped.size());
    for (size_t i = 0; i < started.skipped.size(); i++) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("encoder", started.skipped[i].encoder);
      s.Set("reason", started.skipped[i].reason);
      skipped.Set(static_cast<uint32_t>(i), s);
    }
    result.Set("skipped", skipped);
    return result;
  }

  void reconfigure(const Napi::CallbackInfo& info) {
    VideoReconfigure changes = parseVideoReconfigure(info);
    try {
      live(info.Env()).reconfigure(changes);
    } catch (const DeskcastError& e) {
      throwJs(info.Env(), e);
    }
  }

  void setDestination(const Napi::CallbackInfo& info) {
    std::string host;
    uint16_t port;
    parseDestination(info, &host, &port);
    try {
      live(info.Env()).setDestination(host, port);
    } catch (const DeskcastError& e) {
      throwJs(info.Env(), e);
    }
  }

  void requestKeyframe(const Napi::CallbackInfo&) {
    if (session_) session_->requestKeyframe();
  }

  void stop(const Napi::CallbackInfo&) {
    if (session_) localPort_ = session_->localPort();
    shutdown();
    if (refed_) {
      refed_ = false;
      Unref();
    }
  }

  Napi::Value localPort(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), session_ ? session_->localPort() : localPort_);
  }

  std::unique_ptr<CaptureSession> session_;
  JsEventSink* events_ = nullptr;  // owned by its ThreadSafeFunction once closed
  napi_env env_ = nullptr;
  bool cleanupHookAdded_ = false;
  bool refed_ = false;
  uint16_t localPort_ = 0;
};

Napi::Object init(Napi::Env env, Napi::Object exports) {
  installXErrorHandlers();   // before any other Xlib use in this process
  installFfmpegLogCapture();  // FFmpeg never writes to our stderr
  exports.Set("VideoSession", VideoSession::define(env));
  exports.Set("AudioSession", defineAudioSession(env));
  exports.Set("__test", createTestBindings(env));
  return exports;
}

}  // namespace
}  // namespace deskcast

static Napi::Object InitDeskcastNative(Napi::Env env, Napi::Object exports) {
  return deskcast::init(env, exports);
}

NODE_API_MODULE(deskcast_native, InitDeskcastNative)
