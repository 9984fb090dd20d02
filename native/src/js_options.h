// Validation of JS arguments into native configuration. Bad input throws a Napi::TypeError
// (code ERR_INVALID_OPTION) that names the option, the accepted range and what was passed.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "capture_session.h"

namespace deskcast {

VideoSessionConfig parseVideoSessionOptions(const Napi::CallbackInfo& info,
                                            Napi::Function* onEvent);
VideoReconfigure parseVideoReconfigure(const Napi::CallbackInfo& info);
void parseDestination(const Napi::CallbackInfo& info, std::string* host, uint16_t* port);

// Throws a JS TypeError with code ERR_INVALID_OPTION.
[[noreturn]] void throwInvalidOption(Napi::Env env, const std::string& message);

}  // namespace deskcast
