#include "js/js_input_injector.h"

#include <cmath>
#include <memory>
#include <string>

#include "common/errors.h"
#include "input/injector_thread.h"
#include "input/wayland_input_injector.h"
#include "input/x11_input_injector.h"
#include "js/js_errors.h"
#include "js/js_event_sink.h"
#include "js/js_options.h"

namespace deskcast {
namespace {

constexpr size_t kMaxTextCodepoints = 256;
// Far beyond any screen: the injector clamps to the screen; this only rejects nonsense.
constexpr double kMaxCoordinate = 1'000'000;

// new InputInjector({ display, onEvent? }) validates only; start() connects off the JS thread.
// Input methods queue a command and return at once (true, or false if the queue was full).
// A started injector does not keep the process alive; process exit (env cleanup) stops it.
class JsInputInjector : public Napi::ObjectWrap<JsInputInjector> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "InputInjector",
                       {InstanceMethod<&JsInputInjector::start>("start"),
                        InstanceMethod<&JsInputInjector::pointerMove>("pointerMove"),
                        InstanceMethod<&JsInputInjector::pointerMoveRelative>("pointerMoveRelative"),
                        InstanceMethod<&JsInputInjector::button>("button"),
                        InstanceMethod<&JsInputInjector::scroll>("scroll"),
                        InstanceMethod<&JsInputInjector::key>("key"),
                        InstanceMethod<&JsInputInjector::text>("text"),
                        InstanceMethod<&JsInputInjector::releaseAll>("releaseAll"),
                        InstanceMethod<&JsInputInjector::stop>("stop"),
                        InstanceMethod<&JsInputInjector::stats>("stats")});
  }

  explicit JsInputInjector(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsInputInjector>(info) {
    Napi::Env env = info.Env();
    Napi::Function onEvent;
    InputInjectorConfig config = parseInputInjectorOptions(info, &onEvent);
    config_ = config;
    if (onEvent.IsEmpty()) onEvent = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
    events_ = JsEventSink::create(env, onEvent, "deskcast.InputInjector.onEvent");
    events_->unref(env);  // the injector never holds the process open
    injector_ = std::make_shared<InjectorThread>(*events_);
    env_ = env;
    napi_add_env_cleanup_hook(env, &JsInputInjector::onEnvCleanup, this);
    cleanupHookAdded_ = true;
  }

  ~JsInputInjector() override { shutdown(); }

 private:
  // Connects on libuv's pool, then starts the injector thread on the JS thread.
  class StartWorker : public Napi::AsyncWorker {
   public:
    StartWorker(Napi::Env env, JsInputInjector* owner)
        : Napi::AsyncWorker(env, "deskcast.InputInjector.start"),
          deferred_(Napi::Promise::Deferred::New(env)),
          injector_(owner->injector_),
          config_(owner->config_),
          owner_(Napi::Persistent(owner->Value())) {}
    Napi::Promise promise() const { return deferred_.Promise(); }

   protected:
    void Execute() override {
      try {
        injector_->open([this](EventSink& events) -> std::unique_ptr<InputInjector> {
          if (config_.wayland) {
            WaylandInjectorConfig wc;
            wc.socket = config_.waylandDisplay;
            wc.output = config_.output;
            wc.xkbLayout = config_.xkbLayout;
            wc.xkbVariant = config_.xkbVariant;
            return WaylandInputInjector::open(wc, events);
          }
          return X11InputInjector::open(config_.display, events);
        });
      } catch (const DeskcastError& e) {
        code_ = e.code();
        SetError(e.what());
      } catch (const std::exception& e) {
        code_ = errc::kInternal;
        SetError(e.what());
      }
    }
    void OnOK() override {
      if (!injector_->startThread()) {
        reject(errc::kSessionState, "the InputInjector was stopped before it started");
        return;
      }
      deferred_.Resolve(Env().Undefined());
    }
    void OnError(const Napi::Error& e) override { reject(code_, e.Message()); }

   private:
    void reject(const std::string& code, const std::string& message) {
      Napi::Error error = Napi::Error::New(Env(), message);
      error.Set("code", code);
      deferred_.Reject(error.Value());
    }
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<InjectorThread> injector_;
    InputInjectorConfig config_;
    std::string code_;
    Napi::ObjectReference owner_;  // keeps the JS object alive while connecting
  };

  static void onEnvCleanup(void* self) {
    auto* wrap = static_cast<JsInputInjector*>(self);
    wrap->cleanupHookAdded_ = false;
    wrap->shutdown();
  }

  // Releases everything the viewer holds, removes temporary keysym bindings, disconnects.
  void shutdown() {
    if (cleanupHookAdded_) {
      napi_remove_env_cleanup_hook(env_, &JsInputInjector::onEnvCleanup, this);
      cleanupHookAdded_ = false;
    }
    if (injector_) {
      injector_->stop();
      lastStats_ = injector_->stats();
    }
    injector_.reset();
    if (events_ != nullptr) {
      events_->close();
      events_ = nullptr;
    }
  }

  InjectorThread& live(Napi::Env env) {
    if (!injector_) {
      throwJs(env, DeskcastError(errc::kSessionState,
                                 "this InputInjector was stopped; create a new InputInjector"));
    }
    return *injector_;
  }

  Napi::Value push(Napi::Env env, const InputCommand* commands, size_t count) {
    return Napi::Boolean::New(env, live(env).push(commands, count));
  }

  Napi::Value start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    if (started_) {
      throwJs(env, DeskcastError(errc::kSessionState, "InputInjector.start() was already called"));
    }
    started_ = true;
    auto* worker = new StartWorker(env, this);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  Napi::Value pointerMove(const Napi::CallbackInfo& info) {
    InputCommand c;
    c.type = InputCommand::Type::kPointerAbsolute;
    c.x = static_cast<int32_t>(std::lround(numberArgument(info, 0, -kMaxCoordinate, kMaxCoordinate, "InputInjector.pointerMove: x")));
    c.y = static_cast<int32_t>(std::lround(numberArgument(info, 1, -kMaxCoordinate, kMaxCoordinate, "InputInjector.pointerMove: y")));
    return push(info.Env(), &c, 1);
  }

  Napi::Value pointerMoveRelative(const Napi::CallbackInfo& info) {
    InputCommand c;
    c.type = InputCommand::Type::kPointerRelative;
    c.x = static_cast<int32_t>(std::lround(numberArgument(info, 0, -kMaxCoordinate, kMaxCoordinate, "InputInjector.pointerMoveRelative: dx")));
    c.y = static_cast<int32_t>(std::lround(numberArgument(info, 1, -kMaxCoordinate, kMaxCoordinate, "InputInjector.pointerMoveRelative: dy")));
    return push(info.Env(), &c, 1);
  }

  Napi::Value button(const Napi::CallbackInfo& info) {
    InputCommand c;
    c.type = InputCommand::Type::kButton;
    c.x = static_cast<int32_t>(integerArgument(info, 0, 1, 9, "InputInjector.button: button"));
    c.down = booleanArgument(info, 1, "InputInjector.button: down");
    return push(info.Env(), &c, 1);
  }

  Napi::Value scroll(const Napi::CallbackInfo& info) {
    InputCommand c;
    c.type = InputCommand::Type::kScroll;
    c.x = static_cast<int32_t>(integerArgument(info, 0, -100, 100, "InputInjector.scroll: dxClicks"));
    c.y = static_cast<int32_t>(integerArgument(info, 1, -100, 100, "InputInjector.scroll: dyClicks"));
    return push(info.Env(), &c, 1);
  }

  Napi::Value key(const Napi::CallbackInfo& info) {
    InputCommand c = parseKeyCommand(info);
    return push(info.Env(), &c, 1);
  }

  // Text from an input method (UTF-16 from JS) → code points, in commands of kMaxTextChunk.
  Napi::Value text(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      throwInvalidOption(env, "InputInjector.text: text must be a string");
    }
    std::u16string utf16 = info[0].As<Napi::String>().Utf16Value();
    InputCommand commands[(kMaxTextCodepoints + InputCommand::kMaxTextChunk - 1) / InputCommand::kMaxTextChunk];
    size_t count = 0;
    size_t codepoints = 0;
    for (size_t i = 0; i < utf16.size(); i++) {
      char32_t cp = utf16[i];
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < utf16.size() && utf16[i + 1] >= 0xdc00 && utf16[i + 1] <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (utf16[++i] - 0xdc00);
      } else if (cp >= 0xd800 && cp <= 0xdfff) {
        throwInvalidOption(env, "InputInjector.text: text has an unpaired UTF-16 surrogate at index " + std::to_string(i));
      }
      if (++codepoints > kMaxTextCodepoints) {
        throwInvalidOption(env, "InputInjector.text: text must be at most " + std::to_string(kMaxTextCodepoints) +
                                    " characters per call (got " + std::to_string(utf16.size()) + " UTF-16 units)");
      }
      if (count == 0 || commands[count - 1].textLength == InputCommand::kMaxTextChunk) {
        commands[count].type = InputCommand::Type::kText;
        commands[count].textLength = 0;
        count++;
      }
      InputCommand& c = commands[count - 1];
      c.text[c.textLength++] = cp;
    }
    if (count == 0) {
      live(env);
      return Napi::Boolean::New(env, true);
    }
    return push(env, commands, count);
  }

  Napi::Value releaseAll(const Napi::CallbackInfo& info) {
    InputCommand c;
    c.type = InputCommand::Type::kReleaseAll;
    return push(info.Env(), &c, 1);
  }

  void stop(const Napi::CallbackInfo&) { shutdown(); }

  Napi::Value stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    InjectorStats s = injector_ ? injector_->stats() : lastStats_;
    o.Set("commandsQueued", static_cast<double>(s.commandsQueued));
    o.Set("commandsDropped", static_cast<double>(s.commandsDropped));
    return o;
  }

  InputInjectorConfig config_;
  JsEventSink* events_ = nullptr;  // owned by its ThreadSafeFunction once closed
  std::shared_ptr<InjectorThread> injector_;
  InjectorStats lastStats_;
  napi_env env_ = nullptr;
  bool cleanupHookAdded_ = false;
  bool started_ = false;
};

}  // namespace

Napi::Function defineInputInjector(Napi::Env env) { return JsInputInjector::define(env); }

}  // namespace deskcast
