// Browser keyboard events → X11 terms for the native InputInjector:
//  - the DOM `key` (what the viewer typed) → an X keysym (named keys from the table below,
//    single characters by X's Unicode rule);
//  - the DOM `code` (which physical key) → the X keycode of that key on an evdev keyboard
//    (X keycode = Linux evdev code + 8), used for 'raw' mode and for shortcuts whose letter is
//    not on the desktop's current layout (Ctrl+C on a Cyrillic layout).

/** Named DOM `key` values → keysyms. Left/right variants are chosen by `code` (see keysymForKey). */
const NAMED_KEYSYMS: Readonly<Record<string, number>> = {
  Backspace: 0xff08,
  Tab: 0xff09,
  Clear: 0xff0b,
  Enter: 0xff0d,
  Pause: 0xff13,
  ScrollLock: 0xff14,
  Escape: 0xff1b,
  Home: 0xff50,
  ArrowLeft: 0xff51,
  ArrowUp: 0xff52,
  ArrowRight: 0xff53,
  ArrowDown: 0xff54,
  PageUp: 0xff55,
  PageDown: 0xff56,
  End: 0xff57,
  Select: 0xff60,
  PrintScreen: 0xff61,
  Execute: 0xff62,
  Insert: 0xff63,
  Undo: 0xff65,
  Redo: 0xff66,
  ContextMenu: 0xff67, // Menu
  Find: 0xff68,
  Cancel: 0xff69,
  Help: 0xff6a,
  ModeChange: 0xff7e, // Mode_switch
  NumLock: 0xff7f,
  Shift: 0xffe1,
  Control: 0xffe3,
  CapsLock: 0xffe5,
  Meta: 0xffeb, // the Windows/Command key is Super on X desktops
  OS: 0xffeb,
  Super: 0xffeb,
  Hyper: 0xffed,
  Alt: 0xffe9,
  AltGraph: 0xfe03, // ISO_Level3_Shift
  Delete: 0xffff,
  // Input-method keys
  NonConvert: 0xff22, // Muhenkan
  Convert: 0xff23, // Henkan
  Romaji: 0xff24,
  Hiragana: 0xff25,
  Katakana: 0xff26,
  ZenkakuHankaku: 0xff2a,
  Eisu: 0xff2f,
  HangulMode: 0xff31,
  HanjaMode: 0xff34,
  // XF86 media and browser keys
  AudioVolumeDown: 0x1008ff11,
  AudioVolumeMute: 0x1008ff12,
  AudioVolumeUp: 0x1008ff13,
  MediaPlayPause: 0x1008ff14,
  MediaStop: 0x1008ff15,
  MediaTrackPrevious: 0x1008ff16,
  MediaTrackNext: 0x1008ff17,
  BrowserHome: 0x1008ff18,
  BrowserSearch: 0x1008ff1b,
  BrowserBack: 0x1008ff26,
  BrowserForward: 0x1008ff27,
  BrowserRefresh: 0x1008ff29,
  Power: 0x1008ff2a,
  Sleep: 0x1008ff2f,
};

/** Right-hand modifier keys have their own keysyms. */
const RIGHT_MODIFIER_KEYSYMS: Readonly<Record<string, number>> = {
  ShiftRight: 0xffe2,
  ControlRight: 0xffe4,
  AltRight: 0xffea,
  MetaRight: 0xffec,
  OSRight: 0xffec,
};

/**
 * Spacing accents (as a composition event or a layout reports them) → dead keysyms. The DOM
 * `key` of a dead key is just 'Dead'; the accent comes from the composition data.
 */
export const DEAD_KEYSYMS: Readonly<Record<string, number>> = {
  '`': 0xfe50, // dead_grave
  '´': 0xfe51, // dead_acute
  '^': 0xfe52, // dead_circumflex
  '~': 0xfe53, // dead_tilde
  '¯': 0xfe54, // dead_macron
  '˘': 0xfe55, // dead_breve
  '˙': 0xfe56, // dead_abovedot
  '¨': 0xfe57, // dead_diaeresis
  '˚': 0xfe58, // dead_abovering
  '˝': 0xfe59, // dead_doubleacute
  'ˇ': 0xfe5a, // dead_caron
  '¸': 0xfe5b, // dead_cedilla
  '˛': 0xfe5c, // dead_ogonek
};

/** X's rule: Latin-1 printables are their own keysym, other characters 0x01000000 | code point. */
export function keysymForCharacter(ch: string): number | undefined {
  const cp = ch.codePointAt(0);
  if (cp === undefined || String.fromCodePoint(cp) !== ch) return undefined; // not exactly one code point
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
  if (cp < 0x100 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return (0x01000000 | cp) >>> 0;
}

/** F1..F35 are consecutive keysyms from 0xffbe. */
function functionKeysym(key: string): number | undefined {
  const m = /^F([1-9]|[12]\d|3[0-5])$/.exec(key);
  return m ? 0xffbe + Number(m[1]) - 1 : undefined;
}

/**
 * The keysym for a DOM KeyboardEvent (`key`, and `code` for left/right modifiers). Undefined for
 * 'Dead', 'Unidentified', 'Process' and other keys with no keysym of their own.
 */
export function keysymForKey(key: string, code = ''): number | undefined {
  const right = RIGHT_MODIFIER_KEYSYMS[code];
  if (right !== undefined && NAMED_KEYSYMS[key] !== undefined && key !== 'AltGraph') return right;
  return NAMED_KEYSYMS[key] ?? functionKeysym(key) ?? keysymForCharacter(key);
}

/** DOM `code` → Linux evdev key code (input-event-codes.h). */
const EVDEV_CODES: Readonly<Record<string, number>> = {
  Escape: 1, Digit1: 2, Digit2: 3, Digit3: 4, Digit4: 5, Digit5: 6, Digit6: 7, Digit7: 8, Digit8: 9, Digit9: 10,
  Digit0: 11, Minus: 12, Equal: 13, Backspace: 14, Tab: 15,
  KeyQ: 16, KeyW: 17, KeyE: 18, KeyR: 19, KeyT: 20, KeyY: 21, KeyU: 22, KeyI: 23, KeyO: 24, KeyP: 25,
  BracketLeft: 26, BracketRight: 27, Enter: 28, ControlLeft: 29,
  KeyA: 30, KeyS: 31, KeyD: 32, KeyF: 33, KeyG: 34, KeyH: 35, KeyJ: 36, KeyK: 37, KeyL: 38,
  Semicolon: 39, Quote: 40, Backquote: 41, ShiftLeft: 42, Backslash: 43,
  KeyZ: 44, KeyX: 45, KeyC: 46, KeyV: 47, KeyB: 48, KeyN: 49, KeyM: 50,
  Comma: 51, Period: 52, Slash: 53, ShiftRight: 54, NumpadMultiply: 55, AltLeft: 56, Space: 57, CapsLock: 58,
  F1: 59, F2: 60, F3: 61, F4: 62, F5: 63, F6: 64, F7: 65, F8: 66, F9: 67, F10: 68,
  NumLock: 69, ScrollLock: 70, Numpad7: 71, Numpad8: 72, Numpad9: 73, NumpadSubtract: 74,
  Numpad4: 75, Numpad5: 76, Numpad6: 77, NumpadAdd: 78, Numpad1: 79, Numpad2: 80, Numpad3: 81,
  Numpad0: 82, NumpadDecimal: 83, Lang5: 85, IntlBackslash: 86, F11: 87, F12: 88, IntlRo: 89,
  Lang3: 90, Lang4: 91, Convert: 92, KanaMode: 93, NonConvert: 94, NumpadEnter: 96, ControlRight: 97,
  NumpadDivide: 98, PrintScreen: 99, AltRight: 100, Home: 102, ArrowUp: 103, PageUp: 104,
  ArrowLeft: 105, ArrowRight: 106, End: 107, ArrowDown: 108, PageDown: 109, Insert: 110, Delete: 111,
  AudioVolumeMute: 113, AudioVolumeDown: 114, AudioVolumeUp: 115, Power: 116, NumpadEqual: 117,
  Pause: 119, NumpadComma: 121, Lang1: 122, Lang2: 123, IntlYen: 124, MetaLeft: 125, MetaRight: 126,
  OSLeft: 125, OSRight: 126, ContextMenu: 127, Help: 138, Sleep: 142, WakeUp: 143,
  BrowserBack: 158, BrowserForward: 159, MediaTrackNext: 163, MediaPlayPause: 164,
  MediaTrackPrevious: 165, MediaStop: 166, BrowserHome: 172, BrowserRefresh: 173,
  F13: 183, F14: 184, F15: 185, F16: 186, F17: 187, F18: 188, F19: 189, F20: 190, F21: 191, F22: 192,
  F23: 193, F24: 194, BrowserSearch: 217,
};

/** The X keycode of a DOM `code` on an evdev keyboard (KeyA → 38), 0 if unknown. */
export function xKeycodeForCode(code: string): number {
  const evdev = EVDEV_CODES[code];
  return evdev === undefined ? 0 : evdev + 8;
}
