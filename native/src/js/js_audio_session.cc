#include "js/js_audio_session.h"

#include "audio/audio_session.h"
#include "js/js_options.h"
#include "js/js_session_wrap.h"

namespace deskcast {
namespace {

// new AudioSession(options); start(); setDestination(host, port); stop(); localPort.
// The lifecycle lives in JsSessionWrap.
class JsAudioSession : public JsSessionWrap<JsAudioSession, AudioSession> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, kClassName,
                       {InstanceMethod<&JsAudioSession::start>("start"), setDestinationMethod(),
                        stopMethod(), localPortAccessor()});
  }

  explicit JsAudioSession(const Napi::CallbackInfo& info) : JsSessionWrap(info) {}

 private:
  friend JsSessionWrap;
  static constexpr const char* kClassName = "AudioSession";
  static AudioSessionConfig parseOptions(const Napi::CallbackInfo& info, Napi::Function* onEvent) {
    return parseAudioSessionOptions(info, onEvent);
  }

  void start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    callLive(env, [](AudioSession& s) { s.start(); });
    keepAliveWhileRunning(env);
  }
};

}  // namespace

Napi::Function defineAudioSession(Napi::Env env) { return JsAudioSession::define(env); }

}  // namespace deskcast
