// Unicode ↔ X keysyms. Keymaps name many characters by legacy keysyms (EuroSign 0x20ac,
// Cyrillic_a 0x6c1, ...) and others by Unicode keysyms (0x01000000 | code point); a lookup must
// try both. The legacy tables are xkbcommon's (libxkbcommon), not ours.
#pragma once

#include <cstddef>
#include <cstdint>

namespace deskcast {

// X's rule: Latin-1 printables map to the same value, other code points to 0x01000000 | cp.
// Returns 0 for code points with no keysym (C0/C1 controls other than the ones below, surrogates,
// beyond U+10FFFF). '\n' and '\r' are Return, '\t' Tab, '\b' BackSpace, U+001B Escape.
uint32_t unicodeKeysym(char32_t codepoint) noexcept;

// The character a keysym types (0 if none: function keys, modifiers, dead keys).
char32_t keysymToCodepoint(uint32_t keysym) noexcept;

// The keysyms a keymap may use for the same character as `keysym` (itself first, then its
// legacy and Unicode forms), at most 3, no duplicates.
struct KeysymAlternatives {
  uint32_t keysyms[3] = {0, 0, 0};
  size_t count = 0;
  bool contains(uint32_t keysym) const noexcept {
    for (size_t i = 0; i < count; i++) {
      if (keysyms[i] == keysym) return true;
    }
    return false;
  }
};
KeysymAlternatives keysymAlternatives(uint32_t keysym) noexcept;

// Dead keys (dead_acute, ...) compose with the next key in the desktop's input method.
inline bool isDeadKeysym(uint32_t keysym) noexcept { return keysym >= 0xfe50 && keysym <= 0xfe93; }

// Keys whose meaning does not depend on the shift level (Return, arrows, F1, Tab, modifiers...):
// the injector presses them with the modifiers as they are, so Shift+Tab and Shift+Home keep
// their Shift. Keypad keys (0xff80..0xffbd) are not among them: KP_1 vs KP_End is a level.
inline bool isLevelIndependentKeysym(uint32_t keysym) noexcept {
  if (keysym == 0xfe20) return true;  // ISO_Left_Tab
  if (keysym >= 0xfe01 && keysym <= 0xfe0f) return true;  // ISO level/group shifts and locks
  return keysym >= 0xff00 && keysym <= 0xffff && !(keysym >= 0xff80 && keysym <= 0xffbd);
}

}  // namespace deskcast
