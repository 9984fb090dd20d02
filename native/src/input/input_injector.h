// The desktop-side half of remote control: injects a viewer's keyboard and pointer into the
// desktop. Abstract so a Wayland backend can follow the X11 one (x11_input_injector.h).
//
// Every method runs on the injector's own thread (injector_thread.h), never on the JS thread,
// and must not block for long: the X11 backend makes at most a few round trips per key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace deskcast {

// How a key event is turned into a desktop key press.
//  kText: produce the keysym the viewer typed, whatever the desktop's layout (the injector
//         finds a keycode + level and fakes only the missing level modifiers).
//  kRaw:  press the physical keycode the viewer's key has (games, shortcuts by position);
//         falls back to kText when the physical keycode is unknown (0).
enum class KeyMode : uint8_t { kText, kRaw };

// Which viewer key an event belongs to (the DOM `code`, e.g. "KeyA"): key-up releases exactly
// what the key-down with the same id pressed. Fixed size so commands never allocate.
struct KeyId {
  static constexpr size_t kMaxLength = 31;
  char text[kMaxLength + 1] = {0};

  // Truncates silently; the JS binding rejects longer ids before this.
  static KeyId of(const char* s, size_t n) noexcept {
    KeyId id;
    if (n > kMaxLength) n = kMaxLength;
    std::memcpy(id.text, s, n);
    return id;
  }
  bool operator==(const KeyId& o) const noexcept { return std::strcmp(text, o.text) == 0; }
  bool empty() const noexcept { return text[0] == '\0'; }
};

class InputInjector {
 public:
  virtual ~InputInjector() = default;

  // Screen pixels; clamped to the screen.
  virtual void pointerAbsolute(int x, int y) = 0;
  // Unaccelerated motion (pointer lock).
  virtual void pointerRelative(int dx, int dy) = 0;
  // Buttons 1..9 (1 left, 2 middle, 3 right, 8/9 back/forward).
  virtual void button(int button, bool down) = 0;
  // Whole wheel notches: +dy scrolls down, +dx scrolls right.
  virtual void scroll(int dxClicks, int dyClicks) = 0;
  // `physicalKeycode`: the desktop keycode of the viewer's physical key (0 = unknown).
  virtual void key(const KeyId& id, uint32_t keysym, uint32_t physicalKeycode, bool down,
                   KeyMode mode) = 0;
  // Text committed by an input method: typed character by character.
  virtual void text(const char32_t* codepoints, size_t count) = 0;
  // Releases every key and button pressed on the viewer's behalf and removes temporary keysym
  // bindings, leaving the desktop as it was before the viewer took control.
  virtual void releaseAll() = 0;

  // Event-loop integration for the injector thread.
  virtual int pollFd() const = 0;        // readable when the backend has events to handle
  virtual void handleEvents() = 0;       // keymap changes, screen size changes
  virtual bool connectionLost() const = 0;
  virtual void flush() = 0;              // send buffered requests
};

}  // namespace deskcast
