#include "input/keysym_unicode.h"

#include <xkbcommon/xkbcommon.h>

namespace deskcast {

uint32_t unicodeKeysym(char32_t cp) noexcept {
  switch (cp) {
    case U'\n':
    case U'\r': return 0xff0d;  // Return
    case U'\t': return 0xff09;  // Tab
    case U'\b': return 0xff08;  // BackSpace
    case 0x1b: return 0xff1b;   // Escape
    default: break;
  }
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return static_cast<uint32_t>(cp);
  if (cp < 0x100 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return 0x01000000u | static_cast<uint32_t>(cp);
}

char32_t keysymToCodepoint(uint32_t keysym) noexcept {
  if (isDeadKeysym(keysym) || keysym == 0) return 0;
  return static_cast<char32_t>(xkb_keysym_to_utf32(keysym));
}

KeysymAlternatives keysymAlternatives(uint32_t keysym) noexcept {
  KeysymAlternatives alt;
  auto add = [&alt](uint32_t ks) {
    if (ks != 0 && !alt.contains(ks) && alt.count < 3) alt.keysyms[alt.count++] = ks;
  };
  add(keysym);
  char32_t cp = keysymToCodepoint(keysym);
  // Control characters map to function keysyms (Return, Tab...) that are their own thing.
  if (cp >= 0x20 && cp != 0x7f) {
    add(xkb_utf32_to_keysym(cp));  // the legacy keysym where X has one
    add(unicodeKeysym(cp));
  }
  return alt;
}

}  // namespace deskcast
