// The X11 InputInjector: XTest on its own X connection, with keys resolved against the live XKB
// keymap (xkb_keymap_search.h) so the desktop types what the viewer typed whatever its layout.
//
// Keys: the keysym is looked up in the current group; only the missing level modifiers (Shift,
// the ISO_Level3_Shift / ISO_Level5_Shift modifiers) are pressed or released around that one
// press, then restored. Keysyms the keymap lacks are bound to spare (symbol-less) keycodes,
// recycled least-recently-used and all removed by releaseAll(). Not thread-safe: one thread
// (the injector thread) drives it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/session_events.h"
#include "input/input_injector.h"
#include "input/xkb_keymap_search.h"
#include "x11/x11_display.h"

namespace deskcast {

class X11InputInjector final : public InputInjector {
 public:
  // Connects through X11Display::open, checks XTest and XKB, reads the keymap.
  // Throws DeskcastError (ERR_DISPLAY_OPEN, ERR_NO_XTEST).
  static std::unique_ptr<X11InputInjector> open(const std::string& displayName, EventSink& events);
  ~X11InputInjector() override;

  void pointerAbsolute(int x, int y) override;
  void pointerRelative(int dx, int dy) override;
  void button(int button, bool down) override;
  void scroll(int dxClicks, int dyClicks) override;
  void key(const KeyId& id, uint32_t keysym, uint32_t physicalKeycode, bool down,
           KeyMode mode) override;
  void text(const char32_t* codepoints, size_t count) override;
  void releaseAll() override;

  int pollFd() const override;
  void handleEvents() override;
  bool connectionLost() const override { return display_->connectionLost(); }
  void flush() override;

 private:
  struct ModifierKey {
    int keycode = 0;  // 0: the keymap has no key for it
    uint8_t mask = 0;
  };
  struct PressedKey {
    KeyId id;
    int keycode = 0;  // 0: free slot
  };
  struct SpareKeycode {
    int keycode = 0;
    uint32_t keysym = 0;  // bound keysym (lower-case form for letters); 0 = unbound
    uint64_t lastUse = 0;
    int64_t lastUseNs = 0;
  };
  static constexpr size_t kMaxPressedKeys = 32;

  X11InputInjector(std::unique_ptr<X11Display> display, EventSink& events);
  void refreshKeymap();
  void refreshKeymapIfStale() {
    if (keymapStale_) refreshKeymap();
  }
  KeyboardState queryState();
  uint8_t adjustableMods() const noexcept { return shift_.mask | level3_.mask | level5_.mask; }
  bool shortcutModifierHeld() const noexcept;
  // Finds the keycode and the modifiers for `keysym`, binding a spare keycode if the keymap
  // lacks it. `commit`: typed text (always re-levelled, shortcuts or not). False: cannot type.
  bool resolve(uint32_t keysym, uint32_t physicalKeycode, KeyMode mode, bool commit,
               const KeyboardState& state, int* keycode, uint8_t* mods);
  int bindSpareKeycode(uint32_t keysym);
  void touchSpare(int keycode);
  void unbindSpareKeycodes();
  // Keeps the root-window note of our bindings current (kBindingsProperty).
  void recordBindings();
  // At open: removes bindings an earlier injector on this display noted but never removed.
  void removeLeftoverBindings();
  // Keeps the root-window note of what is held down current (kHeldProperty).
  void recordHeld();
  // At open: releases keys and buttons an earlier injector noted as held and never released.
  void releaseLeftoverHeld();
  // key() for a key-down: resolves and presses (a repeat is a release + press).
  void pressKey(const KeyId& id, uint32_t keysym, uint32_t physicalKeycode, KeyMode mode);
  // Presses `keycode` with the effective modifiers `target` (pressing/releasing level-modifier
  // keys around it, restored right after the press).
  void pressWithModifiers(int keycode, const KeyboardState& state, uint8_t target);
  void fakeKey(int keycode, bool down);
  void releaseId(const KeyId& id);
  void warnRateLimited(const std::string& message);

  std::unique_ptr<X11Display> display_;
  Display* dpy_;
  EventSink& events_;
  int xkbEventBase_ = 0;
  unsigned long bindingsAtom_ = 0;
  unsigned long heldAtom_ = 0;
  std::vector<long> heldNote_;  // what kHeldProperty says now
  unsigned long root_ = 0;
  int screen_ = 0;
  int screenWidth_ = 0;
  int screenHeight_ = 0;

  KeymapSnapshot keymap_;
  bool keymapStale_ = true;
  ModifierKey shift_, level3_, level5_;
  std::array<PressedKey, kMaxPressedKeys> pressed_{};
  std::array<bool, 256> keysDown_{};   // keycodes pressed on the viewer's behalf
  uint16_t buttonsDown_ = 0;           // bit n: button n
  std::vector<SpareKeycode> spares_;   // reserved for 256 at open: no reallocation later
  uint64_t useCounter_ = 0;
  int64_t lastWarnNs_ = 0;
};

}  // namespace deskcast
