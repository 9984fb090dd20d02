// __test.openScreenSource({ capture, display?, waylandDisplay?, output?, drawCursor? }) → a
// handle that grabs synchronously on the JS thread (tests only): the capture backends' own
// behaviour (pixels, resizes, reconfiguration counts) without the encoder in between.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "capture/screen_source_factory.h"
#include "capture/wayland_screen_source.h"
#include "common/errors.h"
#include "js/js_errors.h"
#include "js/test_bindings.h"

namespace deskcast {
namespace {

std::string stringOr(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

const char* resultName(ScreenSource::GrabResult r) {
  switch (r) {
    case ScreenSource::GrabResult::kOk: return "ok";
    case ScreenSource::GrabResult::kResized: return "resized";
    case ScreenSource::GrabResult::kFailed: return "failed";
    case ScreenSource::GrabResult::kConnectionLost: return "lost";
  }
  return "?";
}

Napi::Value openScreenSource(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  ScreenSourceConfig config;
  config.backend = stringOr(o, "capture", "auto");
  config.display = stringOr(o, "display", "");
  config.waylandDisplay = stringOr(o, "waylandDisplay", "");
  config.output = stringOr(o, "output", "");
  config.drawCursor = !o.Has("drawCursor") || o.Get("drawCursor").ToBoolean();
  std::shared_ptr<ScreenSource> source;
  WaylandScreenSource* wayland = nullptr;  // for its counters (no RTTI in this build)
  try {
    using P = WaylandScreenSource::Protocol;
    if (config.backend == "wayland" || config.backend == "ext-image-copy-capture" || config.backend == "wlr-screencopy") {
      P p = config.backend == "wayland" ? P::kAuto
            : config.backend == "wlr-screencopy" ? P::kWlrScreencopy : P::kExtImageCopyCapture;
      auto w = std::make_shared<WaylandScreenSource>(config.waylandDisplay, config.output, config.drawCursor, p);
      wayland = w.get();
      source = w;
    } else {
      source = createScreenSource(config);
    }
    source->open();
  } catch (const DeskcastError& e) {
    Napi::Error error = Napi::Error::New(env, e.what());
    error.Set("code", e.code());
    throw error;
  }
  auto frame = std::make_shared<BgrxFrame>();
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("openInfo", source->openInfo());
  handle.Set("displayName", source->displayName());
  handle.Set("waitFd", source->waitFd());
  handle.Set("changeDriven", source->changeDriven());
  // grab() → { result, width, height, stride, presentedNs, lastError, full, dirty }
  handle.Set("grab", Napi::Function::New(env, [source, frame](const Napi::CallbackInfo& ci) {
    Napi::Env e = ci.Env();
    ScreenSource::GrabResult r = source->grab(frame.get());
    Napi::Object out = Napi::Object::New(e);
    out.Set("result", resultName(r));
    out.Set("width", frame->width);
    out.Set("height", frame->height);
    out.Set("stride", frame->stride);
    out.Set("presentedNs", static_cast<double>(frame->presentedNs));
    out.Set("lastError", source->lastError());
    // What this grab refreshed: everything, or the dirty rectangles (none: the same picture).
    out.Set("full", frame->full);
    Napi::Array dirty = Napi::Array::New(e, frame->full ? 0 : frame->dirtyCount);
    for (int i = 0; !frame->full && i < frame->dirtyCount; i++) {
      Napi::Object r = Napi::Object::New(e);
      r.Set("x", frame->dirty[i].x);
      r.Set("y", frame->dirty[i].y);
      r.Set("width", frame->dirty[i].width);
      r.Set("height", frame->dirty[i].height);
      dirty.Set(static_cast<uint32_t>(i), r);
    }
    out.Set("dirty", dirty);
    return out;
  }));
  // onWaitFdReadable(): dispatch what the compositor sent; true = a frame is wanted now.
  handle.Set("onWaitFdReadable", Napi::Function::New(env, [source](const Napi::CallbackInfo& ci) {
    return Napi::Boolean::New(ci.Env(), source->onWaitFdReadable());
  }));
  // pixel(x, y) of the last grab → 0xRRGGBB
  handle.Set("pixel", Napi::Function::New(env, [frame](const Napi::CallbackInfo& ci) {
    const int x = ci[0].As<Napi::Number>().Int32Value();
    const int y = ci[1].As<Napi::Number>().Int32Value();
    if (!frame->pixels || x < 0 || y < 0 || x >= frame->width || y >= frame->height) return ci.Env().Null();
    const uint8_t* p = frame->pixels + static_cast<ptrdiff_t>(y) * frame->stride + x * 4;
    return Napi::Number::New(ci.Env(), (p[2] << 16) | (p[1] << 8) | p[0]).As<Napi::Value>();
  }));
  // differing(0xRRGGBB) of the last grab → { count, x0, y0, x1, y1 }: how many pixels are not that
  // colour and their bounding box (x1, y1 exclusive; count 0: none). A cursor over a uniform
  // background is found this way without reading the picture into JS.
  handle.Set("differing", Napi::Function::New(env, [frame](const Napi::CallbackInfo& ci) {
    const uint32_t rgb = ci[0].As<Napi::Number>().Uint32Value() & 0xffffffu;
    double count = 0;
    int x0 = frame->width, y0 = frame->height, x1 = 0, y1 = 0;
    for (int y = 0; frame->pixels && y < frame->height; y++) {
      const auto* row = reinterpret_cast<const uint32_t*>(frame->pixels + static_cast<ptrdiff_t>(y) * frame->stride);
      for (int x = 0; x < frame->width; x++) {
        if ((row[x] & 0xffffffu) == rgb) continue;
        count++;
        if (x < x0) x0 = x;
        if (x + 1 > x1) x1 = x + 1;
        if (y < y0) y0 = y;
        y1 = y + 1;
      }
    }
    Napi::Object out = Napi::Object::New(ci.Env());
    out.Set("count", count);
    out.Set("x0", count > 0 ? x0 : 0);
    out.Set("y0", count > 0 ? y0 : 0);
    out.Set("x1", x1);
    out.Set("y1", y1);
    return out;
  }));
  handle.Set("counters", Napi::Function::New(env, [source, wayland](const Napi::CallbackInfo& ci) {
    Napi::Object out = Napi::Object::New(ci.Env());
    if (auto* w = wayland) {
      out.Set("framesCopied", static_cast<double>(w->framesCopied()));
      out.Set("reconfigurations", static_cast<double>(w->reconfigurations()));
    }
    return out;
  }));
  return handle;
}

}  // namespace

void addCaptureTestBindings(Napi::Env env, Napi::Object t) {
  t.Set("openScreenSource", Napi::Function::New(env, openScreenSource));
}

}  // namespace deskcast
