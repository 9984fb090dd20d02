#include "input/x11_input_injector.h"

#include <X11/XKBlib.h>
#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <xkbcommon/xkbcommon.h>

#include "common/errors.h"
#include "common/media_clock.h"
#include "input/keysym_unicode.h"

namespace deskcast {
namespace {

// A recycled spare keycode is rebound only this long after its last press. Xlib re-reads the
// keymap as soon as it *reads* the MapNotify of a rebind, so a client that has not yet read an
// earlier press of the keycode would translate it with the new binding (a wrong character). A
// 100 ms guard lost characters in an xterm on a loaded 2-core machine; 1 s holds there, and still
// lets 19 new distinct missing characters a second through (Xvfb has 19 spares).
constexpr int64_t kMinRebindIntervalNs = 1'000'000'000;
constexpr int64_t kWarnIntervalNs = 5'000'000'000;
constexpr uint8_t kShortcutMods = ControlMask | Mod1Mask | Mod4Mask;
// Root-window property listing our temporary bindings as (keycode, keysym) pairs. It lives as
// long as the X server does, so a deskcast killed without clean-up (SIGKILL, power loss of the
// host process) leaves a note the next injector on that display reads to remove them.
constexpr const char* kBindingsProperty = "_DESKCAST_INPUT_BINDINGS";
// Root-window property listing what is held down for the viewer: keycodes, and 256 + n for
// button n. XTest presses outlive their client: a SIGKILLed deskcast would leave them down (a
// stuck Shift, a letter auto-repeating) until the next injector on that display releases them.
constexpr const char* kHeldProperty = "_DESKCAST_INPUT_HELD";
constexpr long kButtonNoteBase = 256;

KeymapSnapshot snapshotOf(XkbDescPtr desc) {
  KeymapSnapshot snap;
  snap.minKeycode = desc->min_key_code;
  snap.maxKeycode = desc->max_key_code;
  XkbClientMapPtr map = desc->map;
  snap.types.resize(map->num_types);
  for (int t = 0; t < map->num_types; t++) {
    const XkbKeyTypeRec& type = map->types[t];
    KeyTypeSnapshot& out = snap.types[t];
    out.mask = type.mods.mask;
    out.numLevels = type.num_levels;
    for (int e = 0; e < type.map_count; e++) {
      if (!type.map[e].active) continue;
      KeyTypeSnapshot::Entry entry;
      entry.mods = type.map[e].mods.mask;
      entry.level = type.map[e].level;
      entry.preserve = type.preserve != nullptr ? type.preserve[e].mask : 0;
      out.entries.push_back(entry);
    }
  }
  for (int kc = desc->min_key_code; kc <= desc->max_key_code; kc++) {
    KeySnapshot& key = snap.keys[kc];
    int groups = XkbKeyNumGroups(desc, kc);
    key.numGroups = static_cast<uint8_t>(std::min(groups, 4));
    unsigned char info = XkbKeyGroupInfo(desc, kc);
    switch (XkbOutOfRangeGroupAction(info)) {
      case XkbClampIntoRange: key.outOfRange = KeySnapshot::OutOfRange::kClamp; break;
      case XkbRedirectIntoRange: key.outOfRange = KeySnapshot::OutOfRange::kRedirect; break;
      default: key.outOfRange = KeySnapshot::OutOfRange::kWrap; break;
    }
    key.redirectGroup = static_cast<uint8_t>(XkbOutOfRangeGroupNumber(info));
    key.width = static_cast<uint8_t>(XkbKeyGroupsWidth(desc, kc));
    key.modmap = map->modmap != nullptr ? map->modmap[kc] : 0;
    for (int g = 0; g < key.numGroups; g++) key.types[g] = XkbKeyKeyTypeIndex(desc, kc, g);
    key.symsOffset = static_cast<uint32_t>(snap.syms.size());
    const KeySym* syms = XkbKeySymsPtr(desc, kc);
    int count = XkbKeyNumSyms(desc, kc);
    for (int i = 0; i < count; i++) snap.syms.push_back(static_cast<uint32_t>(syms[i]));
    if (count == 0) key.numGroups = 0;
  }
  return snap;
}

// Letters are bound as a lower/upper pair (the server gives the key the ALPHABETIC type), so
// Shift and Caps Lock on the desktop select the case as they would on a real key.
size_t bindingSyms(uint32_t keysym, KeySym out[2]) {
  KeySym lower = 0, upper = 0;
  XConvertCase(keysym, &lower, &upper);
  if (lower != upper) {
    out[0] = lower;
    out[1] = upper;
    return 2;
  }
  out[0] = keysym;
  return 1;
}

}  // namespace

std::unique_ptr<X11InputInjector> X11InputInjector::open(const std::string& displayName,
                                                         EventSink& events) {
  std::unique_ptr<X11Display> display = X11Display::open(displayName);
  Display* dpy = display->get();
  int eventBase, errorBase, major, minor;
  if (!XTestQueryExtension(dpy, &eventBase, &errorBase, &major, &minor)) {
    throw DeskcastError(errc::kNoXTest,
                        "X display '" + displayName + "' has no XTEST extension, so remote "
                        "control cannot inject input: enable XTEST in the X server (Xvfb and Xorg "
                        "have it unless started with -extension XTEST)");
  }
  int opcode, xkbEventBase, xkbErrorBase;
  major = XkbMajorVersion;
  minor = XkbMinorVersion;
  if (!XkbQueryExtension(dpy, &opcode, &xkbEventBase, &xkbErrorBase, &major, &minor)) {
    throw DeskcastError(errc::kNoXTest,
                        "X display '" + displayName + "' has no XKEYBOARD extension: remote "
                        "control needs it to map keys to the desktop's layout");
  }
  std::unique_ptr<X11InputInjector> injector(new X11InputInjector(std::move(display), events));
  injector->xkbEventBase_ = xkbEventBase;
  injector->bindingsAtom_ = XInternAtom(dpy, kBindingsProperty, False);
  injector->heldAtom_ = XInternAtom(dpy, kHeldProperty, False);
  injector->releaseLeftoverHeld();
  injector->removeLeftoverBindings();
  // Keymap changes (setxkbmap, our own bindings) mark the snapshot stale.
  XkbSelectEvents(dpy, XkbUseCoreKbd, XkbMapNotifyMask | XkbNewKeyboardNotifyMask,
                  XkbMapNotifyMask | XkbNewKeyboardNotifyMask);
  // Root ConfigureNotify tells screen-size changes (RandR), for pointer clamping.
  XSelectInput(dpy, injector->root_, StructureNotifyMask);
  // XTest keeps our fake input flowing even if another client grabs the server.
  XTestGrabControl(dpy, True);
  injector->refreshKeymap();
  XSync(dpy, False);
  if (injector->connectionLost()) {
    throw DeskcastError(errc::kDisplayLost, "X display '" + displayName + "' went away while connecting");
  }
  return injector;
}

X11InputInjector::X11InputInjector(std::unique_ptr<X11Display> display, EventSink& events)
    : display_(std::move(display)), dpy_(display_->get()), events_(events) {
  screen_ = DefaultScreen(dpy_);
  root_ = RootWindow(dpy_, screen_);
  screenWidth_ = DisplayWidth(dpy_, screen_);
  screenHeight_ = DisplayHeight(dpy_, screen_);
  spares_.reserve(256);
}

X11InputInjector::~X11InputInjector() = default;

int X11InputInjector::pollFd() const { return ConnectionNumber(dpy_); }

void X11InputInjector::flush() {
  if (!connectionLost()) XFlush(dpy_);
}

void X11InputInjector::handleEvents() {
  while (!connectionLost() && XPending(dpy_) > 0) {
    XEvent event;
    XNextEvent(dpy_, &event);
    if (event.type == xkbEventBase_) {
      const auto* xkb = reinterpret_cast<const XkbEvent*>(&event);
      if (xkb->any.xkb_type == XkbMapNotify || xkb->any.xkb_type == XkbNewKeyboardNotify) {
        keymapStale_ = true;
      }
    } else if (event.type == MappingNotify) {
      XRefreshKeyboardMapping(&event.xmapping);
      keymapStale_ = true;
    } else if (event.type == ConfigureNotify && event.xconfigure.window == root_) {
      screenWidth_ = event.xconfigure.width;
      screenHeight_ = event.xconfigure.height;
    }
  }
}

void X11InputInjector::refreshKeymap() {
  XkbDescPtr desc =
      XkbGetMap(dpy_, XkbKeyTypesMask | XkbKeySymsMask | XkbModifierMapMask, XkbUseCoreKbd);
  if (desc == nullptr) return;  // connection lost (noticed by the thread) or out of memory
  keymap_ = snapshotOf(desc);
  XkbFreeKeyboard(desc, 0, True);
  keymapStale_ = false;

  // The keys the injector presses to reach a level: Shift, ISO_Level3_Shift, ISO_Level5_Shift.
  shift_ = level3_ = level5_ = ModifierKey{};
  for (int kc = keymap_.minKeycode; kc <= keymap_.maxKeycode; kc++) {
    uint8_t modmap = keymap_.keys[kc].modmap;
    if (modmap == 0) continue;
    uint32_t sym = keymap_.keysym(kc, 0, 0);
    ModifierKey* target = nullptr;
    if ((sym == XK_Shift_L || sym == XK_Shift_R) && (modmap & ShiftMask)) target = &shift_;
    else if (sym == XK_ISO_Level3_Shift) target = &level3_;
    else if (sym == XK_ISO_Level5_Shift) target = &level5_;
    if (target == nullptr || (target->keycode != 0 && sym != XK_Shift_L)) continue;
    if (target == &shift_) modmap = ShiftMask;
    *target = ModifierKey{kc, modmap};
  }
  // The two must not share a modifier, or faking one would be faking both.
  if (level5_.mask & (level3_.mask | shift_.mask)) level5_ = ModifierKey{};
  if (level3_.mask & shift_.mask) level3_ = ModifierKey{};

  // Spare keycodes: our bindings that the keymap still has, plus symbol-less keycodes. A new
  // keymap (setxkbmap) replaces our bindings: those are forgotten, not restored later.
  size_t kept = 0;
  for (SpareKeycode& s : spares_) {
    const KeySnapshot& key = keymap_.keys[s.keycode];
    bool stillOurs = s.keysym != 0 && key.numGroups == 1 && keymap_.keysym(s.keycode, 0, 0) == s.keysym;
    bool stillEmpty = s.keysym == 0 && !keymap_.hasSymbols(s.keycode) && key.modmap == 0;
    if (s.keycode >= keymap_.minKeycode && s.keycode <= keymap_.maxKeycode && (stillOurs || stillEmpty)) {
      spares_[kept++] = s;
    }
  }
  spares_.resize(kept);
  for (int kc = std::max(keymap_.minKeycode, 9); kc <= keymap_.maxKeycode; kc++) {
    if (keymap_.hasSymbols(kc) || keymap_.keys[kc].modmap != 0) continue;
    bool known = std::any_of(spares_.begin(), spares_.end(),
                             [kc](const SpareKeycode& s) { return s.keycode == kc; });
    if (!known) spares_.push_back(SpareKeycode{kc, 0, 0, 0});
  }
}

KeyboardState X11InputInjector::queryState() {
  XkbStateRec rec{};
  KeyboardState state;
  if (XkbGetState(dpy_, XkbUseCoreKbd, &rec) != Success) return state;
  state.mods = rec.mods;
  state.stickyMods = rec.latched_mods | rec.locked_mods;
  state.group = rec.group;
  return state;
}

bool X11InputInjector::shortcutModifierHeld() const noexcept {
  for (const PressedKey& p : pressed_) {
    if (p.keycode != 0 && (keymap_.keys[p.keycode].modmap & kShortcutMods)) return true;
  }
  return false;
}

void X11InputInjector::fakeKey(int keycode, bool down) {
  XTestFakeKeyEvent(dpy_, static_cast<unsigned>(keycode), down ? True : False, CurrentTime);
}

bool X11InputInjector::resolve(uint32_t keysym, uint32_t physicalKeycode, KeyMode mode,
                               bool commit, const KeyboardState& state, int* keycode,
                               uint8_t* mods) {
  const bool physicalKnown = physicalKeycode >= static_cast<uint32_t>(keymap_.minKeycode) &&
                             physicalKeycode <= static_cast<uint32_t>(keymap_.maxKeycode);
  if (mode == KeyMode::kRaw && physicalKnown) {
    *keycode = static_cast<int>(physicalKeycode);
    *mods = state.mods;
    return true;
  }
  // While the viewer holds Ctrl/Alt/Super the key is part of a shortcut: keep the modifiers
  // the viewer has, so Ctrl+Shift+T stays that, and fall back to the physical key (Ctrl+C on a
  // Cyrillic layout has no 'c' in the current group but must still reach the app as Ctrl+C).
  const bool shortcut = !commit && shortcutModifierHeld();
  const bool relevel = !shortcut && !isLevelIndependentKeysym(keysym);
  KeysymAlternatives wanted = keysymAlternatives(keysym);
  KeyChoice choice = findKeyForKeysym(keymap_, wanted, state, adjustableMods(), relevel, &keysDown_);
  if (choice.keycode == 0 && shortcut && physicalKnown) {
    *keycode = static_cast<int>(physicalKeycode);
    *mods = state.mods;
    return true;
  }
  if (choice.keycode == 0 && bindSpareKeycode(keysym) != 0) {
    choice = findKeyForKeysym(keymap_, wanted, state, adjustableMods(), relevel, &keysDown_);
  }
  if (choice.keycode == 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", keysym);
    warnRateLimited(std::string("input: cannot type keysym ") + hex +
                    (spares_.empty() ? " (the keymap has no spare keycode to bind it to)"
                                     : " (every spare keycode is held down)"));
    return false;
  }
  touchSpare(choice.keycode);
  *keycode = choice.keycode;
  *mods = choice.mods;
  return true;
}

void X11InputInjector::touchSpare(int keycode) {
  for (SpareKeycode& s : spares_) {
    if (s.keycode == keycode && s.keysym != 0) {
      s.lastUse = ++useCounter_;
      s.lastUseNs = MediaClock::nowNs();
    }
  }
}

int X11InputInjector::bindSpareKeycode(uint32_t keysym) {
  // Bind the legacy keysym where X has one (EuroSign rather than U+20AC): older clients know it.
  char32_t cp = keysymToCodepoint(keysym);
  uint32_t bound = cp >= 0x20 ? xkb_utf32_to_keysym(cp) : keysym;
  if (bound == 0) bound = keysym;
  SpareKeycode* chosen = nullptr;
  for (SpareKeycode& s : spares_) {
    if (keysDown_[s.keycode]) continue;  // never rebind a key that is down
    if (s.keysym == 0) {
      chosen = &s;
      break;
    }
    if (chosen == nullptr || s.lastUse < chosen->lastUse) chosen = &s;
  }
  if (chosen == nullptr) return 0;
  if (chosen->keysym != 0) {
    int64_t age = MediaClock::nowNs() - chosen->lastUseNs;
    if (age < kMinRebindIntervalNs) {
      XSync(dpy_, False);
      std::this_thread::sleep_for(std::chrono::nanoseconds(kMinRebindIntervalNs - age));
    }
  }
  KeySym syms[2];
  size_t n = bindingSyms(bound, syms);
  XChangeKeyboardMapping(dpy_, chosen->keycode, static_cast<int>(n), syms, 1);
  chosen->keysym = static_cast<uint32_t>(syms[0]);
  recordBindings();
  XSync(dpy_, False);  // the server applies it before we press the key
  chosen->lastUse = ++useCounter_;
  chosen->lastUseNs = MediaClock::nowNs();
  int keycode = chosen->keycode;
  refreshKeymap();
  return keycode;
}

void X11InputInjector::unbindSpareKeycodes() {
  bool changed = false;
  for (SpareKeycode& s : spares_) {
    if (s.keysym == 0 || keysDown_[s.keycode]) continue;
    KeySym none = NoSymbol;
    XChangeKeyboardMapping(dpy_, s.keycode, 1, &none, 1);
    s.keysym = 0;
    changed = true;
  }
  if (changed) {
    recordBindings();
    XSync(dpy_, False);
    keymapStale_ = true;
  }
}

void X11InputInjector::recordBindings() {
  std::vector<long> pairs;  // format 32 property data is passed as longs
  for (const SpareKeycode& s : spares_) {
    if (s.keysym == 0) continue;
    pairs.push_back(s.keycode);
    pairs.push_back(static_cast<long>(s.keysym));
  }
  if (pairs.empty()) {
    XDeleteProperty(dpy_, root_, bindingsAtom_);
  } else {
    XChangeProperty(dpy_, root_, bindingsAtom_, XA_INTEGER, 32, PropModeReplace,
                    reinterpret_cast<const unsigned char*>(pairs.data()),
                    static_cast<int>(pairs.size()));
  }
}

void X11InputInjector::recordHeld() {
  std::vector<long> held;
  for (int kc = 0; kc < 256; kc++) {
    if (keysDown_[kc]) held.push_back(kc);
  }
  for (int b = 1; b <= 9; b++) {
    if (buttonsDown_ & (1u << b)) held.push_back(kButtonNoteBase + b);
  }
  if (held == heldNote_) return;  // a browser repeat re-presses the same key: nothing to write
  heldNote_ = held;
  if (held.empty()) {
    XDeleteProperty(dpy_, root_, heldAtom_);
  } else {
    XChangeProperty(dpy_, root_, heldAtom_, XA_INTEGER, 32, PropModeReplace,
                    reinterpret_cast<const unsigned char*>(held.data()), static_cast<int>(held.size()));
  }
}

void X11InputInjector::releaseLeftoverHeld() {
  Atom type = None;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  if (XGetWindowProperty(dpy_, root_, heldAtom_, 0, 1024, True, XA_INTEGER, &type, &format, &count,
                         &after, &data) != Success) {
    return;
  }
  int released = 0;
  if (type == XA_INTEGER && format == 32 && data != nullptr) {
    char keys[32];
    XQueryKeymap(dpy_, keys);
    Window rootReturn, childReturn;
    int rootX, rootY, winX, winY;
    unsigned int pointerMask = 0;
    XQueryPointer(dpy_, root_, &rootReturn, &childReturn, &rootX, &rootY, &winX, &winY, &pointerMask);
    const long* held = reinterpret_cast<const long*>(data);
    for (unsigned long i = 0; i < count; i++) {
      long n = held[i];
      if (n >= 8 && n < 256) {
        if (!(keys[n / 8] & (1 << (n % 8)))) continue;  // released since (by a user's key-up)
        fakeKey(static_cast<int>(n), false);
        released++;
      } else if (n > kButtonNoteBase && n <= kButtonNoteBase + 9) {
        int button = static_cast<int>(n - kButtonNoteBase);
        // The pointer state shows buttons 1-5 only; 8 and 9 are released as noted.
        if (button <= 5 && !(pointerMask & (Button1Mask << (button - 1)))) continue;
        XTestFakeButtonEvent(dpy_, static_cast<unsigned>(button), False, CurrentTime);
        released++;
      }
    }
  }
  if (data != nullptr) XFree(data);
  if (released > 0) {
    XSync(dpy_, False);
    events_.postLog(true, "input: released " + std::to_string(released) +
                              " key(s)/button(s) left pressed by a deskcast that did not exit "
                              "cleanly");
  }
}

void X11InputInjector::removeLeftoverBindings() {
  Atom type = None;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  if (XGetWindowProperty(dpy_, root_, bindingsAtom_, 0, 1024, True, XA_INTEGER, &type, &format,
                         &count, &after, &data) != Success) {
    return;
  }
  int removed = 0;
  int minKeycode = 0, maxKeycode = 0;
  XDisplayKeycodes(dpy_, &minKeycode, &maxKeycode);
  if (type == XA_INTEGER && format == 32 && data != nullptr) {
    const long* pairs = reinterpret_cast<const long*>(data);
    for (unsigned long i = 0; i + 1 < count; i += 2) {
      int keycode = static_cast<int>(pairs[i]);
      KeySym keysym = static_cast<KeySym>(pairs[i + 1]);
      if (keycode < minKeycode || keycode > maxKeycode || keysym == NoSymbol) continue;
      int perCode = 0;
      KeySym* syms = XGetKeyboardMapping(dpy_, static_cast<KeyCode>(keycode), 1, &perCode);
      // Only if the keycode still carries that binding: a new keymap (setxkbmap) replaced it.
      bool stillBound = syms != nullptr && perCode > 0 && syms[0] == keysym;
      if (syms != nullptr) XFree(syms);
      if (!stillBound) continue;
      KeySym none = NoSymbol;
      XChangeKeyboardMapping(dpy_, keycode, 1, &none, 1);
      removed++;
    }
  }
  if (data != nullptr) XFree(data);
  if (removed > 0) {
    XSync(dpy_, False);
    events_.postLog(true, "input: removed " + std::to_string(removed) +
                              " temporary keysym binding(s) left on the keymap by a deskcast "
                              "that did not exit cleanly");
  }
}

void X11InputInjector::pressWithModifiers(int keycode, const KeyboardState& state, uint8_t target) {
  const uint8_t adjustable = adjustableMods();
  const uint8_t toSet = target & ~state.mods & adjustable;
  const uint8_t toClear = state.mods & ~target & adjustable;
  int released[16];
  size_t releasedCount = 0;
  if (toClear != 0) {
    // Held keys set the modifier (the viewer's Shift, or a local user's): lift them briefly.
    char keys[32];
    XQueryKeymap(dpy_, keys);
    for (int kc = keymap_.minKeycode; kc <= keymap_.maxKeycode && releasedCount < 16; kc++) {
      if ((keys[kc / 8] & (1 << (kc % 8))) && (keymap_.keys[kc].modmap & toClear)) {
        fakeKey(kc, false);
        released[releasedCount++] = kc;
      }
    }
  }
  int pressedMods[3];
  size_t pressedCount = 0;
  for (const ModifierKey* m : {&shift_, &level3_, &level5_}) {
    if (m->keycode != 0 && (m->mask & toSet)) {
      fakeKey(m->keycode, true);
      pressedMods[pressedCount++] = m->keycode;
    }
  }
  fakeKey(keycode, true);
  while (pressedCount > 0) fakeKey(pressedMods[--pressedCount], false);
  for (size_t i = 0; i < releasedCount; i++) fakeKey(released[i], true);
}

void X11InputInjector::releaseId(const KeyId& id) {
  for (PressedKey& p : pressed_) {
    if (p.keycode == 0 || !(p.id == id)) continue;
    int keycode = p.keycode;
    p.keycode = 0;
    // Another id may hold the same keycode (two keys typing one keysym): keep it down then.
    bool stillHeld = std::any_of(pressed_.begin(), pressed_.end(),
                                 [keycode](const PressedKey& q) { return q.keycode == keycode; });
    if (!stillHeld) {
      fakeKey(keycode, false);
      keysDown_[keycode] = false;
    }
    return;
  }
  // A key-up for an id we never pressed (pressed before control started, or dropped): ignored.
}

void X11InputInjector::key(const KeyId& id, uint32_t keysym, uint32_t physicalKeycode, bool down,
                           KeyMode mode) {
  if (down) pressKey(id, keysym, physicalKeycode, mode);
  else releaseId(id);
  recordHeld();
}

void X11InputInjector::pressKey(const KeyId& id, uint32_t keysym, uint32_t physicalKeycode,
                                KeyMode mode) {
  // Repeat policy: a key-down for an id that is already down (browser auto-repeat) is re-sent
  // as release + press. Each browser repeat types exactly one character, and each press
  // restarts X's own auto-repeat timer (660 ms), which therefore never fires while browser
  // repeats keep coming.
  releaseId(id);
  refreshKeymapIfStale();
  KeyboardState state = queryState();
  if (connectionLost()) return;
  PressedKey* slot = nullptr;
  for (PressedKey& p : pressed_) {
    if (p.keycode == 0) {
      slot = &p;
      break;
    }
  }
  if (slot == nullptr) {
    warnRateLimited("input: more than 32 keys held at once; key ignored");
    return;
  }
  int keycode = 0;
  uint8_t mods = 0;
  if (!resolve(keysym, physicalKeycode, mode, false, state, &keycode, &mods)) return;
  pressWithModifiers(keycode, state, mods);
  slot->id = id;
  slot->keycode = keycode;
  keysDown_[keycode] = true;
}

void X11InputInjector::text(const char32_t* codepoints, size_t count) {
  for (size_t i = 0; i < count && !connectionLost(); i++) {
    uint32_t keysym = unicodeKeysym(codepoints[i]);
    if (keysym == 0) continue;
    refreshKeymapIfStale();
    KeyboardState state = queryState();
    int keycode = 0;
    uint8_t mods = 0;
    if (!resolve(keysym, 0, KeyMode::kText, true, state, &keycode, &mods)) continue;
    pressWithModifiers(keycode, state, mods);
    if (!keysDown_[keycode]) fakeKey(keycode, false);
  }
}

void X11InputInjector::releaseAll() {
  for (PressedKey& p : pressed_) {
    if (p.keycode != 0 && keysDown_[p.keycode]) {
      fakeKey(p.keycode, false);
      keysDown_[p.keycode] = false;
    }
    p.keycode = 0;
  }
  for (int b = 1; b <= 9; b++) {
    if (buttonsDown_ & (1u << b)) XTestFakeButtonEvent(dpy_, static_cast<unsigned>(b), False, CurrentTime);
  }
  buttonsDown_ = 0;
  recordHeld();
  unbindSpareKeycodes();
  XSync(dpy_, False);
}

void X11InputInjector::pointerAbsolute(int x, int y) {
  x = std::clamp(x, 0, std::max(0, screenWidth_ - 1));
  y = std::clamp(y, 0, std::max(0, screenHeight_ - 1));
  XTestFakeMotionEvent(dpy_, screen_, x, y, CurrentTime);
}

void X11InputInjector::pointerRelative(int dx, int dy) {
  XTestFakeRelativeMotionEvent(dpy_, dx, dy, CurrentTime);
}

void X11InputInjector::button(int button, bool down) {
  if (button < 1 || button > 9) return;
  const uint16_t bit = static_cast<uint16_t>(1u << button);
  // Only release what we pressed; a duplicate press would be dropped by X anyway.
  if (down == ((buttonsDown_ & bit) != 0)) return;
  XTestFakeButtonEvent(dpy_, static_cast<unsigned>(button), down ? True : False, CurrentTime);
  buttonsDown_ = down ? (buttonsDown_ | bit) : (buttonsDown_ & ~bit);
  recordHeld();
}

void X11InputInjector::scroll(int dxClicks, int dyClicks) {
  auto clicks = [this](unsigned button, int n) {
    if (buttonsDown_ & (1u << button)) return;
    for (int i = 0; i < n; i++) {
      XTestFakeButtonEvent(dpy_, button, True, CurrentTime);
      XTestFakeButtonEvent(dpy_, button, False, CurrentTime);
    }
  };
  clicks(dyClicks < 0 ? 4 : 5, std::abs(dyClicks));
  clicks(dxClicks < 0 ? 6 : 7, std::abs(dxClicks));
}

void X11InputInjector::warnRateLimited(const std::string& message) {
  int64_t now = MediaClock::nowNs();
  if (now - lastWarnNs_ < kWarnIntervalNs) return;
  lastWarnNs_ = now;
  events_.postLog(true, message);
}

}  // namespace deskcast
