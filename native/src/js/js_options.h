// Validation of JS arguments into native configuration. Bad input throws a Napi::TypeError
// (code ERR_INVALID_OPTION) that names the option, the accepted range and what was passed.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "audio/audio_session.h"
#include "input/injector_thread.h"
#include "video/video_session.h"

namespace deskcast {

VideoSessionConfig parseVideoSessionOptions(const Napi::CallbackInfo& info,
                                            Napi::Function* onEvent);
VideoReconfigure parseVideoReconfigure(const Napi::CallbackInfo& info);
AudioSessionConfig parseAudioSessionOptions(const Napi::CallbackInfo& info,
                                            Napi::Function* onEvent);
// setDestination(host, port); `className` prefixes the error messages.
void parseDestination(const Napi::CallbackInfo& info, std::string* host, uint16_t* port,
                      const char* className = "VideoSession");

struct InputInjectorConfig {
  std::string display;  // X11
  bool wayland = false;  // backend: 'wayland'
  std::string waylandDisplay;
  std::string output;
  std::string xkbLayout = "us";
  std::string xkbVariant;
};
// new InputInjector({ display, onEvent? }); `onEvent` stays empty when not given.
InputInjectorConfig parseInputInjectorOptions(const Napi::CallbackInfo& info,
                                              Napi::Function* onEvent);
// InputInjector.key({ id, keysym, keycode, down, mode }) → a kKey command.
InputCommand parseKeyCommand(const Napi::CallbackInfo& info);

// Positional arguments of a method call; `what` is e.g. "InputInjector.button: button".
double numberArgument(const Napi::CallbackInfo& info, size_t index, double min, double max,
                      const std::string& what);
int64_t integerArgument(const Napi::CallbackInfo& info, size_t index, int64_t min, int64_t max,
                        const std::string& what);
bool booleanArgument(const Napi::CallbackInfo& info, size_t index, const std::string& what);

// Throws a JS TypeError with code ERR_INVALID_OPTION.
[[noreturn]] void throwInvalidOption(Napi::Env env, const std::string& message);

}  // namespace deskcast
