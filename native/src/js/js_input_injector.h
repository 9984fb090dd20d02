// N-API binding: the `InputInjector` class (remote control; see input/input_injector.h and
// server/capture/nativeAddon.ts).
#pragma once

#include <napi.h>

namespace deskcast {

Napi::Function defineInputInjector(Napi::Env env);

}  // namespace deskcast
