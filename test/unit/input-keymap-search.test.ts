// The pure half of the X11 input injector: keysym ↔ Unicode and the XKB level search, on a
// small keymap described here (key types as xkeyboard-config defines them).
import { describe, expect, it } from 'vitest';
import { loadNative } from '../helpers/native.js';

interface KeymapDesc {
  types: { mask: number; numLevels: number; entries: { mods: number; level: number; preserve?: number }[] }[];
  keys: { keycode: number; modmap?: number; groups: { type: number; syms: number[] }[] }[];
}
interface SearchBindings {
  keysymAlternatives(keysym: number): number[];
  unicodeKeysym(codepoint: number): number;
  keysymToCodepoint(keysym: number): number;
  findKeyForKeysym(keymap: KeymapDesc, keysym: number, state: { mods: number; stickyMods: number; group: number }, adjustable: number, relevel: boolean): { keycode: number; mods: number } | null;
}
const t = (loadNative() as unknown as { __test: SearchBindings }).__test;

const Shift = 1;
const Lock = 2;
const Control = 4;
const Mod5 = 0x80; // ISO_Level3_Shift
const ch = (s: string): number => s.codePointAt(0)!;

const keymap: KeymapDesc = {
  types: [
    { mask: 0, numLevels: 1, entries: [] }, // ONE_LEVEL
    { mask: Shift, numLevels: 2, entries: [{ mods: Shift, level: 1 }] }, // TWO_LEVEL
    { mask: Shift | Lock, numLevels: 2, entries: [{ mods: Shift, level: 1 }, { mods: Lock, level: 1 }] }, // ALPHABETIC
    { mask: Shift | Mod5, numLevels: 4, entries: [{ mods: Shift, level: 1 }, { mods: Mod5, level: 2 }, { mods: Shift | Mod5, level: 3 }] }, // FOUR_LEVEL
  ],
  keys: [
    { keycode: 24, groups: [{ type: 3, syms: [ch('q'), ch('Q'), ch('@'), 0x7d9] }] },
    { keycode: 38, groups: [{ type: 2, syms: [ch('a'), ch('A')] }] },
    // Two groups: Latin, then Cyrillic (legacy keysyms Cyrillic_ve / Cyrillic_VE)
    { keycode: 40, groups: [{ type: 2, syms: [ch('d'), ch('D')] }, { type: 2, syms: [0x6d7, 0x6f7] }] },
    { keycode: 50, modmap: Shift, groups: [{ type: 0, syms: [0xffe1] }] },
    { keycode: 59, groups: [{ type: 1, syms: [ch(','), ch('<')] }] },
    { keycode: 94, groups: [{ type: 1, syms: [ch('<'), ch('>')] }] },
    { keycode: 23, groups: [{ type: 1, syms: [0xff09, 0xfe20] }] }, // Tab / ISO_Left_Tab
  ],
};
const none = { mods: 0, stickyMods: 0, group: 0 };
const find = (keysym: number, state = none, adjustable = Shift | Mod5, relevel = true) => t.findKeyForKeysym(keymap, keysym, state, adjustable, relevel);

describe('keysym ↔ Unicode', () => {
  it('follows X: Latin-1 is itself, other code points 0x01000000 | cp, controls are function keys', () => {
    expect(t.unicodeKeysym(ch('a'))).toBe(0x61);
    expect(t.unicodeKeysym(ch('é'))).toBe(0xe9);
    expect(t.unicodeKeysym(ch('漢'))).toBe(0x1006f22);
    expect(t.unicodeKeysym(ch('😀'))).toBe(0x101f600);
    expect(t.unicodeKeysym(0x0a)).toBe(0xff0d);
    expect(t.unicodeKeysym(0x09)).toBe(0xff09);
    expect(t.unicodeKeysym(0x01)).toBe(0);
    expect(t.unicodeKeysym(0xd800)).toBe(0);
    expect(t.keysymToCodepoint(0x6c1)).toBe(0x430); // Cyrillic_a
    expect(t.keysymToCodepoint(0x20ac)).toBe(0x20ac); // EuroSign
    expect(t.keysymToCodepoint(0xfe51)).toBe(0); // dead_acute types nothing by itself
  });

  it('looks a character up under its legacy and its Unicode keysym', () => {
    expect(t.keysymAlternatives(0x20ac)).toEqual([0x20ac, 0x10020ac]);
    expect(t.keysymAlternatives(0x10020ac)).toEqual([0x10020ac, 0x20ac]);
    expect(t.keysymAlternatives(0x1000432)).toEqual([0x1000432, 0x6d7]);
    expect(t.keysymAlternatives(0xe9)).toEqual([0xe9]);
    expect(t.keysymAlternatives(0xff0d)).toEqual([0xff0d]);
  });
});

describe('XKB level search', () => {
  it('prefers the key whose level needs no modifier change (no XKeysymToKeycode pitfall)', () => {
    expect(find(ch('<'))).toEqual({ keycode: 94, mods: 0 });
    expect(find(ch('>'))).toEqual({ keycode: 94, mods: Shift });
    // With the viewer's Shift down, the shifted level of the comma key needs no change.
    expect(find(ch('<'), { mods: Shift, stickyMods: 0, group: 0 })).toEqual({ keycode: 59, mods: Shift });
    expect(find(ch(','), { mods: Shift, stickyMods: 0, group: 0 })).toEqual({ keycode: 59, mods: 0 });
  });

  it('reaches AltGr levels only when the level-3 modifier can be faked', () => {
    expect(find(ch('@'))).toEqual({ keycode: 24, mods: Mod5 });
    expect(find(0x7d9)).toEqual({ keycode: 24, mods: Shift | Mod5 });
    expect(find(ch('@'), none, Shift)).toBeNull();
  });

  it('accounts for a locked Caps Lock and never clears a locked modifier', () => {
    const caps = { mods: Lock, stickyMods: Lock, group: 0 };
    expect(find(ch('a'), caps)).toEqual({ keycode: 38, mods: Lock | Shift });
    expect(find(ch('A'), caps)).toEqual({ keycode: 38, mods: Lock });
    const shiftLocked = { mods: Shift, stickyMods: Shift, group: 0 };
    expect(find(ch(','), shiftLocked)).toBeNull();
  });

  it('searches the current group only, under legacy or Unicode keysyms', () => {
    const cyrillic = { mods: 0, stickyMods: 0, group: 1 };
    expect(find(ch('d'), cyrillic)).toBeNull();
    expect(find(0x1000432, cyrillic)).toEqual({ keycode: 40, mods: 0 }); // в as a Unicode keysym
    expect(find(0x6f7, cyrillic)).toEqual({ keycode: 40, mods: Shift });
    expect(find(ch('a'), cyrillic)).toEqual({ keycode: 38, mods: 0 }); // one-group keys wrap
  });

  it('without re-levelling keeps the modifiers as they are (shortcuts, Shift+Tab)', () => {
    const ctrlShift = { mods: Control | Shift, stickyMods: 0, group: 0 };
    expect(find(ch('A'), ctrlShift, Shift | Mod5, false)).toEqual({ keycode: 38, mods: Control | Shift });
    const shift = { mods: Shift, stickyMods: 0, group: 0 };
    expect(find(0xff09, shift, Shift | Mod5, false)).toEqual({ keycode: 23, mods: Shift });
    expect(find(0xffe1, none, Shift | Mod5, false)).toEqual({ keycode: 50, mods: 0 });
  });
});
