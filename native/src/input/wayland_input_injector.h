// The Wayland InputInjector: zwp_virtual_keyboard_v1 with a keymap compiled by libxkbcommon and
// uploaded by us, and zwlr_virtual_pointer_v1 bound to the captured output, on its own
// connection. Both virtual devices live as long as the injector (tools that create one per event
// lose events while the compositor sets the new device up).
//
// Keys follow the X11 injector's character-exact model: the keysym is searched in the keymap
// (every level of every key of the layout, xkbcommon's own level → modifier masks); the press is
// sent with exactly the level's modifiers (Shift, LevelThree, LevelFive), set through the virtual
// keyboard's `modifiers` request around that press and restored right after, so Caps Lock or a
// held Shift never changes the character. Keysyms the keymap lacks are bound to spare (symbol-
// less) keycodes by re-uploading the keymap with them added (letters as lower/upper pairs),
// recycled least-recently-used, bounded by the spare keycodes; releaseAll() uploads the plain
// keymap again. Wayland keeps a client's events in order, so unlike X11 a re-upload cannot
// re-translate a press the client has not read yet: no pacing is needed.
// Not thread-safe: the injector thread drives it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/session_events.h"
#include "input/input_injector.h"
#include "wayland/wayland_connection.h"

struct xkb_context;
struct xkb_keymap;
struct xkb_state;
struct wl_seat;
struct zwp_virtual_keyboard_manager_v1;
struct zwp_virtual_keyboard_v1;
struct zwlr_virtual_pointer_manager_v1;
struct zwlr_virtual_pointer_v1;

namespace deskcast {

struct WaylandInjectorConfig {
  std::string socket;       // a name in $XDG_RUNTIME_DIR or an absolute path
  std::string output;       // the output absolute motion maps to ("" = the first)
  std::string xkbLayout = "us";
  std::string xkbVariant;
};

class WaylandInputInjector final : public InputInjector {
 public:
  // Connects, creates the virtual keyboard and pointer, uploads the keymap. Throws
  // DeskcastError (ERR_DISPLAY_OPEN; ERR_NO_XTEST when the compositor lacks the virtual-input
  // protocols, ERR_INVALID_OPTION for a layout xkbcommon does not know).
  static std::unique_ptr<WaylandInputInjector> open(const WaylandInjectorConfig& config, EventSink& events);
  ~WaylandInputInjector() override;

  void pointerAbsolute(int x, int y) override;
  void pointerRelative(int dx, int dy) override;
  void button(int button, bool down) override;
  void scroll(int dxClicks, int dyClicks) override;
  void key(const KeyId& id, uint32_t keysym, uint32_t physicalKeycode, bool down, KeyMode mode) override;
  void text(const char32_t* codepoints, size_t count) override;
  void releaseAll() override;

  int pollFd() const override { return connection_->fd(); }
  void handleEvents() override;
  bool connectionLost() const override { return connection_->lost(); }
  void flush() override { connection_->flush(); }

 private:
  struct PressedKey {
    KeyId id;
    uint32_t keycode = 0;  // XKB keycode (evdev + 8); 0: free slot
  };
  struct SpareKeycode {
    uint32_t keycode = 0;
    std::string name;      // the key's XKB name (<I248>), for the symbols we add
    uint32_t keysym = 0;   // bound keysym (lower-case form for letters); 0 = unbound
    uint64_t lastUse = 0;
  };
  struct Choice {
    uint32_t keycode = 0;  // 0: none
    uint32_t mods = 0;     // depressed modifiers to send with the press
  };
  static constexpr size_t kMaxPressedKeys = 32;

  WaylandInputInjector(std::unique_ptr<WaylandConnection> connection, EventSink& events);
  void compileKeymap(const std::string& text);  // our xkb_state follows what we upload
  void uploadKeymap();                          // base keymap + bound spares
  Choice find(uint32_t keysym, bool relevel) const;
  Choice resolveOrBind(uint32_t keysym, bool relevel);
  void bindSpares(const uint32_t* keysyms, size_t count);
  void pressWithMods(uint32_t keycode, uint32_t mods);
  void sendKey(uint32_t keycode, bool down);
  void sendMods(const std::array<uint32_t, 4>& mods);  // depressed, latched, locked, group
  void syncMods(bool force = false);                   // our xkb_state's, if not sent yet
  void releaseId(const KeyId& id);
  bool shortcutModifierHeld() const;
  uint32_t nowMs() const;

  std::unique_ptr<WaylandConnection> connection_;
  EventSink& events_;
  WaylandOutput* output_ = nullptr;
  wl_seat* seat_ = nullptr;
  zwp_virtual_keyboard_manager_v1* keyboardManager_ = nullptr;
  zwp_virtual_keyboard_v1* keyboard_ = nullptr;
  zwlr_virtual_pointer_manager_v1* pointerManager_ = nullptr;
  zwlr_virtual_pointer_v1* pointer_ = nullptr;

  xkb_context* xkb_ = nullptr;
  xkb_keymap* keymap_ = nullptr;   // what the compositor has now
  xkb_state* state_ = nullptr;     // the modifier state the compositor computes from our keys
  std::string baseKeymapText_;     // the layout as compiled from its names
  uint32_t shiftMask_ = 0, level3Mask_ = 0, level5Mask_ = 0, lockMask_ = 0, shortcutMask_ = 0;

  std::array<PressedKey, kMaxPressedKeys> pressed_{};
  std::array<bool, 768> keysDown_{};
  uint16_t buttonsDown_ = 0;
  std::vector<SpareKeycode> spares_;
  uint64_t useCounter_ = 0;
  bool sparesBound_ = false;
  std::array<uint32_t, 4> sentMods_{};
};

}  // namespace deskcast
