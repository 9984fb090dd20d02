// `__test`: test-only exports that expose pure native components (packetizer, RTCP, media
// clock) and an H.264 decoder to verify bitstreams, so vitest can test them without mocks.
// Not part of the public API.
#pragma once

#include <napi.h>

namespace deskcast {

Napi::Object createTestBindings(Napi::Env env);
// keysym ↔ Unicode and the XKB level search (test_bindings_input.cc).
void addInputTestBindings(Napi::Env env, Napi::Object testBindings);
// A screen source driven directly: open, grab, sample pixels (test_bindings_capture.cc).
void addCaptureTestBindings(Napi::Env env, Napi::Object testBindings);

}  // namespace deskcast
