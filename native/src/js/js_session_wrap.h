// The lifecycle shared by the N-API session classes (`VideoSession`, `AudioSession`): the event
// sink, the native session, the env cleanup hook, Ref()/Unref() while running, the common
// methods (setDestination, stop, localPort), and a start() run on a worker thread for sessions
// whose start blocks. A derived class supplies only what differs:
//   static constexpr const char* kClassName;  // JS class name, used in messages
//   static Config parseOptions(const Napi::CallbackInfo&, Napi::Function* onEvent);
//   static Napi::Value startResultToJs(Napi::Env, const StartResult&);  // with startOnWorker()
// plus its method table and its session-specific methods.
#pragma once

#include <napi.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
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
      session_ = std::make_shared<Session>(config, *events_);
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

  // start() for a session whose start() blocks (display server, encoder probing): runs it on
  // a libuv worker thread and returns a Promise for Derived::startResultToJs(result); a
  // DeskcastError rejects it with `code`. A failed start releases the session (as stop()).
  // stop() meanwhile cancels: the promise rejects (ERR_SESSION_STATE) once the half-opened
  // session has been released, so a new session may be created as soon as it settles.
  Napi::Value startOnWorker(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!session_ || stopping_) {
      return rejected(env, DeskcastError(errc::kSessionState, stoppedMessage()));
    }
    if (startCalled_) {
      return rejected(env, DeskcastError(errc::kSessionState,
                                         std::string(Derived::kClassName) +
                                             ".start() was already called"));
    }
    startCalled_ = true;
    pending_ = std::make_shared<PendingStart>(
        PendingStart{this, [](Session& session) { session.cancelStart(); }});
    this->Ref();  // not collected while the worker uses the session
    auto* worker = new StartWorker(env, session_, pending_);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  Session* session() { return session_.get(); }  // null once stopped

 private:
  using VoidMethod = void (Derived::*)(const Napi::CallbackInfo&);
  using Getter = Napi::Value (Derived::*)(const Napi::CallbackInfo&);

  // Links a start worker to its wrapper; `wrap` is cleared (JS thread) when the wrapper shuts
  // down first (env teardown), so the worker then only settles its promise.
  struct PendingStart {
    JsSessionWrap* wrap;
    void (*cancel)(Session&);  // only sessions started on a worker have cancelStart()
  };

  class StartWorker final : public Napi::AsyncWorker {
   public:
    using Result = decltype(std::declval<Session&>().start());

    StartWorker(Napi::Env env, std::shared_ptr<Session> session,
                std::shared_ptr<PendingStart> pending)
        : Napi::AsyncWorker(env, (std::string("deskcast.") + Derived::kClassName + ".start").c_str()),
          session_(std::move(session)),
          pending_(std::move(pending)),
          deferred_(Napi::Promise::Deferred::New(env)) {}

    Napi::Promise promise() const { return deferred_.Promise(); }

   private:
    void Execute() override {  // worker thread: the blocking part
      try {
        result_ = session_->start();
      } catch (const DeskcastError& e) {
        error_ = e;
      } catch (const std::exception& e) {
        error_ = DeskcastError(errc::kInternal, std::string("start failed: ") + e.what());
      }
    }

    void OnOK() override {  // JS thread
      JsSessionWrap* wrap = pending_->wrap;
      // The wrapper was shut down by env teardown: JS can no longer run, and no one is left to
      // observe the promise (the session already stopped).
      if (wrap == nullptr) return;
      Napi::Env env = Env();
      const bool stands = wrap->finishStart(env, result_.has_value());
      try {
        if (stands) {
          deferred_.Resolve(Derived::startResultToJs(env, *result_));
        } else {
          deferred_.Reject(toJsError(env, error_.value_or(DeskcastError(
                                              errc::kSessionState, Session::kStoppedWhileStarting)))
                               .Value());
        }
      } catch (const Napi::Error&) {
        // Only when the environment is terminating (JS cannot run): nothing to settle for.
      }
    }

    std::shared_ptr<Session> session_;
    std::shared_ptr<PendingStart> pending_;
    Napi::Promise::Deferred deferred_;
    std::optional<Result> result_;
    std::optional<DeskcastError> error_;
  };

  // JS thread, when the start worker is done. Returns whether the session now runs; otherwise
  // (start failed, or stop() came meanwhile) it has been shut down.
  bool finishStart(Napi::Env env, bool started) {
    pending_.reset();
    this->Unref();
    if (started && !stopping_) {
      keepAliveWhileRunning(env);
      return true;
    }
    shutdown();
    return false;
  }

  static Napi::Value rejected(Napi::Env env, const DeskcastError& e) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(toJsError(env, e).Value());
    return deferred.Promise();
  }

  static std::string stoppedMessage() {
    return std::string("this ") + Derived::kClassName + " was stopped; create a new " +
           Derived::kClassName;
  }

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
    if (pending_) {  // env teardown during a start: the worker settles its promise on its own
      pending_->wrap = nullptr;
      pending_.reset();
    }
    // Joins the session's threads and releases every handle. Only at env teardown can a start
    // still be running here (stop() defers to the worker instead): then this waits for it.
    if (session_) session_->stop();
    session_.reset();
    if (events_ != nullptr) {
      events_->close();
      events_ = nullptr;
    }
  }

  Session& live(Napi::Env env) {
    if (!session_ || stopping_) throwJs(env, DeskcastError(errc::kSessionState, stoppedMessage()));
    return *session_;
  }

  void setDestination(const Napi::CallbackInfo& info) {
    std::string host;
    uint16_t port;
    parseDestination(info, &host, &port, Derived::kClassName);
    callLive(info.Env(), [&](Session& s) { s.setDestination(host, port); });
  }

  void stop(const Napi::CallbackInfo&) {
    if (pending_) {  // never block on the opening: the start worker shuts down when it returns
      stopping_ = true;
      pending_->cancel(*session_);
      return;
    }
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

  std::shared_ptr<Session> session_;  // shared with a start worker while it runs
  std::shared_ptr<PendingStart> pending_;  // set while a start worker runs
  bool startCalled_ = false;
  bool stopping_ = false;  // stop() came while a start worker runs
  JsEventSink* events_ = nullptr;  // owned by its ThreadSafeFunction once closed
  napi_env env_ = nullptr;
  bool cleanupHookAdded_ = false;
  bool refed_ = false;
  uint16_t localPort_ = 0;
};

}  // namespace deskcast
