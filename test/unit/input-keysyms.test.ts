import { describe, expect, it } from 'vitest';
import { DEAD_KEYSYMS, keysymForCharacter, keysymForKey, xKeycodeForCode } from '../../server/input/keysyms.js';

describe('DOM key/code → X keysym/keycode', () => {
  it('maps named keys, function keys, left/right modifiers and characters', () => {
    expect(keysymForKey('Enter')).toBe(0xff0d);
    expect(keysymForKey('Tab')).toBe(0xff09);
    expect(keysymForKey('ArrowLeft')).toBe(0xff51);
    expect(keysymForKey('F1')).toBe(0xffbe);
    expect(keysymForKey('F24')).toBe(0xffd5);
    expect(keysymForKey('Shift', 'ShiftLeft')).toBe(0xffe1);
    expect(keysymForKey('Shift', 'ShiftRight')).toBe(0xffe2);
    expect(keysymForKey('Control', 'ControlRight')).toBe(0xffe4);
    expect(keysymForKey('AltGraph', 'AltRight')).toBe(0xfe03);
    expect(keysymForKey('Meta', 'MetaLeft')).toBe(0xffeb);
    expect(keysymForKey('a')).toBe(0x61);
    expect(keysymForKey('é')).toBe(0xe9);
    expect(keysymForKey('€')).toBe(0x10020ac);
    expect(keysymForKey('😀')).toBe(0x101f600);
    expect(keysymForKey('Dead')).toBeUndefined();
    expect(keysymForKey('Unidentified')).toBeUndefined();
    expect(keysymForCharacter('ab')).toBeUndefined();
    expect(DEAD_KEYSYMS['´']).toBe(0xfe51);
  });

  it('maps physical keys to evdev X keycodes', () => {
    expect(xKeycodeForCode('KeyA')).toBe(38);
    expect(xKeycodeForCode('ShiftLeft')).toBe(50);
    expect(xKeycodeForCode('Enter')).toBe(36);
    expect(xKeycodeForCode('AltRight')).toBe(108);
    expect(xKeycodeForCode('IntlBackslash')).toBe(94);
    expect(xKeycodeForCode('MetaLeft')).toBe(133);
    expect(xKeycodeForCode('F13')).toBe(191);
    expect(xKeycodeForCode('Nope')).toBe(0);
  });
});
