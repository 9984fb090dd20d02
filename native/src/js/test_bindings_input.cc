// `__test` entries for the pure input pieces: keysym ↔ Unicode and the XKB level search on a
// keymap described in JS (so its rules are tested without an X server).
#include <napi.h>

#include <algorithm>

#include "input/keysym_unicode.h"
#include "input/xkb_keymap_search.h"
#include "js/js_options.h"

namespace deskcast {
namespace {

uint32_t u32(const Napi::Object& o, const char* key, uint32_t fallback = 0) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

// keysymAlternatives(keysym) → number[]
Napi::Value keysymAlternativesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KeysymAlternatives alt = keysymAlternatives(static_cast<uint32_t>(integerArgument(info, 0, 0, 0x1fffffff, "keysym")));
  Napi::Array out = Napi::Array::New(env, alt.count);
  for (size_t i = 0; i < alt.count; i++) out.Set(static_cast<uint32_t>(i), alt.keysyms[i]);
  return out;
}

// unicodeKeysym(codepoint) → keysym (0 = none); keysymToCodepoint(keysym) → code point (0 = none)
Napi::Value unicodeKeysymJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), unicodeKeysym(static_cast<char32_t>(integerArgument(info, 0, 0, 0x7fffffff, "codepoint"))));
}
Napi::Value keysymToCodepointJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), keysymToCodepoint(static_cast<uint32_t>(integerArgument(info, 0, 0, 0x1fffffff, "keysym"))));
}

// findKeyForKeysym({ types: [{ mask, numLevels, entries: [{ mods, level, preserve? }] }],
//                    keys: [{ keycode, modmap?, groups: [{ type, syms: number[] }] }] },
//                  keysym, { mods, stickyMods, group }, adjustable, relevel)
//   → { keycode, mods } | null
Napi::Value findKeyForKeysymJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsObject() || !info[2].IsObject()) {
    throwInvalidOption(env, "__test.findKeyForKeysym(keymap, keysym, state, adjustable, relevel)");
  }
  Napi::Object desc = info[0].As<Napi::Object>();
  KeymapSnapshot keymap;
  keymap.minKeycode = 8;
  keymap.maxKeycode = 255;
  Napi::Array types = desc.Get("types").As<Napi::Array>();
  for (uint32_t t = 0; t < types.Length(); t++) {
    Napi::Object type = types.Get(t).As<Napi::Object>();
    KeyTypeSnapshot out;
    out.mask = static_cast<uint8_t>(u32(type, "mask"));
    out.numLevels = static_cast<uint8_t>(u32(type, "numLevels", 1));
    Napi::Array entries = type.Get("entries").As<Napi::Array>();
    for (uint32_t e = 0; e < entries.Length(); e++) {
      Napi::Object entry = entries.Get(e).As<Napi::Object>();
      out.entries.push_back({static_cast<uint8_t>(u32(entry, "mods")), static_cast<uint8_t>(u32(entry, "preserve")),
                             static_cast<uint8_t>(u32(entry, "level"))});
    }
    keymap.types.push_back(out);
  }
  Napi::Array keys = desc.Get("keys").As<Napi::Array>();
  for (uint32_t k = 0; k < keys.Length(); k++) {
    Napi::Object key = keys.Get(k).As<Napi::Object>();
    uint32_t kc = u32(key, "keycode");
    if (kc < 8 || kc > 255) throwInvalidOption(env, "__test.findKeyForKeysym: keycode must be 8..255");
    KeySnapshot& out = keymap.keys[kc];
    out.modmap = static_cast<uint8_t>(u32(key, "modmap"));
    Napi::Array groups = key.Get("groups").As<Napi::Array>();
    out.numGroups = static_cast<uint8_t>(std::min<uint32_t>(groups.Length(), 4));
    out.width = 0;
    for (uint32_t g = 0; g < out.numGroups; g++) {
      out.width = std::max<uint8_t>(out.width, static_cast<uint8_t>(groups.Get(g).As<Napi::Object>().Get("syms").As<Napi::Array>().Length()));
    }
    out.symsOffset = static_cast<uint32_t>(keymap.syms.size());
    for (uint32_t g = 0; g < out.numGroups; g++) {
      Napi::Object group = groups.Get(g).As<Napi::Object>();
      out.types[g] = static_cast<uint16_t>(u32(group, "type"));
      Napi::Array syms = group.Get("syms").As<Napi::Array>();
      for (uint32_t l = 0; l < out.width; l++) {
        keymap.syms.push_back(l < syms.Length() ? syms.Get(l).As<Napi::Number>().Uint32Value() : 0);
      }
    }
  }
  Napi::Object s = info[2].As<Napi::Object>();
  KeyboardState state;
  state.mods = static_cast<uint8_t>(u32(s, "mods"));
  state.stickyMods = static_cast<uint8_t>(u32(s, "stickyMods"));
  state.group = static_cast<int>(u32(s, "group"));
  KeyChoice choice = findKeyForKeysym(
      keymap, keysymAlternatives(static_cast<uint32_t>(integerArgument(info, 1, 0, 0x1fffffff, "keysym"))), state,
      static_cast<uint8_t>(integerArgument(info, 3, 0, 255, "adjustable")), booleanArgument(info, 4, "relevel"));
  if (choice.keycode == 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("keycode", choice.keycode);
  out.Set("mods", choice.mods);
  return out;
}

}  // namespace

void addInputTestBindings(Napi::Env env, Napi::Object t) {
  t.Set("keysymAlternatives", Napi::Function::New(env, keysymAlternativesJs, "keysymAlternatives"));
  t.Set("unicodeKeysym", Napi::Function::New(env, unicodeKeysymJs, "unicodeKeysym"));
  t.Set("keysymToCodepoint", Napi::Function::New(env, keysymToCodepointJs, "keysymToCodepoint"));
  t.Set("findKeyForKeysym", Napi::Function::New(env, findKeyForKeysymJs, "findKeyForKeysym"));
}

}  // namespace deskcast
