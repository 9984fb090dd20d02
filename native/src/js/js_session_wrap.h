// The lifecycle shared by the N-API session classes (`VideoSession`, `AudioSession`): the event
// sink, the native session, the env cleanup hook, Ref()/Unref() while running, and the common
// methods (setDestination, stop, localPort). A derived class supplies only what differs:
//   static constexpr const char* kClassName;  // JS class name, used in messages
//   static Config parseOptions(const Napi::CallbackInfo&, Napi::Function* onEvent);
// plus its method table and its session-specific methods.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/errors.h"
#include "js/js_errors.h"
#include "js/js_event_sink.h"
#include "js/js_options.h"

namespace deskcast {

template <typename Derived, typename Session>
class JsSessionWrap : public Napi::ObjectWrap<Derived> {
  using Wrap = Napi::ObjectWrap<Derived>;

 public:
  explicit JsSessionWrap(const Napi::CallbackInfo& info) : Wrap(info) {
    Napi::Env env = info.Env();
    Napi::Function onEvent;
    auto config = Derived::parseOptions(info, &onEvent);
    events_ = JsEventSink::create(
        env, onEvent, (std::string("deskcast.") + Derived::kClassName + ".onEvent").c_str());
    events_->unref(env);  // an unstarted session does not keep the process alive
    try {
      session_ = std::make_unique<Session>(config, *events_);
    } catch (const DeskcastError& e) {
      events_->close();
      events_ = nullptr;
      throwJs(env, e);
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &JsSessionWrap::onEnvCleanup, this);
    cleanupHookAdded_ = true;
  }

  ~JsSessionWrap() override { shutdown(); }

 protected:
  // Entries for the derived class's method table. The base's members become Derived member
  // pointers at run time: GCC rejects that conversion in the compile-time overloads.
  static typename Wrap::PropertyDescriptor setDestinationMethod() {
    return Wrap::InstanceMethod("setDestination",
                                static_cast<VoidMethod>(&JsSessionWrap::setDestination));
  }
  static typename Wrap::PropertyDescriptor stopMethod() {
    return Wrap::InstanceMethod("stop", static_cast<VoidMethod>(&JsSessionWrap::stop));
  }
  static typename Wrap::PropertyDescriptor localPortAccessor() {
    return Wrap::InstanceAccessor("localPort", static_cast<Getter>(&JsSessionWrap::localPort),
                                  nullptr);
  }

  // Runs `fn(session)` on the live session; DeskcastError becomes a JS exception with `code`.
  template <typename Fn>
  decltype(auto) callLive(Napi::Env env, Fn&& fn) {
    try {
      return std::forward<Fn>(fn)(live(env));
    } catch (const DeskcastError& e) {
      throwJs(env, e);
    }
  }

  // After a successful start(): a running session keeps the event loop alive and is not
  // garbage-collected while its threads stream.
  void keepAliveWhileRunning(Napi::Env env) {
    events_->ref(env);
    this->Ref();
    refed_ = true;
  }

  Session* session() { return session_.get(); }  // null once stopped

 private:
  using VoidMethod = void (Derived::*)(const Napi::CallbackInfo&);
  using Getter = Napi::Value (Derived::*)(const Napi::CallbackInfo&);

  // Process / worker exit: stop the threads before the environment goes away.
  static void onEnvCleanup(void* self) {
    auto* wrap = static_cast<JsSessionWrap*>(self);
    wrap->cleanupHookAdded_ = false;
    wrap->shutdown();
  }

  void shutdown() {
    if (cleanupHookAdded_) {
      napi_remove_env_cleanup_hook(env_, &JsSessionWrap::onEnvCleanup, this);
      cleanupHookAdded_ = false;
    }
    if (session_) session_->stop();  // joins the session's threads, releases every handle
    session_.reset();
    if (events_ != nullptr) {
      events_->close();
      events_ = nullptr;
    }
  }

  Session& live(Napi::Env env) {
    if (!session_) {
      throwJs(env, DeskcastError(errc::kSessionState,
                                 std::string("this ") + Derived::kClassName +
                                     " was stopped; create a new " + Derived::kClassName));
    }
    return *session_;
  }

  void setDestination(const Napi::CallbackInfo& info) {
    std::string host;
    uint16_t port;
    parseDestination(info, &host, &port, Derived::kClassName);
    callLive(info.Env(), [&](Session& s) { s.setDestination(host, port); });
  }

  void stop(const Napi::CallbackInfo&) {
    if (session_) localPort_ = session_->localPort();
    shutdown();
    if (refed_) {
      refed_ = false;
      this->Unref();
    }
  }

  Napi::Value localPort(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), session_ ? session_->localPort() : localPort_);
  }

  std::unique_ptr<Session> session_;
  JsEventSink* events_ = nullptr;  // owned by its ThreadSafeFunction once closed
  napi_env env_ = nullptr;
  bool cleanupHookAdded_ = false;
  bool refed_ = false;
  uint16_t localPort_ = 0;
};

}  // namespace deskcast
