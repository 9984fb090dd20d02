// The X11 InputInjector against a real Xvfb: text typed into a real xterm (`cat > FILE`) on the
// us, de and fr layouts must arrive exactly; spare keysym bindings must be gone and no key held
// afterwards; pointer, buttons and wheel checked with xdotool and xev.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputInjector, NativeInputEvent } from '../../server/native/nativeAddon.js';
import { readWhenLength } from '../helpers/files.js';
import { loadNative } from '../helpers/native.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const native = loadNative();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** X's rule: Latin-1 keysym = code point; other characters 0x01000000 | code point. */
const keysymOf = (ch: string): number => {
  const cp = ch.codePointAt(0)!;
  if (ch === '\n') return 0xff0d; // Return
  return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) ? cp : 0x01000000 | cp;
};

const XK = { Return: 0xff0d, Shift_L: 0xffe1, dead_acute: 0xfe51, dead_circumflex: 0xfe52 };

describe('native InputInjector against a real Xvfb and xterm', () => {
  let xvfb: XvfbServer;
  let injector: InputInjector;
  const events: NativeInputEvent[] = [];
  let dir: string;
  let terminal: ChildProcess | undefined;
  let file = '';

  const run = (cmd: string, args: string[]): Promise<string> => xvfb.run(cmd, args);
  const keymap = (): Promise<string> => run('xmodmap', ['-display', xvfb.display, '-pke']);

  /** Types a string key by key as a viewer would (down + up per character, ids like the DOM code). */
  const typeKeys = (s: string): void => {
    for (const ch of s) {
      const keysym = keysymOf(ch);
      const id = ch === '\n' ? 'Enter' : `Key${ch.codePointAt(0)}`;
      injector.key({ id, keysym, keycode: 0, down: true });
      injector.key({ id, keysym, keycode: 0, down: false });
    }
  };

  /** Waits until FILE holds `expected` (or more), then compares exactly. */
  const expectFile = async (expected: string, timeoutMs = 5000): Promise<void> => {
    expect(await readWhenLength(file, expected.length, timeoutMs)).toBe(expected);
  };

  async function openTerminal(name: string): Promise<void> {
    file = join(dir, `${name}.txt`);
    rmSync(file, { force: true });
    const title = `deskcast-input-${name}`;
    terminal = spawn('xterm', ['-display', xvfb.display, '-title', title, '-geometry', '100x10+0+0', '-e', 'sh', '-c', `cat > '${file}'`], {
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      stdio: 'ignore',
    });
    const window = (await run('xdotool', ['search', '--sync', '--onlyvisible', '--name', title])).trim().split('\n')[0]!;
    await run('xdotool', ['windowfocus', '--sync', window]);
    // The pointer away from the terminal so focus cannot follow it.
    await run('xdotool', ['mousemove', '1000', '600']);
  }

  async function closeTerminal(): Promise<void> {
    if (!terminal) return;
    const t = terminal;
    terminal = undefined;
    const exited = new Promise((r) => t.once('exit', r));
    t.kill('SIGTERM');
    await exited;
  }

  /** No key or modifier left down: xdotool presses q by keycode; a stuck Shift/AltGr would change it. */
  async function expectNothingHeld(): Promise<void> {
    await run('xdotool', ['key', 'q', 'Return']);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskcast-input-'));
    xvfb = await startXvfb({ width: 1280, height: 720 }); // started with -noreset
    injector = new native.InputInjector({ display: xvfb.display, onEvent: (e) => events.push(e) });
    await injector.start();
  });

  afterAll(async () => {
    injector?.stop();
    await closeTerminal();
    await xvfb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const layouts: { layout: string; text: string; keyed: string; absent: string }[] = [
    { layout: 'us', text: 'Hello, World! <>|?:"~_+{}', keyed: '@#$%^&*()[]\\', absent: '€ñ漢😀' }, // emoji: beyond the BMP
    // AltGr levels on de, typed by keysym
    { layout: 'de', text: 'Hallo, Welt! <>|?:"_+äöüß', keyed: '@€{\\~[]}²³µ', absent: 'ñ漢ø' },
    // AZERTY: digits need Shift, é è à ç are level 1
    { layout: 'fr', text: 'Bonjour, le monde ! <>|?', keyed: 'éèàç0123456789@#{}', absent: 'ñ漢ß' },
  ];

  for (const { layout, text, keyed, absent } of layouts) {
    it(`types exactly on the ${layout} layout, then leaves the keymap and key state as they were`, async () => {
      await run('setxkbmap', ['-display', xvfb.display, layout]);
      const before = await keymap();
      await openTerminal(layout);
      let expected = '';

      injector.text(`${text}\n`); // committed text
      expected += `${text}\n`;
      typeKeys(`${keyed}\n`); // key by key, by keysym
      expected += `${keyed}\n`;
      typeKeys(`${absent}\n`); // not on the layout: temporary spare-keycode bindings
      expected += `${absent}\n`;

      // Dead keys are forwarded and composed by the client's input method (xterm: Xlib's
      // Compose); on a layout without dead_acute the keysym is bound to a spare keycode.
      injector.key({ id: 'Equal', keysym: XK.dead_acute, down: true });
      injector.key({ id: 'Equal', keysym: XK.dead_acute, down: false });
      typeKeys('e');
      injector.key({ id: 'Backquote', keysym: XK.dead_circumflex, down: true });
      injector.key({ id: 'Backquote', keysym: XK.dead_circumflex, down: false });
      typeKeys('a\n');
      expected += 'éâ\n';

      // A burst of 300 characters without delay (600 key events).
      const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.-;:!?<>|@€äéñ';
      let burst = '';
      for (let i = 0; i < 300; i++) burst += alphabet[(i * 7919 + 13) % alphabet.length];
      typeKeys(`${burst}\n`);
      expected += `${burst}\n`;

      await expectFile(expected, 10_000);
      injector.releaseAll();
      // releaseAll is queued: its XSync has run once a later command's effect shows up.
      await sleep(200);
      expect(await keymap()).toBe(before);
      await expectNothingHeld();
      await expectFile(`${expected}q\n`);
      await closeTerminal();
    });
  }

  it('releaseAll() lifts held keys (no stuck Shift, no runaway auto-repeat)', async () => {
    await run('setxkbmap', ['-display', xvfb.display, 'us']);
    await openTerminal('stuck');
    injector.key({ id: 'ShiftLeft', keysym: XK.Shift_L, keycode: 50, down: true });
    injector.key({ id: 'KeyA', keysym: 0x41, keycode: 38, down: true });
    await sleep(100);
    injector.releaseAll();
    injector.key({ id: 'KeyB', keysym: 0x62, keycode: 56, down: true });
    injector.key({ id: 'KeyB', keysym: 0x62, keycode: 56, down: false });
    injector.key({ id: 'ShiftLeft', keysym: XK.Shift_L, down: false }); // key-up after releaseAll: ignored
    typeKeys('\n');
    await expectFile('Ab\n');
    await sleep(1200); // X auto-repeat would start at 660 ms
    expect(readFileSync(file, 'utf8')).toBe('Ab\n');
    await closeTerminal();
  });

  it('browser auto-repeat types one character per repeated key-down; Shift+Tab stays Shift+Tab', async () => {
    await openTerminal('repeat');
    injector.key({ id: 'KeyX', keysym: 0x78, down: true });
    for (let i = 0; i < 5; i++) {
      await sleep(50);
      injector.key({ id: 'KeyX', keysym: 0x78, down: true });
    }
    injector.key({ id: 'KeyX', keysym: 0x78, down: false });
    // Level-independent keys keep the viewer's modifiers: Shift+Tab stays Shift+Tab (xterm
    // sends CSI Z for it), where re-levelling would have lifted Shift to type a plain Tab.
    injector.key({ id: 'ShiftLeft', keysym: XK.Shift_L, down: true });
    injector.key({ id: 'Tab', keysym: 0xff09, down: true });
    injector.key({ id: 'Tab', keysym: 0xff09, down: false });
    injector.key({ id: 'ShiftLeft', keysym: XK.Shift_L, down: false });
    typeKeys('\n');
    await expectFile('xxxxxx\x1b[Z\n');
    await closeTerminal();
  });

  it('Caps Lock on the desktop does not invert typed text', async () => {
    await openTerminal('capslock');
    await run('xdotool', ['key', 'Caps_Lock']);
    try {
      typeKeys('Hello aB1!\n');
      injector.text('Émile ñ\n');
      await expectFile('Hello aB1!\nÉmile ñ\n');
    } finally {
      await run('xdotool', ['key', 'Caps_Lock']);
    }
    await closeTerminal();
  });

  it('recycles spare keycodes when more keysyms are missing than there are spares', async () => {
    await run('setxkbmap', ['-display', xvfb.display, 'us']);
    const before = await keymap();
    await openTerminal('recycle');
    let cjk = '';
    for (let i = 0; i < 30; i++) cjk += String.fromCodePoint(0x4e00 + i * 37);
    typeKeys(`${cjk}\n`);
    injector.text(`${cjk.slice(0, 5)}\n`); // the first ones again: rebound
    await expectFile(`${cjk}\n${cjk.slice(0, 5)}\n`, 15_000);
    injector.releaseAll();
    await sleep(200);
    expect(await keymap()).toBe(before);
    await closeTerminal();
  });

  it('moves the pointer (absolute, clamped, relative) and sends buttons and wheel notches', async () => {
    const location = async (): Promise<string> => (await run('xdotool', ['getmouselocation'])).replace(/ screen.*/s, '');
    injector.pointerMove(100, 200);
    await sleep(100);
    expect(await location()).toBe('x:100 y:200');
    injector.pointerMove(99_999, -5);
    await sleep(100);
    expect(await location()).toBe('x:1279 y:0');
    injector.pointerMove(500, 500);
    injector.pointerMoveRelative(10, -20);
    await sleep(100);
    expect(await location()).toBe('x:510 y:480');

    // Over the bare root window, xev sees the button events.
    const xev = spawn('xev', ['-display', xvfb.display, '-root', '-event', 'button'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    xev.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await sleep(300);
    injector.scroll(0, 1);
    injector.button(1, true);
    injector.button(1, false);
    injector.scroll(-2, 0);
    await sleep(300);
    xev.kill();
    const buttons = [...out.matchAll(/(ButtonPress|ButtonRelease) event[\s\S]*?button (\d+)/g)].map((m) => `${m[1] === 'ButtonPress' ? '+' : '-'}${m[2]}`);
    expect(buttons).toEqual(['+5', '-5', '+1', '-1', '+6', '-6', '+6', '-6']);
  });

  it('rejects bad input with ERR_INVALID_OPTION and never crashes', () => {
    const invalid = (fn: () => unknown): void => {
      expect(fn).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    };
    invalid(() => new native.InputInjector({ display: '' }));
    invalid(() => new native.InputInjector({ display: ':1', extra: 1 } as never));
    invalid(() => injector.key({ id: 'KeyA', keysym: 0, down: true }));
    invalid(() => injector.key({ id: '', keysym: 0x61, down: true }));
    invalid(() => injector.key({ id: 'x'.repeat(32), keysym: 0x61, down: true }));
    invalid(() => injector.key({ id: 'KeyA', keysym: 0x61, down: 'yes' as never }));
    invalid(() => injector.key({ id: 'KeyA', keysym: 0x61, keycode: 3, down: true }));
    invalid(() => injector.key({ id: 'KeyA', keysym: 0x61, down: true, mode: 'fast' as never }));
    invalid(() => injector.button(0, true));
    invalid(() => injector.button(10, true));
    invalid(() => injector.button(1.5, true));
    invalid(() => injector.pointerMove(Number.NaN, 0));
    invalid(() => injector.pointerMoveRelative(0, Number.POSITIVE_INFINITY));
    invalid(() => injector.scroll(0.5, 0));
    invalid(() => injector.text('x'.repeat(257)));
    invalid(() => injector.text('\ud800'));
    expect(injector.text('')).toBe(true);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('start() rejects with ERR_DISPLAY_OPEN for a display that is not there', async () => {
    const lonely = new native.InputInjector({ display: ':999' });
    await expect(lonely.start()).rejects.toMatchObject({ code: 'ERR_DISPLAY_OPEN' });
    lonely.stop();
  });

  it('stop() during start() rejects the start; a stopped injector refuses commands', async () => {
    const early = new native.InputInjector({ display: xvfb.display });
    const started = early.start();
    early.stop();
    await expect(started).rejects.toMatchObject({ code: 'ERR_SESSION_STATE' });
    expect(() => early.pointerMove(1, 1)).toThrow(expect.objectContaining({ code: 'ERR_SESSION_STATE' }));
    early.stop(); // idempotent
  });

  it('a lost X server becomes an ERR_DISPLAY_LOST event', async () => {
    const doomed = await startXvfb({ width: 320, height: 240 });
    const got: NativeInputEvent[] = [];
    const inj = new native.InputInjector({ display: doomed.display, onEvent: (e) => got.push(e) });
    await inj.start();
    inj.pointerMove(10, 10);
    await doomed.stop();
    for (let i = 0; i < 100 && !got.some((e) => e.type === 'error'); i++) await sleep(50);
    expect(got).toContainEqual(expect.objectContaining({ type: 'error', code: 'ERR_DISPLAY_LOST' }));
    expect(inj.pointerMove(1, 1)).toBe(true); // queued, ignored: no throw, no crash
    inj.stop();
  });
});
