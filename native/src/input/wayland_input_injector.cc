#include "input/wayland_input_injector.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xkbcommon/xkbcommon.h>

#include <cstring>

#include "common/errors.h"
#include "input/injector_thread.h"
#include "input/keysym_unicode.h"
#include "wayland/output_transform.h"
#include "virtual-keyboard-unstable-v1-client.h"
#include "wlr-virtual-pointer-unstable-v1-client.h"

namespace deskcast {

namespace {

// linux/input-event-codes.h
constexpr uint32_t kBtnLeft = 0x110, kBtnRight = 0x111, kBtnMiddle = 0x112, kBtnSide = 0x113,
                   kBtnExtra = 0x114;
constexpr int kOpenTimeoutMs = 5000;

uint32_t linuxButton(int x11Button) {
  switch (x11Button) {
    case 1: return kBtnLeft;
    case 2: return kBtnMiddle;
    case 3: return kBtnRight;
    case 8: return kBtnSide;
    case 9: return kBtnExtra;
    default: return 0;  // 4..7 are wheel notches on X; scroll() sends those as axis events
  }
}

int popcount(uint32_t v) { return __builtin_popcount(v); }

}  // namespace

std::unique_ptr<WaylandInputInjector> WaylandInputInjector::open(const WaylandInjectorConfig& config,
                                                                 EventSink& events) {
  auto connection = WaylandConnection::connect(config.socket, kOpenTimeoutMs);
  std::unique_ptr<WaylandInputInjector> self(new WaylandInputInjector(std::move(connection), events));
  WaylandConnection& c = *self->connection_;

  self->output_ = c.findOutput(config.output);
  if (!self->output_) {
    throw DeskcastError(errc::kDisplayOpen, "Wayland display '" + config.socket + "' has no output named '" +
                                                config.output + "'; its outputs: " + c.outputNames());
  }
  self->seat_ = static_cast<wl_seat*>(c.bind(&wl_seat_interface, 1, 1));
  self->keyboardManager_ = static_cast<zwp_virtual_keyboard_manager_v1*>(
      c.bind(&zwp_virtual_keyboard_manager_v1_interface, 1, 1));
  self->pointerManager_ = static_cast<zwlr_virtual_pointer_manager_v1*>(
      c.bind(&zwlr_virtual_pointer_manager_v1_interface, 1, 2));
  if (!self->seat_ || !self->keyboardManager_ || !self->pointerManager_) {
    throw DeskcastError(errc::kDisplayOpen,
                        "Wayland display '" + config.socket + "' lacks " +
                            (!self->seat_ ? "a seat" : !self->keyboardManager_ ? "zwp_virtual_keyboard_manager_v1"
                                                                              : "zwlr_virtual_pointer_manager_v1") +
                            ": remote control needs a wlroots-style compositor (sway, labwc, Hyprland); "
                            "GNOME and KDE take input through the RemoteDesktop portal (not covered)");
  }

  // The keymap first: a virtual keyboard without one may not send keys.
  self->xkb_ = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
  xkb_rule_names names{};
  names.rules = "evdev";
  names.model = "pc105";
  names.layout = config.xkbLayout.c_str();
  names.variant = config.xkbVariant.empty() ? nullptr : config.xkbVariant.c_str();
  xkb_keymap* base = self->xkb_ ? xkb_keymap_new_from_names(self->xkb_, &names, XKB_KEYMAP_COMPILE_NO_FLAGS) : nullptr;
  if (!base) {
    throw DeskcastError(errc::kInvalidOption, "xkbcommon cannot compile keyboard layout '" + config.xkbLayout +
                                                  (config.xkbVariant.empty() ? "" : "(" + config.xkbVariant + ")") +
                                                  "': use a name from /usr/share/X11/xkb/symbols (us, de, fr, ...)");
  }
  char* text = xkb_keymap_get_as_string(base, XKB_KEYMAP_FORMAT_TEXT_V1);
  self->baseKeymapText_ = text;
  free(text);
  // Spare keycodes: named keys of the evdev map without symbols (<I248>, <FK13>, ...), below 256
  // so Xwayland clients see them too.
  for (xkb_keycode_t kc = xkb_keymap_min_keycode(base); kc <= xkb_keymap_max_keycode(base) && kc < 256; kc++) {
    const char* name = xkb_keymap_key_get_name(base, kc);
    if (name && xkb_keymap_num_layouts_for_key(base, kc) == 0) {
      self->spares_.push_back({kc, name, 0, 0});
    }
  }
  xkb_keymap_unref(base);

  self->keyboard_ = zwp_virtual_keyboard_manager_v1_create_virtual_keyboard(self->keyboardManager_, self->seat_);
  self->pointer_ = zwlr_virtual_pointer_manager_v1_get_version(self->pointerManager_) >= 2
                       ? zwlr_virtual_pointer_manager_v1_create_virtual_pointer_with_output(
                             self->pointerManager_, self->seat_, self->output_->proxy)
                       : zwlr_virtual_pointer_manager_v1_create_virtual_pointer(self->pointerManager_, self->seat_);
  self->uploadKeymap();
  if (!c.roundtrip(kOpenTimeoutMs)) {
    throw DeskcastError(errc::kDisplayOpen, "the compositor refused the virtual keyboard or pointer: " + c.errorText());
  }
  events.postLog(false, "Wayland input on '" + config.socket + "': virtual keyboard (layout " + config.xkbLayout +
                            (config.xkbVariant.empty() ? "" : "(" + config.xkbVariant + ")") + ", " +
                            std::to_string(self->spares_.size()) + " spare keycodes) and virtual pointer on output " +
                            (self->output_->name.empty() ? "(first)" : self->output_->name));
  return self;
}

WaylandInputInjector::WaylandInputInjector(std::unique_ptr<WaylandConnection> connection, EventSink& events)
    : connection_(std::move(connection)), events_(events) {
  spares_.reserve(256);
}

WaylandInputInjector::~WaylandInputInjector() {
  if (keyboard_) zwp_virtual_keyboard_v1_destroy(keyboard_);
  if (pointer_) zwlr_virtual_pointer_v1_destroy(pointer_);
  if (keyboardManager_) zwp_virtual_keyboard_manager_v1_destroy(keyboardManager_);
  if (pointerManager_) zwlr_virtual_pointer_manager_v1_destroy(pointerManager_);
  if (seat_) wl_seat_destroy(seat_);
  if (state_) xkb_state_unref(state_);
  if (keymap_) xkb_keymap_unref(keymap_);
  if (xkb_) xkb_context_unref(xkb_);
  connection_->flush();
}

uint32_t WaylandInputInjector::nowMs() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint32_t>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void WaylandInputInjector::compileKeymap(const std::string& text) {
  xkb_keymap* km = xkb_keymap_new_from_string(xkb_, text.c_str(), XKB_KEYMAP_FORMAT_TEXT_V1,
                                              XKB_KEYMAP_COMPILE_NO_FLAGS);
  if (!km) throw DeskcastError(errc::kInternal, "xkbcommon rejected the keymap deskcast generated");
  // Keep the modifier state (latched/locked) across a re-upload, as the compositor does.
  xkb_mod_mask_t locked = state_ ? xkb_state_serialize_mods(state_, XKB_STATE_MODS_LOCKED) : 0;
  if (state_) xkb_state_unref(state_);
  if (keymap_) xkb_keymap_unref(keymap_);
  keymap_ = km;
  state_ = xkb_state_new(km);
  for (const PressedKey& p : pressed_) {
    if (p.keycode) xkb_state_update_key(state_, p.keycode, XKB_KEY_DOWN);
  }
  xkb_state_update_mask(state_, xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED), 0, locked, 0, 0, 0);
  auto mask = [&](const char* name) {
    xkb_mod_index_t i = xkb_keymap_mod_get_index(km, name);
    return i == XKB_MOD_INVALID ? 0u : (1u << i);
  };
  shiftMask_ = mask(XKB_MOD_NAME_SHIFT);
  lockMask_ = mask(XKB_MOD_NAME_CAPS);
  // LevelThree is Mod5 and LevelFive Mod3 on the evdev rules.
  level3Mask_ = mask("Mod5");
  level5Mask_ = mask("Mod3");
  shortcutMask_ = mask(XKB_MOD_NAME_CTRL) | mask(XKB_MOD_NAME_ALT) | mask(XKB_MOD_NAME_LOGO);
}

void WaylandInputInjector::uploadKeymap() {
  std::string text = baseKeymapText_;
  if (sparesBound_) {
    std::string extra;
    for (const SpareKeycode& s : spares_) {
      if (!s.keysym) continue;
      char lower[64], upper[64];
      xkb_keysym_get_name(s.keysym, lower, sizeof lower);
      const uint32_t up = xkb_keysym_to_upper(s.keysym);
      xkb_keysym_get_name(up, upper, sizeof upper);
      extra += "\tkey <" + s.name + "> { [ " + lower + (up != s.keysym ? std::string(", ") + upper : std::string()) +
               " ] };\n";
    }
    // Into the xkb_symbols section, before its closing "};".
    size_t symbols = text.find("xkb_symbols");
    size_t end = symbols == std::string::npos ? std::string::npos : text.find("\n};", symbols);
    if (end != std::string::npos) text.insert(end + 1, extra);
  }
  compileKeymap(text);
  // The compositor maps the fd: a sealed memfd with the text and its terminating NUL.
  const size_t size = text.size() + 1;
  int fd = memfd_create("deskcast-keymap", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) != 0 ||
      pwrite(fd, text.c_str(), size, 0) != static_cast<ssize_t>(size)) {
    if (fd >= 0) close(fd);
    throw DeskcastError(errc::kInternal, "cannot write the keymap for the virtual keyboard: " + errnoText(errno));
  }
  zwp_virtual_keyboard_v1_keymap(keyboard_, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, fd, static_cast<uint32_t>(size));
  close(fd);  // libwayland sent a duplicate
  syncMods(true);
  connection_->flush();
}

void WaylandInputInjector::handleEvents() {
  // Only output mode changes matter (they arrive on the output proxies); the rest is ignored.
  connection_->dispatchAvailable();
}

// --- pointer ---

void WaylandInputInjector::pointerAbsolute(int x, int y) {
  const int modeWidth = output_->modeWidth, modeHeight = output_->modeHeight;
  if (modeWidth <= 0 || modeHeight <= 0) return;
  // (x, y) is on the upright picture, as capture delivers it (a 90° output is portrait) ...
  const int32_t transform = output_->transform;
  const int w = quarterTurned(transform) ? modeHeight : modeWidth;
  const int h = quarterTurned(transform) ? modeWidth : modeHeight;
  x = x < 0 ? 0 : x >= w ? w - 1 : x;
  y = y < 0 ? 0 : y >= h ? h - 1 : y;
  // ... while wlroots maps absolute motion in the framebuffer's orientation: send it there
  // (continuous coordinates, so integer points stay integer). Extent = the framebuffer in
  // pixels: the compositor maps it onto the output whatever its scale.
  int fx = x, fy = y;
  uprightToFramebuffer(transform, w, h, x, y, 0, &fx, &fy);
  zwlr_virtual_pointer_v1_motion_absolute(pointer_, nowMs(), static_cast<uint32_t>(fx), static_cast<uint32_t>(fy),
                                          static_cast<uint32_t>(modeWidth), static_cast<uint32_t>(modeHeight));
  zwlr_virtual_pointer_v1_frame(pointer_);
}

void WaylandInputInjector::pointerRelative(int dx, int dy) {
  zwlr_virtual_pointer_v1_motion(pointer_, nowMs(), wl_fixed_from_int(dx), wl_fixed_from_int(dy));
  zwlr_virtual_pointer_v1_frame(pointer_);
}

void WaylandInputInjector::button(int button, bool down) {
  const uint32_t code = linuxButton(button);
  if (!code) return;
  const uint16_t bit = static_cast<uint16_t>(1u << button);
  if (down == ((buttonsDown_ & bit) != 0)) return;  // no double press / stray release
  buttonsDown_ = down ? (buttonsDown_ | bit) : (buttonsDown_ & ~bit);
  zwlr_virtual_pointer_v1_button(pointer_, nowMs(), code,
                                 down ? WL_POINTER_BUTTON_STATE_PRESSED : WL_POINTER_BUTTON_STATE_RELEASED);
  zwlr_virtual_pointer_v1_frame(pointer_);
}

void WaylandInputInjector::scroll(int dxClicks, int dyClicks) {
  const uint32_t t = nowMs();
  // One notch = 15 units, what libinput reports for a wheel click.
  auto axis = [&](uint32_t which, int clicks) {
    if (clicks == 0) return;
    zwlr_virtual_pointer_v1_axis_source(pointer_, WL_POINTER_AXIS_SOURCE_WHEEL);
    zwlr_virtual_pointer_v1_axis_discrete(pointer_, t, which, wl_fixed_from_int(15 * clicks), clicks);
    zwlr_virtual_pointer_v1_frame(pointer_);
  };
  axis(WL_POINTER_AXIS_VERTICAL_SCROLL, dyClicks);
  axis(WL_POINTER_AXIS_HORIZONTAL_SCROLL, dxClicks);
}

// --- keys ---

bool WaylandInputInjector::shortcutModifierHeld() const {
  return (xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED) & shortcutMask_) != 0;
}

WaylandInputInjector::Choice WaylandInputInjector::find(uint32_t keysym, bool relevel) const {
  const KeysymAlternatives wanted = keysymAlternatives(keysym);
  const uint32_t adjustable = shiftMask_ | level3Mask_ | level5Mask_;
  const xkb_mod_mask_t depressed = xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED);
  Choice best;
  int bestCost = 1 << 20;
  for (xkb_keycode_t kc = xkb_keymap_min_keycode(keymap_); kc <= xkb_keymap_max_keycode(keymap_) && kc < 768; kc++) {
    if (xkb_keymap_num_layouts_for_key(keymap_, kc) == 0) continue;
    const xkb_layout_index_t layout = xkb_state_key_get_layout(state_, kc);
    if (layout == XKB_LAYOUT_INVALID) continue;
    const xkb_level_index_t levels = xkb_keymap_num_levels_for_key(keymap_, kc, layout);
    for (xkb_level_index_t level = 0; level < levels; level++) {
      const xkb_keysym_t* syms = nullptr;
      if (xkb_keymap_key_get_syms_by_level(keymap_, kc, layout, level, &syms) != 1 || !wanted.contains(syms[0])) {
        continue;
      }
      xkb_mod_mask_t masks[16];
      const size_t n = xkb_keymap_key_get_mods_for_level(keymap_, kc, layout, level, masks, 16);
      for (size_t i = 0; i < n; i++) {
        uint32_t mods;
        if (relevel) {
          if (masks[i] & ~adjustable) continue;  // never fake Lock, Control, ...
          mods = masks[i];
        } else {
          // Shortcuts: the modifiers stay as the viewer holds them; the key must give the keysym
          // under them, else (second choice, costlier) any level of the key will do.
          mods = depressed;
        }
        int cost = popcount(mods ^ (depressed & adjustable)) + (keysDown_[kc] ? 8 : 0) +
                   (!relevel && masks[i] != (depressed & ~shortcutMask_) ? 4 : 0) + (kc > 255 ? 2 : 0);
        if (cost < bestCost) {
          bestCost = cost;
          best = {kc, mods};
        }
      }
    }
  }
  return best;
}

void WaylandInputInjector::bindSpares(const uint32_t* keysyms, size_t count) {
  bool changed = false;
  for (size_t k = 0; k < count; k++) {
    const uint32_t sym = xkb_keysym_to_lower(keysyms[k]);
    bool have = false;
    for (SpareKeycode& s : spares_) {
      if (s.keysym == sym) {
        s.lastUse = ++useCounter_;
        have = true;
      }
    }
    if (have) continue;
    // Least recently used, never one that is down.
    SpareKeycode* victim = nullptr;
    for (SpareKeycode& s : spares_) {
      if (s.keycode < keysDown_.size() && keysDown_[s.keycode]) continue;
      if (!victim || s.lastUse < victim->lastUse) victim = &s;
    }
    if (!victim) break;
    victim->keysym = sym;
    victim->lastUse = ++useCounter_;
    changed = true;
  }
  if (changed) {
    sparesBound_ = true;
    uploadKeymap();
  }
}

WaylandInputInjector::Choice WaylandInputInjector::resolveOrBind(uint32_t keysym, bool relevel) {
  Choice c = find(keysym, relevel);
  if (c.keycode || !relevel) return c;
  bindSpares(&keysym, 1);
  return find(keysym, relevel);
}

void WaylandInputInjector::sendKey(uint32_t keycode, bool down) {
  if (keycode < 8 || keycode >= keysDown_.size()) return;
  keysDown_[keycode] = down;
  xkb_state_update_key(state_, keycode, down ? XKB_KEY_DOWN : XKB_KEY_UP);
  // The protocol speaks evdev codes (XKB keycode − 8).
  zwp_virtual_keyboard_v1_key(keyboard_, nowMs(), keycode - 8,
                              down ? WL_KEYBOARD_KEY_STATE_PRESSED : WL_KEYBOARD_KEY_STATE_RELEASED);
  // wlroots does not derive a virtual keyboard's modifiers from its keys: they are ours to send.
  syncMods();
}

void WaylandInputInjector::sendMods(const std::array<uint32_t, 4>& mods) {
  zwp_virtual_keyboard_v1_modifiers(keyboard_, mods[0], mods[1], mods[2], mods[3]);
  sentMods_ = mods;
}

void WaylandInputInjector::syncMods(bool force) {
  const std::array<uint32_t, 4> now = {xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED),
                                       xkb_state_serialize_mods(state_, XKB_STATE_MODS_LATCHED),
                                       xkb_state_serialize_mods(state_, XKB_STATE_MODS_LOCKED),
                                       xkb_state_serialize_layout(state_, XKB_STATE_LAYOUT_EFFECTIVE)};
  if (force || now != sentMods_) sendMods(now);
}

void WaylandInputInjector::pressWithMods(uint32_t keycode, uint32_t mods) {
  const xkb_mod_mask_t depressed = xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED);
  const xkb_mod_mask_t locked = xkb_state_serialize_mods(state_, XKB_STATE_MODS_LOCKED);
  const uint32_t adjustable = shiftMask_ | level3Mask_ | level5Mask_;
  const uint32_t wantDepressed = (depressed & ~adjustable) | mods;
  // Caps Lock would capitalise what the level search chose: off around the press.
  const uint32_t wantLocked = locked & ~lockMask_ & ~adjustable;
  if (wantDepressed != depressed || wantLocked != locked) {
    sendMods({wantDepressed, 0, wantLocked, xkb_state_serialize_layout(state_, XKB_STATE_LAYOUT_EFFECTIVE)});
  }
  sendKey(keycode, true);  // then syncMods() restores them right after the press, as on X11
}

void WaylandInputInjector::releaseId(const KeyId& id) {
  for (PressedKey& p : pressed_) {
    if (p.keycode && p.id == id) {
      sendKey(p.keycode, false);
      p.keycode = 0;
    }
  }
}

void WaylandInputInjector::key(const KeyId& id, uint32_t keysym, uint32_t physicalKeycode, bool down, KeyMode mode) {
  if (!down) {
    releaseId(id);
    return;
  }
  releaseId(id);  // browser auto-repeat: release + press, one character each
  Choice c;
  if (mode == KeyMode::kRaw && physicalKeycode >= 8 && physicalKeycode < keysDown_.size()) {
    c = {physicalKeycode, xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED) & (shiftMask_ | level3Mask_ | level5Mask_)};
  } else if (isLevelIndependentKeysym(keysym) || shortcutModifierHeld()) {
    c = find(keysym, false);
    if (!c.keycode && physicalKeycode >= 8 && physicalKeycode < keysDown_.size()) {
      // Ctrl+C on a layout without 'c' in this group: the physical key.
      c = {physicalKeycode, xkb_state_serialize_mods(state_, XKB_STATE_MODS_DEPRESSED)};
    }
    if (c.keycode) sendKey(c.keycode, true);
  } else {
    c = resolveOrBind(keysym, true);
    if (c.keycode) pressWithMods(c.keycode, c.mods);
  }
  if (!c.keycode) {
    events_.postLog(true, "keysym 0x" + [&] {
      char b[16];
      snprintf(b, sizeof b, "%x", keysym);
      return std::string(b);
    }() + " cannot be typed on this keymap");
    return;
  }
  if (mode == KeyMode::kRaw) sendKey(c.keycode, true);
  for (PressedKey& p : pressed_) {
    if (!p.keycode) {
      p.id = id;
      p.keycode = c.keycode;
      return;
    }
  }
  sendKey(c.keycode, false);  // more than 32 keys held: do not leave this one stuck
}

void WaylandInputInjector::text(const char32_t* codepoints, size_t count) {
  // Bind every missing character of this chunk with one keymap upload.
  uint32_t missing[InputCommand::kMaxTextChunk];
  size_t nMissing = 0;
  for (size_t i = 0; i < count && nMissing < InputCommand::kMaxTextChunk; i++) {
    const uint32_t sym = unicodeKeysym(codepoints[i]);
    if (sym && !find(sym, true).keycode) missing[nMissing++] = sym;
  }
  if (nMissing) bindSpares(missing, nMissing);
  for (size_t i = 0; i < count; i++) {
    const uint32_t sym = unicodeKeysym(codepoints[i]);
    if (!sym) continue;
    Choice c = resolveOrBind(sym, true);
    if (!c.keycode) continue;
    pressWithMods(c.keycode, c.mods);
    sendKey(c.keycode, false);
  }
}

void WaylandInputInjector::releaseAll() {
  for (PressedKey& p : pressed_) {
    if (p.keycode) sendKey(p.keycode, false);
    p.keycode = 0;
  }
  for (size_t kc = 0; kc < keysDown_.size(); kc++) {
    if (keysDown_[kc]) sendKey(static_cast<uint32_t>(kc), false);
  }
  for (int b = 1; b <= 9; b++) {
    if (buttonsDown_ & (1u << b)) button(b, false);
  }
  if (sparesBound_) {
    for (SpareKeycode& s : spares_) s.keysym = 0;
    sparesBound_ = false;
    uploadKeymap();
  } else {
    syncMods(true);
  }
  connection_->flush();
}

}  // namespace deskcast
