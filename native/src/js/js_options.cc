#include "js/js_options.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "common/errors.h"
#include "rtp/rtcp.h"

namespace deskcast {
namespace {

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    std::ostringstream s;
    s << v.As<Napi::Number>().DoubleValue();
    return s.str();
  }
  if (v.IsString()) {
    std::string text = v.As<Napi::String>().Utf8Value();
    if (text.size() > 40) text = text.substr(0, 40) + "...";
    return "'" + text + "'";
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsFunction()) return "a function";
  if (v.IsArray()) return "an array";
  return "an object";
}

class Reader {
 public:
  Reader(Napi::Env env, Napi::Object object, std::string prefix)
      : env_(env), object_(object), prefix_(std::move(prefix)) {}

  void rejectUnknownKeys(const std::set<std::string>& allowed) {
    Napi::Array keys = object_.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string key = keys.Get(i).ToString().Utf8Value();
      if (allowed.count(key) == 0) {
        std::string list;
        for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
        throwInvalidOption(env_, prefix_ + "unknown option '" + key + "' (accepted: " + list + ")");
      }
    }
  }

  bool has(const char* key) {
    return object_.Has(key) && !object_.Get(key).IsUndefined();
  }

  std::string string(const char* key, size_t maxLength) {
    Napi::Value v = object_.Get(key);
    if (!v.IsString() || v.As<Napi::String>().Utf8Value().empty()) {
      fail(key, "must be a non-empty string", v);
    }
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > maxLength) fail(key, "must be at most " + std::to_string(maxLength) + " bytes", v);
    return s;
  }

  // A string that may be empty ('' selects a default).
  std::string optionalString(const char* key, size_t maxLength, const char* emptyMeans) {
    Napi::Value v = object_.Get(key);
    if (!v.IsString()) fail(key, std::string("must be a string ('' = ") + emptyMeans + ")", v);
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > maxLength) fail(key, "must be at most " + std::to_string(maxLength) + " bytes", v);
    if (s.find('\0') != std::string::npos) fail(key, "must not contain NUL characters", v);
    return s;
  }

  double number(const char* key, double min, double max) {
    Napi::Value v = object_.Get(key);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || d < min || d > max) {
      std::ostringstream range;
      range << "must be a number between " << min << " and " << max;
      fail(key, range.str(), v);
    }
    return d;
  }

  int64_t integer(const char* key, int64_t min, int64_t max) {
    Napi::Value v = object_.Get(key);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(max)) {
      fail(key, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max), v);
    }
    return static_cast<int64_t>(d);
  }

  // 0 / undefined = follow the screen; otherwise 16..7680 (rounded down to even later).
  int dimension(const char* key) {
    if (!has(key)) return 0;
    Napi::Value v = object_.Get(key);
    if (v.IsNumber() && v.As<Napi::Number>().DoubleValue() == 0) return 0;
    return static_cast<int>(integer(key, 16, 7680));
  }

  [[noreturn]] void fail(const char* key, const std::string& rule, const Napi::Value& v) {
    throwInvalidOption(env_, prefix_ + key + " " + rule + " (got " + describe(v) + ")");
  }

  Napi::Object object() const { return object_; }

 private:
  Napi::Env env_;
  Napi::Object object_;
  std::string prefix_;
};

Napi::Object requireObject(const Napi::CallbackInfo& info, const std::string& what) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray() || info[0].IsFunction()) {
    throwInvalidOption(info.Env(), what + " expects an options object (got " +
                                       describe(info.Length() ? info[0] : info.Env().Undefined()) + ")");
  }
  return info[0].As<Napi::Object>();
}

// The options every RTP stream into a PlainTransport shares (video and audio sessions).
template <typename Config>
void readRtpStreamOptions(Reader& r, const Napi::Object& o, Config& c, Napi::Function* onEvent) {
  c.destinationHost = r.string("destinationHost", 253);
  c.destinationPort = static_cast<uint16_t>(r.integer("destinationPort", 1, 65535));
  c.ssrc = static_cast<uint32_t>(r.integer("ssrc", 0, 4294967295LL));
  int64_t pt = r.integer("payloadType", 0, 127);
  if (pt >= 64 && pt <= 95) {
    r.fail("payloadType", "must not be 64..95: with rtcp-mux those collide with RTCP (RFC 5761); use 96..127", o.Get("payloadType"));
  }
  c.payloadType = static_cast<uint8_t>(pt);
  c.cname = r.string("cname", rtcp::kMaxCnameLength);

  Napi::Value cb = o.Get("onEvent");
  if (!cb.IsFunction()) r.fail("onEvent", "must be a function", cb);
  *onEvent = cb.As<Napi::Function>();
}

}  // namespace

void throwInvalidOption(Napi::Env env, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  error.Set("code", errc::kInvalidOption);
  throw error;
}

// 0 (keyframes on request only) or 0.5..60 s.
double keyframeInterval(Reader& r, const Napi::Object& o) {
  double v = r.number("keyframeIntervalSec", 0, 60);
  if (v > 0 && v < 0.5) r.fail("keyframeIntervalSec", "must be 0 (on request only) or between 0.5 and 60", o.Get("keyframeIntervalSec"));
  return v;
}

VideoSessionConfig parseVideoSessionOptions(const Napi::CallbackInfo& info,
                                            Napi::Function* onEvent) {
  Napi::Object o = requireObject(info, "new VideoSession()");
  Reader r(info.Env(), o, "VideoSession: options.");
  r.rejectUnknownKeys({"display", "capture", "waylandDisplay", "output", "fps", "bitrateKbps",
                       "keyframeIntervalSec", "encoder", "width", "height", "destinationHost",
                       "destinationPort", "ssrc", "payloadType", "cname", "absCaptureTimeExtensionId",
                       "playoutDelayExtensionId", "vp8Ssrc", "vp8PayloadType", "onEvent"});
  VideoSessionConfig c;
  if (r.has("capture")) {
    Napi::Value v = o.Get("capture");
    std::string capture = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    if (capture != "auto" && capture != "x11" && capture != "wayland" && capture != "ext-image-copy-capture" &&
        capture != "wlr-screencopy") {
      r.fail("capture", "must be 'auto', 'x11', 'wayland', 'ext-image-copy-capture' or 'wlr-screencopy'", v);
    }
    c.screen.backend = capture;
  }
  if (r.has("waylandDisplay")) {
    c.screen.waylandDisplay = r.optionalString("waylandDisplay", 4096, "none");
  }
  if (r.has("output")) c.screen.output = r.optionalString("output", 256, "the first output");
  const bool wayland = c.screen.backend != "auto" && c.screen.backend != "x11";
  // X11 needs its display; next to a Wayland display it is optional (auto's fallback).
  if (c.screen.backend == "x11" || (c.screen.backend == "auto" && c.screen.waylandDisplay.empty())) {
    c.screen.display = r.string("display", 256);
  } else if (r.has("display")) {
    c.screen.display = r.optionalString("display", 256, "no X11 fallback");
  }
  if (wayland && c.screen.waylandDisplay.empty()) {
    r.fail("waylandDisplay", "is needed for capture '" + c.screen.backend + "' (a socket name or an absolute path)",
           o.Get("waylandDisplay"));
  }
  c.fps = static_cast<int>(r.integer("fps", 1, 120));
  c.bitrateKbps = static_cast<int>(std::lround(r.number("bitrateKbps", 100, 100000)));
  c.keyframeIntervalSec = keyframeInterval(r, o);

  Napi::Value enc = o.Get("encoder");
  std::string encoder = enc.IsString() ? enc.As<Napi::String>().Utf8Value() : "";
  if (encoder == "auto") c.encoder = EncoderPreference::kAuto;
  else if (encoder == "x264") c.encoder = EncoderPreference::kX264;
  else if (encoder == "nvenc") c.encoder = EncoderPreference::kNvenc;
  else if (encoder == "vaapi") c.encoder = EncoderPreference::kVaapi;
  else r.fail("encoder", "must be 'auto', 'x264', 'nvenc' or 'vaapi'", enc);

  c.width = r.dimension("width");
  c.height = r.dimension("height");
  // RFC 8285 one-byte ids as declared in the producer's rtpParameters (0 or absent: not sent).
  if (r.has("absCaptureTimeExtensionId")) {
    c.rtpExtensions.absCaptureTimeId = static_cast<uint8_t>(r.integer("absCaptureTimeExtensionId", 0, 14));
  }
  if (r.has("playoutDelayExtensionId")) {
    c.rtpExtensions.playoutDelayId = static_cast<uint8_t>(r.integer("playoutDelayExtensionId", 0, 14));
  }
  readRtpStreamOptions(r, o, c, onEvent);
  // The optional VP8 stream: both or neither; it shares the socket, so its SSRC and payload
  // type must differ from the H.264 stream's.
  if (r.has("vp8Ssrc") || r.has("vp8PayloadType")) {
    c.vp8.available = true;
    c.vp8.ssrc = static_cast<uint32_t>(r.integer("vp8Ssrc", 0, 4294967295LL));
    int64_t pt = r.integer("vp8PayloadType", 96, 127);
    if (c.vp8.ssrc == c.ssrc) r.fail("vp8Ssrc", "must differ from ssrc", o.Get("vp8Ssrc"));
    if (pt == c.payloadType) r.fail("vp8PayloadType", "must differ from payloadType", o.Get("vp8PayloadType"));
    c.vp8.payloadType = static_cast<uint8_t>(pt);
    c.vp8.cname = c.cname;
  }
  return c;
}

AudioSessionConfig parseAudioSessionOptions(const Napi::CallbackInfo& info,
                                            Napi::Function* onEvent) {
  Napi::Object o = requireObject(info, "new AudioSession()");
  Reader r(info.Env(), o, "AudioSession: options.");
  r.rejectUnknownKeys({"source", "server", "cookieFile", "bitrateKbps", "destinationHost", "destinationPort", "ssrc",
                       "payloadType", "cname", "onEvent"});
  AudioSessionConfig c;
  c.source = r.optionalString("source", 1024, "the default sink's monitor");
  c.server = r.optionalString("server", 1024, "libpulse's default server");
  if (r.has("cookieFile")) c.cookieFile = r.optionalString("cookieFile", 4096, "libpulse's default cookie");
  c.bitrateKbps = static_cast<int>(std::lround(r.number("bitrateKbps", 16, 510)));
  readRtpStreamOptions(r, o, c, onEvent);
  return c;
}

VideoReconfigure parseVideoReconfigure(const Napi::CallbackInfo& info) {
  Napi::Object o = requireObject(info, "VideoSession.reconfigure()");
  Reader r(info.Env(), o, "VideoSession.reconfigure: ");
  r.rejectUnknownKeys({"fps", "bitrateKbps", "width", "height", "keyframeIntervalSec"});
  VideoReconfigure c;
  if (r.has("fps")) c.fps = static_cast<int>(r.integer("fps", 1, 120));
  if (r.has("bitrateKbps")) c.bitrateKbps = static_cast<int>(std::lround(r.number("bitrateKbps", 100, 100000)));
  if (r.has("keyframeIntervalSec")) c.keyframeIntervalSec = keyframeInterval(r, o);
  if (r.has("width")) c.width = r.dimension("width");
  if (r.has("height")) c.height = r.dimension("height");
  return c;
}

InputInjectorConfig parseInputInjectorOptions(const Napi::CallbackInfo& info,
                                              Napi::Function* onEvent) {
  Napi::Object o = requireObject(info, "new InputInjector()");
  Reader r(info.Env(), o, "InputInjector: options.");
  r.rejectUnknownKeys({"display", "backend", "waylandDisplay", "output", "keyboardLayout", "onEvent"});
  InputInjectorConfig c;
  if (r.has("backend")) {
    Napi::Value v = o.Get("backend");
    std::string backend = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    if (backend != "x11" && backend != "wayland") r.fail("backend", "must be 'x11' or 'wayland'", v);
    c.wayland = backend == "wayland";
  }
  if (c.wayland) {
    c.waylandDisplay = r.string("waylandDisplay", 4096);
    if (r.has("output")) c.output = r.optionalString("output", 256, "the first output");
    if (r.has("keyboardLayout")) {
      // "de" or "de(nodeadkeys)", as setxkbmap names them.
      std::string layout = r.optionalString("keyboardLayout", 128, "us");
      size_t open = layout.find('(');
      if (open != std::string::npos && layout.back() == ')') {
        c.xkbVariant = layout.substr(open + 1, layout.size() - open - 2);
        layout = layout.substr(0, open);
      }
      if (!layout.empty()) c.xkbLayout = layout;
    }
  } else {
    c.display = r.string("display", 256);
  }
  if (r.has("onEvent")) {
    Napi::Value cb = o.Get("onEvent");
    if (!cb.IsFunction()) r.fail("onEvent", "must be a function", cb);
    *onEvent = cb.As<Napi::Function>();
  }
  return c;
}

InputCommand parseKeyCommand(const Napi::CallbackInfo& info) {
  Napi::Object o = requireObject(info, "InputInjector.key()");
  Reader r(info.Env(), o, "InputInjector.key: ");
  r.rejectUnknownKeys({"id", "keysym", "keycode", "down", "mode"});
  InputCommand c;
  c.type = InputCommand::Type::kKey;
  Napi::Value id = o.Get("id");
  std::string idText = id.IsString() ? id.As<Napi::String>().Utf8Value() : "";
  bool printable = !idText.empty() && idText.size() <= KeyId::kMaxLength &&
                   std::all_of(idText.begin(), idText.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
  if (!printable) {
    r.fail("id", "must be 1.." + std::to_string(KeyId::kMaxLength) +
                     " printable ASCII characters (the DOM code, e.g. 'KeyA')", id);
  }
  c.id = KeyId::of(idText.data(), idText.size());
  // Keysyms are 29-bit; 0 (NoSymbol) types nothing.
  c.keysym = static_cast<uint32_t>(r.integer("keysym", 1, 0x1fffffff));
  c.keycode = r.has("keycode") ? static_cast<uint32_t>(r.integer("keycode", 0, 255)) : 0;
  if (c.keycode != 0 && c.keycode < 8) r.fail("keycode", "must be 0 (unknown) or 8..255", o.Get("keycode"));
  Napi::Value down = o.Get("down");
  if (!down.IsBoolean()) r.fail("down", "must be a boolean", down);
  c.down = down.As<Napi::Boolean>().Value();
  c.mode = KeyMode::kText;
  if (r.has("mode")) {
    Napi::Value mode = o.Get("mode");
    std::string m = mode.IsString() ? mode.As<Napi::String>().Utf8Value() : "";
    if (m == "raw") c.mode = KeyMode::kRaw;
    else if (m != "text") r.fail("mode", "must be 'text' or 'raw'", mode);
  }
  return c;
}

double numberArgument(const Napi::CallbackInfo& info, size_t index, double min, double max,
                      const std::string& what) {
  Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || d < min || d > max) {
    std::ostringstream range;
    range << what << " must be a number between " << min << " and " << max << " (got " << describe(v) << ")";
    throwInvalidOption(info.Env(), range.str());
  }
  return d;
}

int64_t integerArgument(const Napi::CallbackInfo& info, size_t index, int64_t min, int64_t max,
                        const std::string& what) {
  Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    throwInvalidOption(info.Env(), what + " must be an integer between " + std::to_string(min) +
                                       " and " + std::to_string(max) + " (got " + describe(v) + ")");
  }
  return static_cast<int64_t>(d);
}

bool booleanArgument(const Napi::CallbackInfo& info, size_t index, const std::string& what) {
  Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  if (!v.IsBoolean()) throwInvalidOption(info.Env(), what + " must be a boolean (got " + describe(v) + ")");
  return v.As<Napi::Boolean>().Value();
}

void parseDestination(const Napi::CallbackInfo& info, std::string* host, uint16_t* port,
                      const char* className) {
  Napi::Env env = info.Env();
  const std::string prefix = std::string(className) + ".setDestination: ";
  if (info.Length() < 1 || !info[0].IsString() || info[0].As<Napi::String>().Utf8Value().empty()) {
    throwInvalidOption(env, prefix + "host must be a non-empty string (got " +
                                describe(info.Length() ? info[0] : env.Undefined()) + ")");
  }
  double p = info.Length() >= 2 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(p) || p != std::floor(p) || p < 1 || p > 65535) {
    throwInvalidOption(env, prefix + "port must be an integer between 1 and "
                            "65535 (got " + describe(info.Length() >= 2 ? info[1] : env.Undefined()) + ")");
  }
  *host = info[0].As<Napi::String>().Utf8Value();
  *port = static_cast<uint16_t>(p);
}

}  // namespace deskcast
