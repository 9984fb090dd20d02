// N-API bindings: exports `VideoSession`, `AudioSession` (js_audio_session.cc), `InputInjector`
// (js_input_injector.cc) and `__test` (test-only helpers).
#include <napi.h>

#include "video/capture_session.h"
#include "video/ffmpeg_util.h"
#include "js/js_audio_session.h"
#include "js/js_input_injector.h"
#include "js/js_options.h"
#include "js/js_session_wrap.h"
#include "js/test_bindings.h"
#include "x11/x11_display.h"

namespace deskcast {
namespace {

// new VideoSession(options); start(); reconfigure(changes); setDestination(host, port);
// requestKeyframe(); stop(); localPort. The lifecycle lives in JsSessionWrap.
class VideoSession : public JsSessionWrap<VideoSession, CaptureSession> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {InstanceMethod<&VideoSession::start>("start"),
                        InstanceMethod<&VideoSession::reconfigure>("reconfigure"),
                        setDestinationMethod(),
                        InstanceMethod<&VideoSession::requestKeyframe>("requestKeyframe"),
                        stopMethod(),
                        localPortAccessor()});
  }

  explicit VideoSession(const Napi::CallbackInfo& info) : JsSessionWrap(info) {}

 private:
  friend JsSessionWrap;
  static constexpr const char* kClassName = "VideoSession";
  static VideoSessionConfig parseOptions(const Napi::CallbackInfo& info, Napi::Function* onEvent) {
    return parseVideoSessionOptions(info, onEvent);
  }

  Napi::Value start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    VideoStartInfo started = callLive(env, [](CaptureSession& s) { return s.start(); });
    keepAliveWhileRunning(env);
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
    callLive(info.Env(), [&](CaptureSession& s) { s.reconfigure(changes); });
  }

  void requestKeyframe(const Napi::CallbackInfo&) {
    if (session() != nullptr) session()->requestKeyframe();
  }
};

Napi::Object init(Napi::Env env, Napi::Object exports) {
  installXErrorHandlers();   // before any other Xlib use in this process
  installFfmpegLogCapture();  // FFmpeg never writes to our stderr
  exports.Set("VideoSession", VideoSession::define(env));
  exports.Set("AudioSession", defineAudioSession(env));
  exports.Set("InputInjector", defineInputInjector(env));
  exports.Set("__test", createTestBindings(env));
  return exports;
}

}  // namespace
}  // namespace deskcast

static Napi::Object InitDeskcastNative(Napi::Env env, Napi::Object exports) {
  return deskcast::init(env, exports);
}

NODE_API_MODULE(deskcast_native, InitDeskcastNative)
