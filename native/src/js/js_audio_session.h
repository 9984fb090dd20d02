// N-API binding: the `AudioSession` class (see audio/audio_session.h and
// server/native/nativeAddon.ts).
#pragma once

#include <napi.h>

namespace deskcast {

Napi::Function defineAudioSession(Napi::Env env);

}  // namespace deskcast
