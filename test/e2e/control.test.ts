// Remote control end to end: real Chromium viewers send real key and pointer events through the
// page, deskcast injects them into a real Xvfb with a real XKB keymap, and what arrives is read
// back from the desktop: the text an xterm running `cat > FILE` wrote, the pointer position
// xdotool reports, the wheel clicks and key events xev sees. Raw socket.io clients play viewers
// that misbehave or vanish. One desktop and one browser for the whole file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'node:https';
import type { Browser, CDPSession, Page } from 'puppeteer-core';
import { io, type Socket } from 'socket.io-client';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { launchChromium, waitFor } from '../helpers/browser.js';
import { readWhenLength } from '../helpers/files.js';
import { startDeskcast } from '../helpers/deskcast.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const insecureAgent = new Agent({ rejectUnauthorized: false });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Characters a US keyboard types with Shift held. */
const US_SHIFTED = /[A-Z~!@#$%^&*()_+{}|:"<>?]/;
/** Characters puppeteer's US keyboard has a key for. */
const US_KEYS = /[a-zA-Z0-9`~!@#$%^&*()\-_=+[\]{}\\|;:'",.<>/? \n]/;
const NO_MODIFIERS = { shift: false, ctrl: false, alt: false, meta: false, altGraph: false, capsLock: false };
/** CDP's modifier bits. */
const CDP_CTRL = 2;
const CDP_SHIFT = 8;
/** X's ControlMask, and the group bits of a key event's state (group 2 = 0x2000). */
const X_CONTROL_MASK = 0x4;
const X_GROUP_MASK = 0x6000;

/** A key event as the page sends it. */
function keyEvent(code: string, key: string, down: boolean, modifiers: Partial<typeof NO_MODIFIERS> = {}, repeat = false) {
  return { type: 'key', code, key, down, repeat, mode: 'text', modifiers: { ...NO_MODIFIERS, ...modifiers } } as const;
}

type Reply<T = unknown> = { ok: boolean; data?: T; error?: { code: string; message: string } };
function request<T = unknown>(client: Socket, method: string, data: object = {}): Promise<Reply<T>> {
  return new Promise((resolve) => client.emit('request', method, data, resolve));
}

describe('remote control end to end: Chromium → socket.io → XTest → Xvfb', () => {
  let xvfb: XvfbServer;
  let server: DeskcastServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let admin: Page;
  let viewer: Page;
  let dir: string;
  let terminal: ChildProcess | undefined;
  let file = '';

  const url = (token: string): string => `https://127.0.0.1:${server.port}/?t=${encodeURIComponent(token)}`;
  const keymap = (): Promise<string> => xvfb.run('xmodmap', ['-display', xvfb.display, '-pke']);

  async function openPage(token: string, viewport = { width: 800, height: 600 }): Promise<Page> {
    const page = await (await browser.createBrowserContext()).newPage();
    await page.setViewport(viewport);
    await page.goto(url(token));
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    await page.waitForFunction(() => (document.getElementById('screen') as HTMLVideoElement).videoWidth > 0, { timeout: 10_000 });
    return page;
  }

  /** A socket.io client without a page: a viewer (or admin) the test drives message by message. */
  async function rawClient(token: string): Promise<Socket> {
    const client = io(`https://127.0.0.1:${server.port}`, { auth: { token }, transports: ['websocket'], reconnection: false, agent: insecureAgent as never, rejectUnauthorized: false } as never);
    await new Promise<void>((resolve, reject) => {
      client.on('connect', () => resolve());
      client.on('connect_error', reject);
    });
    return client;
  }

  /** Resolves once `client` is told it holds control (or no longer does). */
  function controlState(client: Socket, youHaveControl: boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`control.state youHaveControl=${youHaveControl} did not come within ${timeoutMs} ms`)), timeoutMs);
      client.on('control.state', (state: { youHaveControl: boolean }) => {
        if (state.youHaveControl !== youHaveControl) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** An admin connection without a page takes control (granted at once: it is the admin). */
  async function rawController(): Promise<Socket> {
    const client = await rawClient(server.adminToken);
    const granted = controlState(client, true);
    expect(await request(client, 'control.request')).toMatchObject({ ok: true, data: { youHaveControl: true } });
    await granted;
    return client;
  }

  /** Shift and then A held down, with the browser's own repeats of the A (keydown, repeat: true). */
  async function holdShiftA(client: Socket): Promise<void> {
    client.emit('input', keyEvent('ShiftLeft', 'Shift', true, { shift: true }));
    client.emit('input', keyEvent('KeyA', 'A', true, { shift: true }));
    for (let i = 0; i < 3; i++) {
      await sleep(60);
      client.emit('input', keyEvent('KeyA', 'A', true, { shift: true }, true));
    }
    await sleep(200); // the A is down on the desktop now
  }

  /** The keycodes the X server has down now (XQueryKeymap, from an X client of its own): '' when none. */
  async function keysDown(): Promise<string> {
    const query = "import ctypes; x = ctypes.CDLL('libX11.so.6'); x.XOpenDisplay.restype = ctypes.c_void_p; d = ctypes.c_void_p(x.XOpenDisplay(None)); k = ctypes.create_string_buffer(32); x.XQueryKeymap(d, k); print(' '.join(str(i * 8 + b) for i in range(32) for b in range(8) if k.raw[i] >> b & 1))";
    return (await xvfb.run('python3', ['-c', query])).trim();
  }

  /** The file's text once it has stopped growing (unchanged for 400 ms), or as it is after `timeoutMs`. */
  async function settledFile(timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = readFileSync(file, 'utf8');
    while (Date.now() < deadline) {
      await sleep(400);
      const now = readFileSync(file, 'utf8');
      if (now === text) return text;
      text = now;
    }
    return text;
  }

  /**
   * After a controller went away holding Shift+A (typing into a terminal that hands over every
   * character at once): no key is down on the desktop, nothing repeats on, and the next
   * controller's keys are not shifted — pressed in game mode, as physical keys under the
   * desktop's real modifier state.
   */
  async function expectNothingHeld(): Promise<void> {
    const settled = await settledFile();
    expect(settled).toMatch(/^A+$/);
    expect(await keysDown(), 'keycodes still down on the desktop').toBe('');
    await sleep(1200); // X's auto-repeat (660 ms) would have typed on by now
    expect(readFileSync(file, 'utf8')).toBe(settled);
    await takeControl(viewer);
    await viewer.click('#game-mode');
    await viewer.keyboard.press('b');
    await viewer.keyboard.press('Enter');
    await viewer.click('#game-mode');
    await expectFile(`${settled}b\n`);
  }

  /** The viewer page in control (after a test that gave control to someone else). */
  async function ensureViewerControls(): Promise<void> {
    if ((await viewer.evaluate(() => document.body.dataset['controlState'])) !== 'controlling') await takeControl(viewer);
  }

  /** The viewer asks, the admin grants from its panel, the viewer sees that it controls the desktop. */
  async function takeControl(page: Page): Promise<void> {
    await page.click('#control');
    await page.waitForSelector('body[data-control-state="requested"]', { timeout: 5000 });
    await admin.waitForFunction(() => [...document.querySelectorAll('#admin tbody tr')].some((r) => r.textContent?.includes('asks for control')), { timeout: 5000 });
    await admin.evaluate(() => {
      const row = [...document.querySelectorAll('#admin tbody tr')].find((r) => r.textContent?.includes('asks for control'));
      (row?.querySelector('button[data-action="grant"]') as HTMLButtonElement).click();
    });
    await page.waitForSelector('body[data-control-state="controlling"]', { timeout: 5000 });
    await page.bringToFront();
  }

  /** The page point showing video pixel (x, y), letterbox included. */
  async function pagePoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
    return page.evaluate(
      (vx, vy) => {
        const v = document.getElementById('screen') as HTMLVideoElement;
        const r = v.getBoundingClientRect();
        const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
        return { x: r.left + (r.width - v.videoWidth * scale) / 2 + (vx + 0.5) * scale, y: r.top + (r.height - v.videoHeight * scale) / 2 + (vy + 0.5) * scale };
      },
      x,
      y,
    );
  }

  /** Types `text` the way a viewer with a US keyboard does: Shift around shifted characters, an input method for the rest. */
  async function typeOnUsKeyboard(page: Page, text: string): Promise<void> {
    for (const ch of text) {
      if (ch === '\n') await page.keyboard.press('Enter');
      else if (!US_KEYS.test(ch)) await page.keyboard.sendCharacter(ch);
      else if (US_SHIFTED.test(ch)) {
        await page.keyboard.down('Shift');
        await page.keyboard.press(ch as never);
        await page.keyboard.up('Shift');
      } else await page.keyboard.press(ch as never);
    }
  }

  /** One key as a viewer on another layout sends it: DOM key and code straight from CDP. */
  async function cdpKey(cdp: CDPSession, key: string, code: string, modifiers = 0): Promise<void> {
    const text = [...key].length === 1 ? key : undefined;
    await cdp.send('Input.dispatchKeyEvent', { type: text ? 'keyDown' : 'rawKeyDown', key, code, text, modifiers });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code, modifiers });
  }

  /** An xterm running `cat > FILE`; `lineByLine` false: the tty hands over each character at once (stty -icanon), not at Return. */
  async function openTerminal(name: string, { lineByLine = true } = {}): Promise<void> {
    terminal?.kill();
    file = join(dir, `${name}.txt`);
    rmSync(file, { force: true });
    terminal = spawn('xterm', ['-display', xvfb.display, '-geometry', '80x20+0+0', '-e', 'sh', '-c', `${lineByLine ? '' : 'stty -icanon; '}cat > '${file}'`], {
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      stdio: 'ignore',
    });
    await waitFor(async () => (await xvfb.run('xdotool', ['search', '--sync', '--onlyvisible', '--class', 'xterm']).catch(() => '')).trim() || undefined, 10_000);
    // Focus it the way the viewer would: a click through the video.
    const p = await pagePoint(viewer, 100, 60);
    await viewer.mouse.click(p.x, p.y);
    await sleep(200);
  }

  async function expectFile(expected: string, timeoutMs = 8000): Promise<void> {
    await readWhenLength(file, expected.length, timeoutMs);
    await sleep(150); // nothing more may follow
    const why = async (): Promise<string> =>
      `focus ${await xvfb.run('sh', ['-c', 'for w in $(xdotool search --class xterm); do xwininfo -id $w | grep -E "Map State|Absolute"; done']).catch((e: Error) => e.message.slice(0, 80))} pointer ${await xvfb.run('xdotool', ['getmouselocation'])} page ${await viewer.evaluate(() => `${document.activeElement?.id} ${document.body.dataset['controlState']} ${document.getElementById('control-state')?.textContent}`).catch(() => 'closed')}`;
    expect(readFileSync(file, 'utf8'), await why()).toBe(expected);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskcast-control-'));
    xvfb = await startXvfb({ width: 640, height: 480 });
    await xvfb.paint('#203040');
    server = await startDeskcast(['--display', xvfb.display, '--no-audio', '--control', 'request']);
    ({ browser, close: closeBrowser } = await launchChromium());
    admin = await openPage(server.adminToken);
    viewer = await openPage(server.token, { width: 1000, height: 500 }); // wider than 4:3: letterboxed left and right
  });

  afterAll(async () => {
    terminal?.kill();
    await closeBrowser?.();
    await server?.close();
    await xvfb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the admin link its role and panel; a viewer asks for control and gets it when the admin grants it', async () => {
    expect(await admin.$eval('body', (b) => b.dataset['role'])).toBe('admin');
    expect(await admin.$eval('#admin', (el) => (el as HTMLElement).hidden)).toBe(false);
    expect(await viewer.$eval('body', (b) => b.dataset['role'])).toBe('viewer');
    expect(await viewer.$eval('#admin', (el) => (el as HTMLElement).hidden)).toBe(true);
    expect(await viewer.$eval('#control', (b) => b.textContent)).toBe('Request control');
    await takeControl(viewer);
    expect(await viewer.$eval('#control-state', (el) => el.textContent)).toBe('You control the desktop');
    expect(await admin.$eval('#admin tbody', (el) => el.textContent)).toContain('in control');
  });

  for (const layout of ['us', 'de', 'fr']) {
    it(`types exactly what the viewer typed on a ${layout} desktop (US viewer keyboard; de viewer's AltGr and dead keys)`, async () => {
      await xvfb.run('setxkbmap', ['-display', xvfb.display, layout]);
      const before = await keymap();
      await openTerminal(layout);
      const cdp = await viewer.createCDPSession();
      const burst = 'The quick brown fox jumps over the lazy dog 0123456789 ,.;:!?<>|/\\[]{}()@#$%^&*_+-=~`\'" '.repeat(3).slice(0, 300);
      // Shift characters and the <> | keys (Shift+, must not turn into > on the desktop).
      await typeOnUsKeyboard(viewer, 'Hello, World! <>|\n');
      // Characters only an input method gives a US keyboard; some are absent from the desktop's layout.
      await typeOnUsKeyboard(viewer, 'é€ñ漢😀 @{\\~[]\n');
      // A de viewer: AltGr+Q is @, AltGr+E is €; dead acute then e is é.
      await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: 'AltGraph', code: 'AltRight' });
      await cdpKey(cdp, '@', 'KeyQ');
      await cdpKey(cdp, '€', 'KeyE');
      await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'AltGraph', code: 'AltRight' });
      await cdpKey(cdp, 'Dead', 'Equal');
      await cdpKey(cdp, 'é', 'KeyE');
      await viewer.keyboard.press('Enter');
      // A long burst without delay.
      await typeOnUsKeyboard(viewer, `${burst}\n`);
      await expectFile(`Hello, World! <>|\né€ñ漢😀 @{\\~[]\n@€é\n${burst}\n`);
      await cdp.detach();
      terminal?.kill();
      terminal = undefined;
      await sleep(300); // spare keycodes are released a moment after their last use
      await viewer.evaluate(() => window.dispatchEvent(new Event('blur'))); // releaseAll: bindings go
      await waitFor(async () => ((await keymap()) === before ? true : undefined), 5000).catch(() => undefined);
      expect(await keymap()).toBe(before);
    });
  }

  it('lands clicks where aimed through the letterbox, and scrolls one click per wheel notch', async () => {
    await xvfb.run('setxkbmap', ['-display', xvfb.display, 'us']);
    for (const [x, y] of [[100, 200], [600, 50], [0, 470], [639, 0]] as const) {
      const p = await pagePoint(viewer, x, y);
      await viewer.mouse.move(p.x, p.y);
      await viewer.mouse.down();
      await viewer.mouse.up();
      await waitFor(async () => ((await xvfb.run('xdotool', ['getmouselocation'])).includes(`x:${x} y:${y} `) ? true : undefined), 3000).catch(() => undefined);
      expect(await xvfb.run('xdotool', ['getmouselocation']), `video point ${x},${y} = page point ${p.x},${p.y}; page says ${await viewer.$eval('#control-state', (e) => `${e.textContent} ${(e as HTMLElement).dataset['code']}`)} ${await viewer.evaluate(() => document.activeElement?.id + ' ' + document.body.dataset['controlState'])}`).toContain(`x:${x} y:${y} `);
    }
    // Clicks outside the picture (the black bars) clamp to its edge.
    await viewer.mouse.move(5, 250);
    await waitFor(async () => ((await xvfb.run('xdotool', ['getmouselocation'])).includes('x:0 ') ? true : undefined), 3000);

    const xev = spawn('xev', ['-display', xvfb.display, '-root', '-event', 'button'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    xev.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await sleep(300);
    const p = await pagePoint(viewer, 320, 240);
    await viewer.mouse.move(p.x, p.y);
    for (let i = 0; i < 3; i++) {
      await viewer.mouse.wheel({ deltaY: 100 });
      await sleep(50);
    }
    await viewer.mouse.wheel({ deltaY: -100 });
    await sleep(500);
    xev.kill();
    const presses = [...out.matchAll(/ButtonPress event[\s\S]*?button (\d+)/g)].map((m) => Number(m[1]));
    expect(presses).toEqual([5, 5, 5, 4]);
  });

  it('lands clicks where aimed on a zoomed page (CSS zoom and a device scale factor of 2)', async () => {
    await viewer.setViewport({ width: 1000, height: 500, deviceScaleFactor: 2 });
    await viewer.evaluate(() => (document.documentElement.style.zoom = '1.25'));
    try {
      // Where the picture really is in the viewport: the browser's own box model of the video, not the page's arithmetic.
      const box = await (await viewer.$('#screen'))!.boxModel();
      const { vw, vh } = await viewer.evaluate(() => {
        const v = document.getElementById('screen') as HTMLVideoElement;
        return { vw: v.videoWidth, vh: v.videoHeight };
      });
      const [topLeft, , bottomRight] = box!.content;
      const width = bottomRight!.x - topLeft!.x;
      const height = bottomRight!.y - topLeft!.y;
      const scale = Math.min(width / vw, height / vh);
      for (const [x, y] of [[150, 100], [500, 400]] as const) {
        const p = { x: topLeft!.x + (width - vw * scale) / 2 + (x + 0.5) * scale, y: topLeft!.y + (height - vh * scale) / 2 + (y + 0.5) * scale };
        await viewer.mouse.click(p.x, p.y);
        const at = await waitFor(async () => {
          const location = await xvfb.run('xdotool', ['getmouselocation']);
          return location.includes(`x:${x} y:${y} `) ? location : undefined;
        }, 3000);
        expect(at, `video point ${x},${y} at zoom 1.25 × DPR 2 = viewport point ${p.x},${p.y}; pointer ${await xvfb.run('xdotool', ['getmouselocation'])}`).toBeTruthy();
      }
    } finally {
      await viewer.evaluate(() => (document.documentElement.style.zoom = ''));
      await viewer.setViewport({ width: 1000, height: 500 });
    }
  });

  it('game mode sends physical keys (Y on a de desktop is Z) and relative pointer motion under pointer lock', async () => {
    await ensureViewerControls();
    await xvfb.run('setxkbmap', ['-display', xvfb.display, 'de']);
    await openTerminal('raw');
    await viewer.click('#game-mode');
    expect(await viewer.$eval('#game-mode', (b) => b.getAttribute('aria-pressed'))).toBe('true');
    await viewer.keyboard.press('y'); // the physical KeyY: on QWERTZ it is the Z key
    await viewer.keyboard.press('Enter');
    await expectFile('z\n');

    const centre = await pagePoint(viewer, 320, 240);
    await viewer.mouse.click(centre.x, centre.y); // a click in game mode locks the pointer
    await viewer.waitForFunction(() => document.pointerLockElement?.id === 'input-sink', { timeout: 3000 });
    const start = /x:(\d+) y:(\d+)/.exec(await xvfb.run('xdotool', ['getmouselocation']))!;
    const scale = await viewer.evaluate(() => {
      const v = document.getElementById('screen') as HTMLVideoElement;
      const r = v.getBoundingClientRect();
      return Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    });
    await viewer.mouse.move(centre.x + 60, centre.y - 30);
    const expected = { x: Number(start[1]) + Math.round(60 / scale), y: Number(start[2]) - Math.round(30 / scale) };
    const moved = await waitFor(async () => {
      const m = /x:(\d+) y:(\d+)/.exec(await xvfb.run('xdotool', ['getmouselocation']))!;
      const at = { x: Number(m[1]), y: Number(m[2]) };
      return Math.abs(at.x - expected.x) <= 2 && Math.abs(at.y - expected.y) <= 2 ? at : undefined;
    }, 3000);
    expect(moved, `relative motion from ${start[0]} should reach ${JSON.stringify(expected)}`).toBeTruthy();

    // Slow motion on a big page: each 1 px step is less than a desktop pixel; the fractions add up.
    await viewer.setViewport({ width: 1600, height: 1200 });
    await viewer.waitForFunction(() => document.pointerLockElement?.id === 'input-sink', { timeout: 3000 });
    const bigScale = await viewer.evaluate(() => {
      const v = document.getElementById('screen') as HTMLVideoElement;
      const r = v.getBoundingClientRect();
      return Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    });
    expect(bigScale).toBeGreaterThan(1.5);
    const from = /x:(\d+) y:(\d+)/.exec(await xvfb.run('xdotool', ['getmouselocation']))!;
    const origin = { x: centre.x + 60, y: centre.y - 30 };
    for (let i = 1; i <= 40; i++) await viewer.mouse.move(origin.x + i, origin.y);
    const slow = { x: Number(from[1]) + Math.trunc(40 / bigScale), y: Number(from[2]) };
    const crept = await waitFor(async () => {
      const m = /x:(\d+) y:(\d+)/.exec(await xvfb.run('xdotool', ['getmouselocation']))!;
      return Math.abs(Number(m[1]) - slow.x) <= 1 && Number(m[2]) === slow.y ? m[0] : undefined;
    }, 3000);
    expect(crept, `40 steps of 1 page px at scale ${bigScale} from ${from[0]} should reach x:${slow.x}; pointer ${await xvfb.run('xdotool', ['getmouselocation'])}`).toBeTruthy();
    await viewer.setViewport({ width: 1000, height: 500 });
    await viewer.evaluate(() => document.exitPointerLock());
    await viewer.click('#game-mode');
    await xvfb.run('setxkbmap', ['-display', xvfb.display, 'us']);
  });

  /** Key presses an X client receives: xev on a window at the top left, under the pointer (no window manager: focus follows it). */
  async function watchKeyPresses(): Promise<{ presses(): { state: number; keycode: number }[]; stop(): void }> {
    terminal?.kill();
    terminal = undefined;
    const xev = spawn('xev', ['-display', xvfb.display, '-geometry', '400x300+0+0', '-name', 'deskcast-keys', '-event', 'keyboard'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    xev.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(async () => (await xvfb.run('xdotool', ['search', '--sync', '--onlyvisible', '--name', 'deskcast-keys']).catch(() => '')).trim() || undefined, 10_000);
    const p = await pagePoint(viewer, 100, 60);
    await viewer.mouse.move(p.x, p.y);
    await sleep(300);
    return {
      presses: () => [...out.matchAll(/KeyPress event[\s\S]*?state (0x[0-9a-f]+), keycode (\d+) /g)].map((m) => ({ state: Number(m[1]), keycode: Number(m[2]) })),
      stop: () => void xev.kill(),
    };
  }

  it('a Ctrl+letter chord reaches the desktop as the shortcut: the physical key on a Russian layout, the letter on a German one', async () => {
    await ensureViewerControls();
    const cdp = await viewer.createCDPSession();
    // Locks the keyboard group as a layout switcher does (XkbLockGroup; xdotool would restore the group after its own keys).
    const lockGroup = (group: number): Promise<string> =>
      xvfb.run('python3', ['-c', `import ctypes; x = ctypes.CDLL('libX11.so.6'); x.XOpenDisplay.restype = ctypes.c_void_p; d = ctypes.c_void_p(x.XOpenDisplay(None)); x.XkbLockGroup(d, 0x100, ${group}); x.XSync(d, 0)`]);
    const cases = [
      // No Latin letters at all: the US viewer's Ctrl+U is the U key (keycode 30) with Control.
      { name: 'ru', setup: async () => void (await xvfb.run('setxkbmap', ['-layout', 'ru'])), live: /keycode {2}30 = Cyrillic_ghe/, key: 'u', code: 'KeyU', keycode: 30, group: 0 },
      // Latin letters in group 1, the Russian group 2 active: still the physical key, in group 2.
      { name: 'us,ru with ru active', setup: async () => void (await xvfb.run('setxkbmap', ['-layout', 'us,ru']), await lockGroup(1)), live: /keycode {2}30 = u U Cyrillic_ghe/, key: 'u', code: 'KeyU', keycode: 30, group: 0x2000 },
      // QWERTZ: the US viewer's Ctrl+Z is Ctrl+Z on the desktop, where Z is (the key US calls Y, keycode 29).
      { name: 'de', setup: async () => void (await lockGroup(0), await xvfb.run('setxkbmap', ['-layout', 'de'])), live: /keycode {2}29 = z Z/, key: 'z', code: 'KeyZ', keycode: 29, group: 0 },
    ];
    try {
      for (const c of cases) {
        await c.setup();
        const before = await keymap();
        expect(before, `${c.name}: the layout is live`).toMatch(c.live);
        const keys = await watchKeyPresses();
        await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: 'Control', code: 'ControlLeft', modifiers: CDP_CTRL });
        await cdpKey(cdp, c.key, c.code, CDP_CTRL);
        await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Control', code: 'ControlLeft' });
        const press = await waitFor(async () => keys.presses().find((p) => p.keycode !== 37), 3000); // 37: the Control key itself
        keys.stop();
        expect(press, `${c.name}: presses ${JSON.stringify(keys.presses())}`).toMatchObject({ keycode: c.keycode });
        expect(press!.state & X_CONTROL_MASK, `${c.name}: state 0x${press!.state.toString(16)}`).toBe(X_CONTROL_MASK);
        expect(press!.state & X_GROUP_MASK, `${c.name}: state 0x${press!.state.toString(16)}`).toBe(c.group);
        expect(await keymap(), `${c.name}: no spare keycode bound for the letter`).toBe(before);
      }
    } finally {
      await cdp.detach();
      await lockGroup(0);
      await xvfb.run('setxkbmap', ['-layout', 'us']);
    }
  });

  it('follows the modifier state each key carries: Ctrl held before the page had focus still makes Ctrl+U a shortcut', async () => {
    await ensureViewerControls();
    await openTerminal('modifier-state');
    const cdp = await viewer.createCDPSession();
    await typeOnUsKeyboard(viewer, 'abc');
    // The page never saw Control go down (pressed while another window had focus): only the event's state says so.
    await cdpKey(cdp, 'u', 'KeyU', CDP_CTRL); // Ctrl+U: the terminal erases the line
    await typeOnUsKeyboard(viewer, 'xyz\n'); // Control is up in these events: released before them
    await expectFile('xyz\n');
    await cdp.detach();
  });

  it('pastes the viewer\'s clipboard into the desktop, and copies the desktop\'s back only when the admin allows it', async () => {
    const context = viewer.browserContext();
    await context.overridePermissions(url(''), ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    await viewer.evaluate(() => navigator.clipboard.writeText('Grüße aus 漢字 ✓'));
    await viewer.bringToFront();
    await viewer.focus('#input-sink');
    await viewer.keyboard.down('Control');
    await viewer.keyboard.press('v');
    await viewer.keyboard.up('Control');
    const desktopClipboard = (): Promise<string> => xvfb.run('xclip', ['-selection', 'clipboard', '-o']).catch(() => '');
    expect(await waitFor(async () => ((await desktopClipboard()) === 'Grüße aus 漢字 ✓' ? true : undefined), 5000), await desktopClipboard()).toBe(true);

    // Copying back: refused until the admin allows it, then the desktop's clipboard reaches the viewer's.
    expect(await viewer.$eval('#copy-from-desktop', (b) => (b as HTMLElement).hidden)).toBe(true);
    await admin.click('#admin-clipboard');
    await viewer.waitForSelector('#copy-from-desktop:not([hidden])', { timeout: 3000 });
    const owner = spawn('xclip', ['-quiet', '-selection', 'clipboard', '-i'], { env: { ...process.env, DISPLAY: xvfb.display }, stdio: ['pipe', 'ignore', 'ignore'] });
    owner.stdin.end('from the desktop ✓');
    await sleep(300);
    await viewer.click('#copy-from-desktop');
    expect(await waitFor(async () => ((await viewer.evaluate(() => navigator.clipboard.readText())) === 'from the desktop ✓' ? true : undefined), 5000)).toBe(true);
    owner.kill();
    await admin.click('#admin-clipboard');
    await viewer.waitForSelector('#copy-from-desktop[hidden]', { timeout: 3000 });
  });

  it('drops input from a connection without control and tells it why; admin requests need the admin token', async () => {
    await openTerminal('no-control');
    const rogue = await rawClient(server.token);
    const notices: { code: string; message: string }[] = [];
    rogue.on('input.rejected', (n: { code: string; message: string }) => notices.push(n));
    for (const down of [true, false]) rogue.emit('input', keyEvent('KeyX', 'x', down));
    rogue.emit('input', { type: 'text', text: 'xyz' });
    const noControl = await waitFor(async () => notices.find((n) => n.code === 'no-control'), 3000);
    expect(noControl).toMatchObject({ code: 'no-control', message: expect.stringMatching(/do not have control/) });
    // A malformed event right after (well within a second) is still answered: its own code, naming the field.
    rogue.emit('input', { type: 'pointer', x: 'left' });
    const bad = await waitFor(async () => notices.find((n) => n.code === 'bad-request'), 3000);
    expect(bad, JSON.stringify(notices)).toMatchObject({ code: 'bad-request', message: expect.stringMatching(/"input\.x" must be a number/) });
    const grant = await request(rogue, 'admin.grantControl', { viewerId: 'x' });
    expect(grant).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const read = await request(rogue, 'clipboard.read');
    expect(read).toMatchObject({ ok: false, error: { code: 'no-control' } });
    // Garbage input is answered, not injected, and the server goes on.
    rogue.emit('input', null);
    rogue.close();
    await typeOnUsKeyboard(viewer, 'ok\n'); // the terminal hands a line to `cat` at Return
    await expectFile('ok\n');
  });

  it('revoke and kick take effect at once', async () => {
    await admin.click('#admin-revoke');
    await viewer.waitForSelector('body[data-control-state="watching"]', { timeout: 3000 });
    expect(await viewer.$eval('#control', (b) => b.textContent)).toBe('Request control');
    const before = readFileSync(file, 'utf8');
    await viewer.keyboard.type('nope\n'); // with Return: the terminal would hand the line to `cat`
    await sleep(500);
    expect(readFileSync(file, 'utf8')).toBe(before);

    const kicked = await openPage(server.token);
    await admin.waitForFunction(() => document.querySelectorAll('#admin tbody tr').length >= 3, { timeout: 5000 });
    const id = await kicked.evaluate(() => document.body.dataset['role']);
    expect(id).toBe('viewer');
    // Kick the newest viewer (last row).
    await admin.evaluate(() => {
      const rows = [...document.querySelectorAll('#admin tbody tr')];
      (rows.at(-1)?.querySelector('button[data-action="kick"]') as HTMLButtonElement).click();
    });
    await kicked.waitForSelector('body[data-state="refused"]', { timeout: 3000 });
    expect(await kicked.$eval('#message', (el) => el.textContent)).toBe('The admin removed you from this broadcast.');
    await kicked.browserContext().close();
  });

  it('releases held keys when the controller\'s connection dies without a word (no release, no page handlers)', async () => {
    await ensureViewerControls();
    await openTerminal('socket-killed', { lineByLine: false });
    const holder = await rawController();
    await holdShiftA(holder);
    // Tear the TCP connection down under socket.io: no disconnect packet, no close frame, no releaseAll.
    const transport = holder.io.engine.transport as unknown as { ws?: { terminate(): void } };
    expect(transport.ws, 'the websocket transport under socket.io').toBeTruthy();
    transport.ws!.terminate();
    await expectNothingHeld();
    holder.close();
  });

  it('releases held keys and control when the controller stops sending heartbeats (its connection still open)', async () => {
    await ensureViewerControls();
    await openTerminal('heartbeat', { lineByLine: false });
    const holder = await rawController();
    const lost = controlState(holder, false, 8000);
    const since = Date.now();
    await holdShiftA(holder);
    await lost; // four missed heartbeats (checked each second)
    expect(Date.now() - since).toBeGreaterThan(3000);
    expect(holder.connected).toBe(true);
    await expectNothingHeld();
    holder.close();
  });

  it('releases held keys when the admin kicks the viewer holding control', async () => {
    await ensureViewerControls();
    await openTerminal('kicked', { lineByLine: false });
    const target = await rawClient(server.token);
    const adminClient = await rawClient(server.adminToken);
    const granted = controlState(target, true);
    expect(await request(target, 'control.request')).toMatchObject({ ok: true, data: { youRequested: true } });
    const list = await request<{ viewers: { viewerId: string; requestedControl: boolean }[] }>(adminClient, 'admin.listViewers');
    const asking = list.data!.viewers.filter((v) => v.requestedControl);
    expect(asking).toHaveLength(1);
    expect(await request(adminClient, 'admin.grantControl', { viewerId: asking[0]!.viewerId })).toMatchObject({ ok: true });
    await granted;
    await holdShiftA(target);
    const kicked = new Promise<{ reason: string }>((resolve) => target.on('session.kicked', resolve));
    expect(await request(adminClient, 'admin.kick', { viewerId: asking[0]!.viewerId })).toMatchObject({ ok: true });
    expect(await kicked).toEqual({ reason: 'The admin removed you from this broadcast.' });
    await expectNothingHeld();
    target.close();
    adminClient.close();
  });

  it('rate-limits a flood of input with `rate-limited`, yet never drops a key-up: the held key is released', async () => {
    await ensureViewerControls();
    await openTerminal('rate-limit', { lineByLine: false });
    const holder = await rawController();
    const notices: { code: string }[] = [];
    holder.on('input.rejected', (n: { code: string }) => notices.push(n));
    holder.emit('input', keyEvent('ShiftLeft', 'Shift', true, { shift: true }));
    holder.emit('input', keyEvent('KeyA', 'A', true, { shift: true }));
    await sleep(200);
    // 5000 dead keys at once (they type nothing by themselves): far beyond the burst of 2000 and 1000 a second.
    for (let i = 0; i < 5000; i++) holder.emit('input', keyEvent('Equal', 'Dead', true, { shift: true }));
    holder.emit('input', keyEvent('KeyA', 'A', false, { shift: true }));
    holder.emit('input', keyEvent('ShiftLeft', 'Shift', false));
    for (let i = 0; i < 1000; i++) holder.emit('input', keyEvent('Equal', 'Dead', true));
    expect(await waitFor(async () => notices.find((n) => n.code === 'rate-limited'), 5000), JSON.stringify(notices)).toBeTruthy();
    await expectNothingHeld();
    holder.close();
  });

  it('releases everything when the controller vanishes with Shift and a letter held: nothing keeps typing', async () => {
    await ensureViewerControls();
    await openTerminal('vanish', { lineByLine: false });
    const cdp = await viewer.createCDPSession();
    await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: 'Shift', code: 'ShiftLeft', modifiers: CDP_SHIFT });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'A', code: 'KeyA', text: 'A', modifiers: CDP_SHIFT });
    await sleep(300); // the A is down on the desktop now
    await viewer.browserContext().close(); // the socket goes with it, keys still down
    const settled = await settledFile();
    expect(settled).toMatch(/^A+$/);
    expect(await keysDown(), 'keycodes still down on the desktop').toBe('');
    await sleep(1200); // X's auto-repeat (660 ms) would have typed on by now
    expect(readFileSync(file, 'utf8')).toBe(settled);
    await xvfb.run('xdotool', ['type', 'b']); // Shift is not stuck either: a lower-case b
    await expectFile(`${settled}b`);
    await admin.waitForFunction(() => !document.querySelector('#admin tbody')?.textContent?.includes('in control'), { timeout: 3000 });
  });
});
