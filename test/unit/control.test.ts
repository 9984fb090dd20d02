import { describe, expect, it } from 'vitest';
import { ControlLease, type ControlChangeReason } from '../../server/control/ControlLease.js';
import { HeldInput, type KeyEvent } from '../../server/control/HeldInput.js';
import { TokenBucket } from '../../server/control/TokenBucket.js';
import { keycodeForCode, keysymForKey, xButtonForDomButton } from '../../server/control/keysyms.js';
import { WheelNormalizer } from '../../shared/input/wheel.js';
import { parseInputEvent } from '../../shared/protocol.js';

function lease(policy: 'off' | 'request' | 'free', clock = { t: 0 }) {
  const l = new ControlLease({ policy, heartbeatTimeoutMs: 4000, now: () => clock.t });
  const changes: { reason: ControlChangeReason; previousHolder: string | undefined }[] = [];
  l.on('changed', (c) => changes.push(c));
  return { l, changes, clock };
}

describe('ControlLease', () => {
  it('request policy: a viewer waits for the admin; an admin gets control at once; one holder at a time', () => {
    const { l, changes } = lease('request');
    expect(l.request('v1', false)).toEqual({ outcome: 'pending' });
    expect(l.requested('v1')).toBe(true);
    expect(l.holder).toBeUndefined();
    l.grant('v1');
    expect(l.holds('v1')).toBe(true);
    expect(l.requested('v1')).toBe(false);
    expect(l.request('admin', true)).toEqual({ outcome: 'granted' });
    expect(l.holder).toBe('admin');
    expect(changes.at(-1)).toEqual({ reason: 'granted', previousHolder: 'v1' });
  });

  it('free policy: whoever asks takes control; off refuses with a code', () => {
    const { l } = lease('free');
    expect(l.request('v1', false).outcome).toBe('granted');
    expect(l.request('v2', false).outcome).toBe('granted');
    expect(l.holder).toBe('v2');
    l.setPolicy('off');
    expect(l.holder).toBeUndefined();
    expect(l.request('v1', false)).toMatchObject({ outcome: 'refused', code: 'control-off' });
  });

  it('releases control on release, revoke, disconnect and missing heartbeats, naming the holder that lost it', () => {
    const { l, changes, clock } = lease('free');
    l.request('v1', false);
    l.release('v1');
    expect(changes.at(-1)).toEqual({ reason: 'released', previousHolder: 'v1' });
    l.request('v1', false);
    l.revoke();
    expect(changes.at(-1)).toEqual({ reason: 'revoked', previousHolder: 'v1' });
    l.request('v1', false);
    l.forget('v1');
    expect(changes.at(-1)).toEqual({ reason: 'disconnected', previousHolder: 'v1' });
    l.request('v1', false);
    clock.t += 3000;
    l.heartbeat('v1');
    clock.t += 3000;
    l.checkHeartbeat();
    expect(l.holds('v1')).toBe(true);
    clock.t += 4001;
    l.checkHeartbeat();
    expect(changes.at(-1)).toEqual({ reason: 'heartbeat', previousHolder: 'v1' });
    expect(l.holder).toBeUndefined();
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const clock = { t: 0 };
    const bucket = new TokenBucket(10, 5, () => clock.t);
    expect(Array.from({ length: 7 }, () => bucket.take())).toEqual([true, true, true, true, true, false, false]);
    clock.t += 200; // two tokens at 10/s
    expect(Array.from({ length: 3 }, () => bucket.take())).toEqual([true, true, false]);
  });
});

describe('browser keys → X keysyms and keycodes', () => {
  it('maps characters by X rule, named keys by table, modifiers by side', () => {
    expect(keysymForKey('a', 'KeyA')).toBe(0x61);
    expect(keysymForKey('<', 'IntlBackslash')).toBe(0x3c);
    expect(keysymForKey('é', 'KeyE')).toBe(0xe9);
    expect(keysymForKey('€', 'KeyE')).toBe(0x10020ac);
    expect(keysymForKey('😀', '')).toBe(0x101f600);
    expect(keysymForKey('Enter', 'Enter')).toBe(0xff0d);
    expect(keysymForKey('F12', 'F12')).toBe(0xffc9);
    expect(keysymForKey('Shift', 'ShiftRight')).toBe(0xffe2);
    expect(keysymForKey('AltGraph', 'AltRight')).toBe(0xfe03);
    expect(keysymForKey('Dead', 'Equal')).toBe(0);
    expect(keysymForKey('Unidentified', '')).toBe(0);
  });
  it('maps physical keys to evdev keycodes and DOM buttons to X buttons', () => {
    expect(keycodeForCode('KeyA')).toBe(38);
    expect(keycodeForCode('KeyQ')).toBe(24);
    expect(keycodeForCode('KeyM')).toBe(58);
    expect(keycodeForCode('Digit1')).toBe(10);
    expect(keycodeForCode('Digit0')).toBe(19);
    expect(keycodeForCode('F1')).toBe(67);
    expect(keycodeForCode('F13')).toBe(191);
    expect(keycodeForCode('Nope')).toBe(0);
    expect([0, 1, 2, 3, 4, 5].map(xButtonForDomButton)).toEqual([1, 2, 3, 8, 9, 0]);
  });
});

describe('WheelNormalizer', () => {
  it('one click per mouse notch whatever the browser reports; touchpad steps add up', () => {
    const w = new WheelNormalizer();
    expect(w.add(0, 100, 0)).toEqual({ dx: 0, dy: 1 }); // Chromium notch
    expect(w.add(0, -120, 0)).toEqual({ dx: 0, dy: -1 });
    expect(w.add(0, 53, 0)).toEqual({ dx: 0, dy: 1 }); // older Chromium on Linux
    expect(w.add(0, 3, 1)).toEqual({ dx: 0, dy: 1 }); // Firefox: 3 lines
    expect(w.add(1, 0, 2)).toEqual({ dx: 1, dy: 0 }); // a page
    const pad = new WheelNormalizer();
    const steps = Array.from({ length: 10 }, () => pad.add(0, 25, 0).dy);
    expect(steps.reduce((a, b) => a + b, 0)).toBe(2); // 250 px of touchpad scroll
  });

  it('line mode keeps the remainder: a line at a time adds up to one click per three lines, both directions', () => {
    const w = new WheelNormalizer();
    expect([1, 1, 1, 1, 1].map((l) => w.add(0, l, 1).dy)).toEqual([0, 0, 1, 0, 0]); // 2 lines left over
    expect(w.add(0, 4, 1).dy).toBe(2); // 2 + 4 lines = 2 clicks
    expect(w.add(0, -2, 1).dy).toBe(0); // the way back starts from nothing left over
    expect(w.add(0, -1, 1).dy).toBe(-1);
    w.add(0, 2, 1);
    w.reset(); // focus lost: the remainder goes
    expect(w.add(0, 1, 1).dy).toBe(0);
  });

  it('horizontal pixel deltas: notches click left and right, touchpad steps add up on their own axis', () => {
    const w = new WheelNormalizer();
    expect(w.add(120, 0, 0)).toEqual({ dx: 1, dy: 0 });
    expect(w.add(-100, 0, 0)).toEqual({ dx: -1, dy: 0 });
    expect(w.add(240, 0, 0)).toEqual({ dx: 2, dy: 0 }); // two coalesced notches
    const pad = new WheelNormalizer();
    const moves = Array.from({ length: 8 }, () => pad.add(-30, 10, 0));
    expect(moves.reduce((a, m) => a + m.dx, 0)).toBe(-2); // 240 px left
    expect(moves.reduce((a, m) => a + m.dy, 0)).toBe(0); // 80 px down: not yet a click, kept
    expect(pad.add(0, 20, 0)).toEqual({ dx: 0, dy: 1 });
  });
});

describe('HeldInput: modifiers follow the state each key event carries', () => {
  const none = { shift: false, ctrl: false, alt: false, meta: false, altGraph: false, capsLock: false };
  const key = (code: string, k: string, down: boolean, mods: Partial<typeof none> = {}): KeyEvent => ({
    type: 'key', code, key: k, down, repeat: false, mode: 'text', modifiers: { ...none, ...mods },
  });
  const brief = (events: KeyEvent[]): string[] => events.map((e) => `${e.down ? '+' : '-'}${e.code}`);

  it('presses Ctrl that was held before the page had focus, so Ctrl+C is not a plain c', () => {
    const held = new HeldInput();
    expect(brief(held.keyEvents(key('KeyC', 'c', true, { ctrl: true })))).toEqual(['+ControlLeft', '+KeyC']);
    expect(brief(held.keyEvents(key('KeyC', 'c', false, { ctrl: true })))).toEqual(['-KeyC']);
    // Ctrl came up where the page could not see it: the next key releases it first.
    expect(brief(held.keyEvents(key('KeyX', 'x', true)))).toEqual(['-ControlLeft', '+KeyX']);
    expect(brief(held.keyEvents(key('KeyX', 'x', false)))).toEqual(['-KeyX']);
  });

  it('leaves modifiers alone when the page saw their keys, and presses each missing one once', () => {
    const held = new HeldInput();
    expect(brief(held.keyEvents(key('ShiftRight', 'Shift', true, { shift: true })))).toEqual(['+ShiftRight']);
    expect(brief(held.keyEvents(key('KeyT', 'T', true, { shift: true, ctrl: true, meta: true })))).toEqual(['+ControlLeft', '+MetaLeft', '+KeyT']);
    expect(brief(held.keyEvents(key('KeyT', 'T', true, { shift: true, ctrl: true, meta: true })))).toEqual(['+KeyT']); // a repeat
    // Shift released on the viewer's side: its own key-up is not doubled.
    expect(brief(held.keyEvents(key('ShiftRight', 'Shift', false, { ctrl: true, meta: true })))).toEqual(['-ShiftRight']);
    expect(brief(held.keyEvents(key('KeyT', 't', false)))).toEqual(['-ControlLeft', '-MetaLeft', '-KeyT']);
  });

  it('AltGr on Windows reports Ctrl+Alt as well: neither is pressed for it', () => {
    const held = new HeldInput();
    expect(brief(held.keyEvents(key('AltRight', 'AltGraph', true, { ctrl: true, alt: true, altGraph: true })))).toEqual(['+AltRight']);
    expect(brief(held.keyEvents(key('KeyQ', '@', true, { ctrl: true, alt: true, altGraph: true })))).toEqual(['+KeyQ']);
  });

  it('knows what a release lets go of (such events pass the rate limit), and forgets everything on clear', () => {
    const held = new HeldInput();
    held.keyEvents(key('KeyA', 'a', true));
    held.button(0, true);
    expect(held.letsGo(key('KeyA', 'a', false))).toBe(true);
    expect(held.letsGo(key('KeyB', 'b', false))).toBe(false); // not held: an up event like any other
    expect(held.letsGo(key('KeyA', 'a', true))).toBe(false);
    expect(held.letsGo({ type: 'button', button: 0, down: false })).toBe(true);
    expect(held.letsGo({ type: 'button', button: 2, down: false })).toBe(false);
    expect(held.letsGo({ type: 'releaseAll' })).toBe(true);
    held.clear();
    expect(held.letsGo({ type: 'releaseAll' })).toBe(false);
    expect(held.letsGo(key('KeyA', 'a', false))).toBe(false);
  });
});

describe('input events', () => {
  const modifiers = { shift: false, ctrl: false, alt: false, meta: false, altGraph: false, capsLock: false };
  it('accepts well-formed events and rejects bad ones with the field named', () => {
    expect(parseInputEvent({ type: 'pointer', x: 10, y: 20, width: 640, height: 480 })).toEqual({ type: 'pointer', x: 10, y: 20, width: 640, height: 480 });
    expect(parseInputEvent({ type: 'key', code: 'KeyA', key: 'a', down: true, repeat: false, mode: 'text', modifiers }).type).toBe('key');
    expect(() => parseInputEvent({ type: 'pointer', x: Number.NaN, y: 0, width: 1, height: 1 })).toThrow(/"input.x" must be a number/);
    expect(() => parseInputEvent({ type: 'button', button: 7, down: true })).toThrow(/"input.button"/);
    expect(() => parseInputEvent({ type: 'warp' })).toThrow(/"input.type" must be one of/);
    expect(() => parseInputEvent({ type: 'text', text: 'x'.repeat(257) })).toThrow(/"input.text"/);
    expect(() => parseInputEvent('click')).toThrow(/must be an object/);
    expect(() => parseInputEvent({ type: 'key', code: 'KeyA', key: 'a', down: true, repeat: false, mode: 'text' })).toThrow(/"input.modifiers" must be an object/);
  });
});
