#include "js/js_video_session.h"

#include "js/js_options.h"
#include "js/js_session_wrap.h"
#include "video/video_session.h"

namespace deskcast {
namespace {

// new VideoSession(options) validates only; start() → Promise<VideoStartInfo> opens the
// display, the encoder and the socket on a worker thread; reconfigure(changes);
// setDestination(host, port); requestKeyframe(); stop(); localPort. The lifecycle lives in
// JsSessionWrap.
class JsVideoSession : public JsSessionWrap<JsVideoSession, VideoSession> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {InstanceMethod<&JsVideoSession::start>("start"),
                        InstanceMethod<&JsVideoSession::reconfigure>("reconfigure"),
                        setDestinationMethod(),
                        InstanceMethod<&JsVideoSession::requestKeyframe>("requestKeyframe"),
                        InstanceMethod<&JsVideoSession::setVp8Enabled>("setVp8Enabled"),
                        stopMethod(),
                        localPortAccessor()});
  }

  explicit JsVideoSession(const Napi::CallbackInfo& info) : JsSessionWrap(info) {}

 private:
  friend JsSessionWrap;
  static constexpr const char* kClassName = "VideoSession";
  static VideoSessionConfig parseOptions(const Napi::CallbackInfo& info, Napi::Function* onEvent) {
    return parseVideoSessionOptions(info, onEvent);
  }

  static Napi::Value startResultToJs(Napi::Env env, const VideoStartInfo& started) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("encoder", started.encoder);
    result.Set("backend", started.backend);
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

  Napi::Value start(const Napi::CallbackInfo& info) { return startOnWorker(info); }

  void reconfigure(const Napi::CallbackInfo& info) {
    VideoReconfigure changes = parseVideoReconfigure(info);
    callLive(info.Env(), [&](VideoSession& s) { s.reconfigure(changes); });
  }

  void setVp8Enabled(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsBoolean()) {
      throwInvalidOption(info.Env(), "VideoSession.setVp8Enabled(enabled) expects a boolean");
    }
    bool enabled = info[0].As<Napi::Boolean>().Value();
    callLive(info.Env(), [&](VideoSession& s) { s.setVp8Enabled(enabled); });
  }

  void requestKeyframe(const Napi::CallbackInfo&) {
    if (session() != nullptr) session()->requestKeyframe();
  }
};

}  // namespace

Napi::Function defineVideoSession(Napi::Env env) { return JsVideoSession::define(env); }

}  // namespace deskcast
