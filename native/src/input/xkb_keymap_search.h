// Finds the keycode and modifier state that make the desktop type a keysym, on a plain copy of
// the live XKB keymap (KeymapSnapshot), so the search is testable without an X server.
//
// A naive XKeysymToKeycode takes the first keycode carrying the keysym at any level and leaves
// the level to chance (Shift+',' typing '>' where the <> key comes first). Here every candidate
// keycode in the current group is checked with XKB's own level rules (key types, preserve, Caps
// Lock as Xlib applies it): the answer is a keycode plus the exact modifiers under which the
// client will see the wanted keysym, choosing the one that changes the fewest modifiers.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "input/keysym_unicode.h"

namespace deskcast {

struct KeyTypeSnapshot {
  struct Entry {
    uint8_t mods = 0;      // real modifiers (within `mask`) that select `level`
    uint8_t preserve = 0;  // modifiers the level leaves for the client (not consumed)
    uint8_t level = 0;
  };
  uint8_t mask = 0;  // real modifiers this type looks at
  uint8_t numLevels = 1;
  std::vector<Entry> entries;  // active entries only
};

struct KeySnapshot {
  enum class OutOfRange : uint8_t { kWrap, kClamp, kRedirect };
  uint8_t numGroups = 0;  // 0 = no symbols
  OutOfRange outOfRange = OutOfRange::kWrap;
  uint8_t redirectGroup = 0;
  uint8_t width = 0;   // keysyms per group in `KeymapSnapshot::syms`
  uint8_t modmap = 0;  // real modifiers the key sets when pressed
  uint16_t types[4] = {0, 0, 0, 0};
  uint32_t symsOffset = 0;
};

class KeymapSnapshot {
 public:
  static constexpr uint8_t kShiftMask = 1 << 0;
  static constexpr uint8_t kLockMask = 1 << 1;

  int minKeycode = 8;
  int maxKeycode = 255;
  std::vector<KeyTypeSnapshot> types;
  std::array<KeySnapshot, 256> keys{};
  std::vector<uint32_t> syms;

  bool hasSymbols(int keycode) const noexcept {
    return keycode >= minKeycode && keycode <= maxKeycode && keys[keycode].numGroups > 0;
  }
  // The group the key uses when the keyboard is in `group` (-1: the key has no symbols).
  int effectiveGroup(int keycode, int group) const noexcept;
  // The keysym at (group, level) of the key, 0 if none.
  uint32_t keysym(int keycode, int group, int level) const noexcept;
  int numLevels(int keycode, int group) const noexcept;
  // The keysym a client sees when `keycode` is pressed with effective modifiers `mods` in
  // keyboard group `group`: the key type's level, then Caps Lock's capitalisation if the level
  // does not consume Lock (what Xlib's XkbTranslateKeyCode + XkbTranslateKeySym do).
  uint32_t translate(int keycode, int group, uint8_t mods) const noexcept;
};

struct KeyboardState {
  uint8_t mods = 0;        // effective modifiers now
  uint8_t stickyMods = 0;  // latched or locked: releasing keys cannot clear them
  int group = 0;           // effective keyboard group
};

struct KeyChoice {
  int keycode = 0;  // 0 = none found
  uint8_t mods = 0;  // the effective modifiers to establish around the press
  int cost = 0;      // modifiers changed (+ penalties), lower is better
};

// `adjustable`: the modifiers the injector can press or release around one key (Shift, the
// ISO_Level3_Shift and ISO_Level5_Shift modifiers, where the keymap has keys for them).
// `relevel` false: modifiers stay as they are (shortcuts, Tab, arrows): the keysym must be
// produced under the current modifiers, or (second choice) be anywhere in the key's current group.
// `keysDown`: keys currently pressed (a second press of a down key is dropped): avoided.
KeyChoice findKeyForKeysym(const KeymapSnapshot& keymap, const KeysymAlternatives& wanted,
                           const KeyboardState& state, uint8_t adjustable, bool relevel,
                           const std::array<bool, 256>* keysDown = nullptr);

}  // namespace deskcast
