// Browser keyboard events → X11 keysyms and keycodes.
//
// `key` (what the viewer's own layout typed) becomes a keysym: characters by X's rule
// (Latin-1 code points are their own keysym, others 0x01000000 + code point; the injector also
// finds legacy keysyms such as EuroSign), named keys from the table below. `code` (the
// physical key) becomes an X keycode of the evdev keymap every X server here uses
// (keycode = Linux input event code + 8): used in raw mode and for shortcuts whose character
// is not on the desktop's layout.

/** DOM `key` names of keys that type no character. Left/right variants are picked by `code`. */
const namedKeysyms: Record<string, number> = {
  Backspace: 0xff08, Tab: 0xff09, Clear: 0xff0b, Enter: 0xff0d, Pause: 0xff13, ScrollLock: 0xff14,
  Escape: 0xff1b, Compose: 0xff20, Home: 0xff50, ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53,
  ArrowDown: 0xff54, PageUp: 0xff55, PageDown: 0xff56, End: 0xff57, Select: 0xff60, PrintScreen: 0xff61,
  Execute: 0xff62, Insert: 0xff63, Undo: 0xff65, Redo: 0xff66, ContextMenu: 0xff67, Find: 0xff68,
  Cancel: 0xff69, Help: 0xff6a, NumLock: 0xff7f, Delete: 0xffff, CapsLock: 0xffe5,
  AltGraph: 0xfe03, // ISO_Level3_Shift
  AudioVolumeDown: 0x1008ff11, AudioVolumeMute: 0x1008ff12, AudioVolumeUp: 0x1008ff13,
  MediaPlayPause: 0x1008ff14, MediaStop: 0x1008ff15, MediaTrackPrevious: 0x1008ff16, MediaTrackNext: 0x1008ff17,
};

/** Modifiers: DOM `key` → [left keysym, right keysym]. */
const modifierKeysyms: Record<string, [number, number]> = {
  Shift: [0xffe1, 0xffe2],
  Control: [0xffe3, 0xffe4],
  Alt: [0xffe9, 0xffea],
  Meta: [0xffeb, 0xffec], // Super_L / Super_R: what the Windows/Command key is on X desktops
  OS: [0xffeb, 0xffec],
};

/** The keysym for a key event, or 0 when it types nothing by itself (dead keys, `Process`, `Unidentified`). */
export function keysymForKey(key: string, code: string): number {
  const modifier = modifierKeysyms[key];
  if (modifier) return code.endsWith('Right') ? modifier[1] : modifier[0];
  // Chromium reports AltRight as "Alt" on layouts without AltGr, as "AltGraph" on the others.
  const named = namedKeysyms[key];
  if (named !== undefined) return named;
  const fn = /^F([1-9]|1[0-9]|2[0-4])$/.exec(key);
  if (fn) return 0xffbe + Number(fn[1]) - 1;
  const chars = [...key];
  if (chars.length !== 1) return 0; // 'Dead', 'Process', 'Unidentified', multi-character keys
  return keysymForCodePoint(chars[0]!.codePointAt(0)!);
}

export function keysymForCodePoint(cp: number): number {
  if (cp === 0x0a || cp === 0x0d) return 0xff0d; // newline → Return
  if (cp === 0x09) return 0xff09; // tab → Tab
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return 0; // control characters
  if (cp <= 0xff) return cp;
  return 0x01000000 | cp;
}

const keycodeByCode: Record<string, number> = (() => {
  const table: Record<string, number> = {
    Escape: 9, Minus: 20, Equal: 21, Backspace: 22, Tab: 23, BracketLeft: 34, BracketRight: 35, Enter: 36,
    ControlLeft: 37, Semicolon: 47, Quote: 48, Backquote: 49, ShiftLeft: 50, Backslash: 51, Comma: 59,
    Period: 60, Slash: 61, ShiftRight: 62, NumpadMultiply: 63, AltLeft: 64, Space: 65, CapsLock: 66,
    NumLock: 77, ScrollLock: 78, Numpad7: 79, Numpad8: 80, Numpad9: 81, NumpadSubtract: 82, Numpad4: 83,
    Numpad5: 84, Numpad6: 85, NumpadAdd: 86, Numpad1: 87, Numpad2: 88, Numpad3: 89, Numpad0: 90,
    NumpadDecimal: 91, IntlBackslash: 94, F11: 95, F12: 96, IntlRo: 97, NumpadEnter: 104, ControlRight: 105,
    NumpadDivide: 106, PrintScreen: 107, AltRight: 108, Home: 110, ArrowUp: 111, PageUp: 112, ArrowLeft: 113,
    ArrowRight: 114, End: 115, ArrowDown: 116, PageDown: 117, Insert: 118, Delete: 119, AudioVolumeMute: 121,
    AudioVolumeDown: 122, AudioVolumeUp: 123, NumpadEqual: 125, Pause: 127, IntlYen: 132, MetaLeft: 133,
    MetaRight: 134, ContextMenu: 135,
  };
  '1234567890'.split('').forEach((d, i) => (table[`Digit${d}`] = 10 + i));
  const rows: [string, number][] = [['QWERTYUIOP', 24], ['ASDFGHJKL', 38], ['ZXCVBNM', 52]];
  for (const [letters, first] of rows) letters.split('').forEach((l, i) => (table[`Key${l}`] = first + i));
  for (let n = 1; n <= 10; n++) table[`F${n}`] = 66 + n;
  for (let n = 13; n <= 24; n++) table[`F${n}`] = 178 + n;
  return table;
})();

/** The X keycode of the physical key a DOM `code` names (evdev keymap), or 0 when unknown. */
export function keycodeForCode(code: string): number {
  return keycodeByCode[code] ?? 0;
}

/** DOM mouse button (0 main, 1 middle, 2 secondary, 3 back, 4 forward) → X button. */
export function xButtonForDomButton(button: number): number {
  return [1, 2, 3, 8, 9][button] ?? 0;
}
