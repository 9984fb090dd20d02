// Validation of JS arguments into native configuration. Bad input throws a Napi::TypeError
// (code ERR_INVALID_OPTION) that names the option, the accepted range and what was passed.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "audio/audio_session.h"
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

// Throws a JS TypeError with code ERR_INVALID_OPTION.
[[noreturn]] void throwInvalidOption(Napi::Env env, const std::string& message);

}  // namespace deskcast
