// Module init: exports `VideoSession` (js_video_session.cc), `AudioSession`
// (js_audio_session.cc), `InputInjector` (js_input_injector.cc) and `__test` (test-only helpers).
#include <napi.h>

#include "js/js_audio_session.h"
#include "js/js_input_injector.h"
#include "js/js_video_session.h"
#include "js/test_bindings.h"
#include "video/ffmpeg_util.h"
#include "x11/x11_display.h"

namespace deskcast {
namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  installXErrorHandlers();   // before any other Xlib use in this process
  installFfmpegLogCapture();  // FFmpeg never writes to our stderr
  exports.Set("VideoSession", defineVideoSession(env));
  exports.Set("AudioSession", defineAudioSession(env));
  exports.Set("InputInjector", defineInputInjector(env));
  exports.Set("__test", createTestBindings(env));
  return exports;
}

}  // namespace
}  // namespace deskcast

static Napi::Object InitDeskcastNative(Napi::Env env, Napi::Object exports) {
  return deskcast::init(env, exports);
}

NODE_API_MODULE(deskcast_native, InitDeskcastNative)
