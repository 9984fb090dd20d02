#include "input/xkb_keymap_search.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace deskcast {
namespace {

int popcount8(unsigned v) noexcept { return __builtin_popcount(v & 0xffu); }

}  // namespace

int KeymapSnapshot::effectiveGroup(int keycode, int group) const noexcept {
  if (!hasSymbols(keycode)) return -1;
  const KeySnapshot& key = keys[keycode];
  if (group >= 0 && group < key.numGroups) return group;
  switch (key.outOfRange) {
    case KeySnapshot::OutOfRange::kClamp: return group < 0 ? 0 : key.numGroups - 1;
    case KeySnapshot::OutOfRange::kRedirect:
      return key.redirectGroup < key.numGroups ? key.redirectGroup : 0;
    case KeySnapshot::OutOfRange::kWrap: break;
  }
  int g = group % key.numGroups;
  return g < 0 ? g + key.numGroups : g;
}

int KeymapSnapshot::numLevels(int keycode, int group) const noexcept {
  int g = effectiveGroup(keycode, group);
  if (g < 0) return 0;
  uint16_t type = keys[keycode].types[g];
  int levels = type < types.size() ? types[type].numLevels : 1;
  return levels < keys[keycode].width ? levels : keys[keycode].width;
}

uint32_t KeymapSnapshot::keysym(int keycode, int group, int level) const noexcept {
  int g = effectiveGroup(keycode, group);
  if (g < 0 || level < 0 || level >= numLevels(keycode, group)) return 0;
  size_t index = keys[keycode].symsOffset + static_cast<size_t>(g) * keys[keycode].width + level;
  return index < syms.size() ? syms[index] : 0;
}

uint32_t KeymapSnapshot::translate(int keycode, int group, uint8_t mods) const noexcept {
  int g = effectiveGroup(keycode, group);
  if (g < 0) return 0;
  uint16_t typeIndex = keys[keycode].types[g];
  if (typeIndex >= types.size()) return keysym(keycode, group, 0);
  const KeyTypeSnapshot& type = types[typeIndex];
  uint8_t relevant = mods & type.mask;
  int level = 0;
  uint8_t preserve = 0;
  for (const auto& entry : type.entries) {
    if (entry.mods == relevant) {
      level = entry.level;
      preserve = entry.preserve;
      break;
    }
  }
  uint32_t sym = keysym(keycode, group, level);
  uint8_t consumed = type.mask & ~preserve;
  if ((mods & kLockMask) && !(consumed & kLockMask) && sym != 0) {
    KeySym lower = 0, upper = 0;
    XConvertCase(sym, &lower, &upper);
    sym = static_cast<uint32_t>(upper);
  }
  return sym;
}

KeyChoice findKeyForKeysym(const KeymapSnapshot& keymap, const KeysymAlternatives& wanted,
                           const KeyboardState& state, uint8_t adjustable, bool relevel,
                           const std::array<bool, 256>* keysDown) {
  KeyChoice best;
  int bestCost = 1 << 30;
  const uint8_t heldAdjustable = state.mods & adjustable;
  // Modifier combinations reachable by pressing/releasing keys: subsets of `adjustable`,
  // except that a latched or locked modifier cannot be cleared.
  uint8_t combos[8];
  int comboCount = 0;
  if (relevel) {
    uint8_t bits[3];
    int nbits = 0;
    for (int b = 0; b < 8 && nbits < 3; b++) {
      if (adjustable & (1u << b)) bits[nbits++] = static_cast<uint8_t>(1u << b);
    }
    for (int subset = 0; subset < (1 << nbits); subset++) {
      uint8_t combo = 0;
      for (int i = 0; i < nbits; i++) {
        if (subset & (1 << i)) combo |= bits[i];
      }
      if ((state.stickyMods & adjustable & ~combo) != 0) continue;  // would clear a lock
      combos[comboCount++] = combo;
    }
  } else {
    combos[comboCount++] = heldAdjustable;
  }

  for (int kc = keymap.minKeycode; kc <= keymap.maxKeycode; kc++) {
    if (!keymap.hasSymbols(kc)) continue;
    // Cheap filter: the keysym (or its capitalised form under Caps Lock) is in the key's group.
    int levels = keymap.numLevels(kc, state.group);
    bool carries = false;
    for (int level = 0; level < levels && !carries; level++) {
      uint32_t sym = keymap.keysym(kc, state.group, level);
      if (sym == 0) continue;
      if (wanted.contains(sym)) carries = true;
      KeySym lower = 0, upper = 0;
      XConvertCase(sym, &lower, &upper);
      if (wanted.contains(static_cast<uint32_t>(upper))) carries = true;
    }
    if (!carries) continue;
    int penalty = (keysDown != nullptr && (*keysDown)[kc]) ? 16 : 0;
    for (int i = 0; i < comboCount; i++) {
      uint8_t mods = static_cast<uint8_t>((state.mods & ~adjustable) | combos[i]);
      if (!wanted.contains(keymap.translate(kc, state.group, mods))) continue;
      int cost = popcount8(combos[i] ^ heldAdjustable) + penalty;
      if (cost < bestCost) {
        bestCost = cost;
        best.keycode = kc;
        best.mods = mods;
        best.cost = cost;
      }
    }
  }
  if (best.keycode != 0 || relevel) return best;

  // Not produced under the current modifiers: any key whose current group carries the keysym,
  // pressed as things are (Shift+Tab: Tab's key gives ISO_Left_Tab with Shift, which is right).
  for (int kc = keymap.minKeycode; kc <= keymap.maxKeycode; kc++) {
    int levels = keymap.numLevels(kc, state.group);
    for (int level = 0; level < levels; level++) {
      if (!wanted.contains(keymap.keysym(kc, state.group, level))) continue;
      int cost = 4 + level + ((keysDown != nullptr && (*keysDown)[kc]) ? 16 : 0);
      if (cost < bestCost) {
        bestCost = cost;
        best.keycode = kc;
        best.mods = state.mods;
        best.cost = cost;
      }
    }
  }
  return best;
}

}  // namespace deskcast
