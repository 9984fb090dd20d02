// N-API binding: the `VideoSession` class (see video/video_session.h and
// server/native/nativeAddon.ts).
#pragma once

#include <napi.h>

namespace deskcast {

Napi::Function defineVideoSession(Napi::Env env);

}  // namespace deskcast
