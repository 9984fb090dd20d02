#include "js_audio_session.h"

#include <memory>

#include "audio_session.h"
#include "js_errors.h"
#include "js_event_sink.h"
#include "js_options.h"

namespace deskcast {
namespace {

// new AudioSession(options); start(); setDestination(host, port); stop(); localPort.
class JsAudioSession : public Napi::ObjectWrap<JsAudioSession> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "AudioSession",
                       {InstanceMethod<&JsAudioSession::start>("start"),
                        InstanceMethod<&JsAudioSession::setDestination>("setDestination"),
                        InstanceMethod<&JsAudioSession::stop>("stop"),
                        InstanceAccessor<&JsAudioSession::localPort>("localPort")});
  }

  explicit JsAudioSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsAudioSession>(info) {
    Napi::Env env = info.Env();
    Napi::Function onEvent;
    AudioSessionConfig config = parseAudioSessionOptions(info, &onEvent);
    events_ = JsEventSink::create(env, onEvent, "deskcast.AudioSession.onEvent");
    events_->unref(env);  // an unstarted session does not keep the process alive
    try {
      session_ = std::make_unique<AudioSession>(config, *events_);
    } catch (const DeskcastError& e) {
      events_->close();
      events_ = nullptr;
      throwJs(env, e);
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &JsAudioSession::onEnvCleanup, this);
    cleanupHookAdded_ = true;
  }

  ~JsAudioSession() override { shutdown(); }

 private:
  // Process / worker exit: stop the threads before the environment goes away.
  static void onEnvCleanup(void* self) {
    auto* session = static_cast<JsAudioSession*>(self);
    session->cleanupHookAdded_ = false;
    session->shutdown();
  }

  void shutdown() {
    if (cleanupHookAdded_) {
      napi_remove_env_cleanup_hook(env_, &JsAudioSession::onEnvCleanup, this);
      cleanupHookAdded_ = false;
    }
    if (session_) session_->stop();  // joins libpulse's and the control thread
    session_.reset();
    if (events_ != nullptr) {
      events_->close();
      events_ = nullptr;
    }
  }

  AudioSession& live(Napi::Env env) {
    if (!session_) {
      throwJs(env, DeskcastError(errc::kSessionState, "this AudioSession was stopped; create a new AudioSession"));
    }
    return *session_;
  }

  void start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      live(env).start();
    } catch (const DeskcastError& e) {
      throwJs(env, e);
    }
    events_->ref(env);
    Ref();  // a running session is not garbage-collected while it streams
    refed_ = true;
  }

  void setDestination(const Napi::CallbackInfo& info) {
    std::string host;
    uint16_t port;
    parseDestination(info, &host, &port, "AudioSession");
    try {
      live(info.Env()).setDestination(host, port);
    } catch (const DeskcastError& e) {
      throwJs(info.Env(), e);
    }
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

  std::unique_ptr<AudioSession> session_;
  JsEventSink* events_ = nullptr;  // owned by its ThreadSafeFunction once closed
  napi_env env_ = nullptr;
  bool cleanupHookAdded_ = false;
  bool refed_ = false;
  uint16_t localPort_ = 0;
};

}  // namespace

Napi::Function defineAudioSession(Napi::Env env) { return JsAudioSession::define(env); }

}  // namespace deskcast
