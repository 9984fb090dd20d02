// The Wayland InputInjector against Debian bookworm's sway 1.7 headless: text typed through the
// virtual keyboard into foot running `cat > FILE` must arrive exactly (us and de keymaps, levels,
// Caps Lock, characters the layout lacks); pointer clicks must land where aimed (read back by
// wev, a Wayland client that prints the events it receives).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedSway } from '../../server/desktop/EmbeddedSway.js';
import type { InputInjector, NativeInputEvent } from '../../server/native/nativeAddon.js';
import { loadNative } from '../helpers/native.js';
import { leftPressPositions } from '../helpers/wev.js';

const native = loadNative();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const keysymOf = (ch: string): number => {
  const cp = ch.codePointAt(0)!;
  if (ch === '\n') return 0xff0d;
  return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) ? cp : 0x01000000 | cp;
};

async function waitFor<T>(what: string, read: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const readOr = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** Waits until sway shows a window of `appId` (focused: the only one). */
async function waitForView(sway: EmbeddedSway, appId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const tree = JSON.stringify(await sway.ipc(4));
    if (tree.includes(`"app_id":"${appId}"`)) {
      await sleep(300); // its first configure/commit round
      return;
    }
    await sleep(100);
  }
  throw new Error(`${appId} did not map a window`);
}

describe('native InputInjector (Wayland) against sway 1.7', () => {
  let sway: EmbeddedSway | undefined;
  let injector: InputInjector | undefined;
  const events: NativeInputEvent[] = [];

  afterEach(async () => {
    injector?.stop();
    injector = undefined;
    await sway?.stop();
    sway = undefined;
  });

  async function start(exec: string, keyboardLayout: string): Promise<{ sway: EmbeddedSway; injector: InputInjector }> {
    sway = await EmbeddedSway.create({ width: 1024, height: 768 });
    injector = new native.InputInjector({ backend: 'wayland', waylandDisplay: sway.socketPath, keyboardLayout, onEvent: (e) => events.push(e) });
    await injector.start();
    // The client starts after the virtual devices exist, so the seat it binds already has them
    // (as on a desktop where deskcast joins later, the devices then appear through wl_seat).
    await sway.command(`exec ${exec}`);
    return { sway, injector };
  }

  for (const layout of ['us', 'de']) {
    it(`types exact text into foot on the ${layout} keymap`, async () => {
      // The runtime dir is sway's (uid 65534); foot writes there as that user.
      const out = 'typed.txt';
      const { sway: s, injector: inj } = await start(`foot -o font=monospace:size=8 sh -c 'cat > "$XDG_RUNTIME_DIR/${out}"'`, layout);
      const file = join(s.runtimeDir, out);
      await waitForView(s, 'foot');
      const text = 'Hello, World! <>|@{}[]~^`\'"$%&*()_+=-;:/?\\ äöüß € éñ 漢字 😀 ~ end';
      inj.text(text);
      inj.text('\n');
      // Keys as a browser sends them: Shift held for capitals, AltGr/Caps Lock toggled in between.
      const keys: [string, string][] = [['ShiftLeft', '\uE000'], ['KeyA', 'A'], ['KeyB', 'B']];
      inj.key({ id: 'ShiftLeft', keysym: 0xffe1, keycode: 50, down: true });
      for (const [id, ch] of keys.slice(1)) {
        inj.key({ id, keysym: keysymOf(ch), keycode: 0, down: true });
        inj.key({ id, keysym: keysymOf(ch), keycode: 0, down: false });
      }
      inj.key({ id: 'ShiftLeft', keysym: 0xffe1, keycode: 50, down: false });
      inj.key({ id: 'CapsLock', keysym: 0xffe5, keycode: 66, down: true });
      inj.key({ id: 'CapsLock', keysym: 0xffe5, keycode: 66, down: false });
      for (const ch of 'xY#') {
        inj.key({ id: 'KeyX', keysym: keysymOf(ch), keycode: 0, down: true });
        inj.key({ id: 'KeyX', keysym: keysymOf(ch), keycode: 0, down: false });
      }
      inj.key({ id: 'CapsLock', keysym: 0xffe5, keycode: 66, down: true });
      inj.key({ id: 'CapsLock', keysym: 0xffe5, keycode: 66, down: false });
      inj.key({ id: 'Enter', keysym: 0xff0d, keycode: 36, down: true });
      inj.key({ id: 'Enter', keysym: 0xff0d, keycode: 36, down: false });
      inj.releaseAll();
      const expected = `${text}\nABxY#\n`;
      const got = await waitFor('the typed text', () => {
        const t = readOr(file);
        return t.length >= expected.length ? t : undefined;
      }).catch(() => readOr(file));
      expect(got).toBe(expected);
      expect(events.filter((e) => e.type === 'error')).toEqual([]);
    }, 60_000);
  }

  it('recycles spare keycodes: more distinct characters the layout lacks than there are spares arrive exactly', async () => {
    const out = 'recycled.txt';
    events.length = 0;
    const { sway: s, injector: inj } = await start(`foot -o font=monospace:size=8 sh -c 'cat > "$XDG_RUNTIME_DIR/${out}"'`, 'us');
    const file = join(s.runtimeDir, out);
    await waitForView(s, 'foot');
    const opened = events.find((e) => e.type === 'log' && /spare keycodes/.test(e.message));
    const spares = Number(/(\d+) spare keycodes/.exec(opened?.type === 'log' ? opened.message : '')?.[1] ?? NaN);
    expect(spares, JSON.stringify(events)).toBeGreaterThan(0);
    // CJK ideographs: none is on a us keymap, each needs a spare; 20 more than there are.
    let cjk = '';
    for (let i = 0; i < spares + 20; i++) cjk += String.fromCodePoint(0x4e00 + i * 37);
    for (let i = 0; i < cjk.length; i += 200) inj.text(cjk.slice(i, i + 200));
    inj.text('\n');
    inj.text(`${cjk.slice(0, 5)}\n`); // the first ones again: long recycled, bound anew
    inj.releaseAll();
    const expected = `${cjk}\n${cjk.slice(0, 5)}\n`;
    const got = await waitFor('the typed text', () => {
      const t = readOr(file);
      return t.length >= expected.length ? t : undefined;
    }, 20_000).catch(() => readOr(file));
    console.log(`[recycle] ${spares} spare keycodes, ${spares + 20} distinct missing characters typed`);
    expect(got).toBe(expected);
    expect(events.filter((e) => e.type === 'error' || (e.type === 'log' && e.level === 'warn'))).toEqual([]);
  }, 60_000);

  it('on a turned output (transform 90) absolute clicks land where aimed', async () => {
    const log = 'wev-turned.log';
    const { sway: s, injector: inj } = await start(`sh -c 'stdbuf -oL wev > "$XDG_RUNTIME_DIR/${log}" 2>&1'`, 'us');
    const file = join(s.runtimeDir, log);
    // Turned while the injector runs: it must follow the output's new transform.
    await s.command('output HEADLESS-1 transform 90');
    await waitForView(s, 'wev');
    let portrait = false;
    for (let i = 0; i < 50 && !portrait; i++) {
      const outputs = (await s.ipc(3)) as { name: string; rect: { width: number; height: number } }[];
      portrait = outputs[0]?.rect.width === 768 && outputs[0].rect.height === 1024;
      if (!portrait) await sleep(100);
    }
    expect(portrait, 'sway did not turn HEADLESS-1 to 768x1024').toBe(true);
    await sleep(300); // wev's configure for the new size
    // Beyond the landscape size (y > 767) and near a portrait corner.
    const aims = [[100, 900], [700, 50], [767, 1023]] as const;
    for (const [x, y] of aims) {
      inj.pointerMove(x, y);
      inj.button(1, true);
      inj.button(1, false);
    }
    const pressed = /button: 272 \(left\), state: 1 \(pressed\)/g;
    const text = await waitFor('wev to report the clicks', () => ((readOr(file).match(pressed)?.length ?? 0) >= aims.length ? readOr(file) : undefined)).catch(() => readOr(file));
    expect(leftPressPositions(text)).toEqual(aims);
  }, 60_000);

  it('pointer clicks land where aimed; relative motion, buttons and wheel reach the client', async () => {
    const log = 'wev.log';
    const { sway: s, injector: inj } = await start(`sh -c 'stdbuf -oL wev > "$XDG_RUNTIME_DIR/${log}" 2>&1'`, 'us');
    const file = join(s.runtimeDir, log);
    await waitForView(s, 'wev');
    const aims = [[100, 200], [700, 50], [1023, 767], [512, 384]] as const;
    for (const [x, y] of aims) {
      inj.pointerMove(x, y);
      inj.button(1, true);
      inj.button(1, false);
    }
    inj.pointerMoveRelative(-12, 7);
    inj.button(3, true);
    inj.button(3, false);
    inj.scroll(0, 2);
    const wanted = 'axis: 0 (vertical), value: 30.000000';
    const text = await waitFor('wev to report the right click', () => (readOr(file).includes(wanted) ? readOr(file) : undefined)).catch(() => readOr(file));
    // wev prints "motion: ...; x, y: X, Y" in surface coordinates; its window covers the output
    // (one tiled window, no borders), so they are output pixels.
    const clickAt = (x: number, y: number): RegExp =>
      new RegExp(`x, y: ${x}\\.000000, ${y}\\.000000\\n(.*frame\\n)?.*button: 272 \\(left\\), state: 1 \\(pressed\\)`);
    for (const [x, y] of aims) expect(text).toMatch(clickAt(x, y));
    expect(text).toMatch(/x, y: 500\.000000, 391\.000000\n(.*frame\n)?.*button: 273 \(right\), state: 1/);
    expect(text.match(/button: 272 \(left\), state: 1 \(pressed\)/g)?.length).toBe(aims.length);
    expect(text.match(/button: 272 \(left\), state: 0 \(released\)/g)?.length).toBe(aims.length);
  }, 60_000);
});
