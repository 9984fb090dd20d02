// Remote control end to end: real Chromium viewers send real key and pointer events through the
// page, deskcast injects them into a real Xvfb with a real XKB keymap, and what arrives is read
// back from the desktop: the text an xterm running `cat > FILE` wrote, the pointer position
// xdotool reports, the wheel clicks xev sees. One desktop and one browser for the whole file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'node:https';
import type { Browser, CDPSession, Page } from 'puppeteer-core';
import { io } from 'socket.io-client';
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

  async function openTerminal(name: string): Promise<void> {
    terminal?.kill();
    file = join(dir, `${name}.txt`);
    rmSync(file, { force: true });
    terminal = spawn('xterm', ['-display', xvfb.display, '-geometry', '80x20+0+0', '-e', 'sh', '-c', `cat > '${file}'`], {
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
      await typeOnUsKeyboard(viewer, 'é€ñ漢 @{\\~[]\n');
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
      await expectFile(`Hello, World! <>|\né€ñ漢 @{\\~[]\n@€é\n${burst}\n`);
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

  it('game mode sends physical keys (Y on a de desktop is Z) and relative pointer motion under pointer lock', async () => {
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
    await viewer.evaluate(() => document.exitPointerLock());
    await viewer.click('#game-mode');
    await xvfb.run('setxkbmap', ['-display', xvfb.display, 'us']);
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
    const rogue = io(`https://127.0.0.1:${server.port}`, { auth: { token: server.token }, transports: ['websocket'], reconnection: false, agent: insecureAgent as never, rejectUnauthorized: false } as never);
    await new Promise<void>((resolve) => rogue.on('connect', () => resolve()));
    const rejected = new Promise<{ code: string; message: string }>((resolve) => rogue.on('input.rejected', resolve));
    const modifiers = { shift: false, ctrl: false, alt: false, meta: false, altGraph: false, capsLock: false };
    for (const down of [true, false]) rogue.emit('input', { type: 'key', code: 'KeyX', key: 'x', down, repeat: false, mode: 'text', modifiers });
    rogue.emit('input', { type: 'text', text: 'xyz' });
    expect(await rejected).toMatchObject({ code: 'no-control', message: expect.stringMatching(/do not have control/) });
    const grant = await new Promise<{ ok: boolean; error?: { code: string } }>((resolve) => rogue.emit('request', 'admin.grantControl', { viewerId: 'x' }, resolve));
    expect(grant).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const read = await new Promise<{ ok: boolean; error?: { code: string } }>((resolve) => rogue.emit('request', 'clipboard.read', {}, resolve));
    expect(read).toMatchObject({ ok: false, error: { code: 'no-control' } });
    // Garbage input is answered, not injected, and the server goes on.
    rogue.emit('input', { type: 'pointer', x: 'left' });
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

  it('releases everything when the controller vanishes with Shift and a letter held: nothing keeps typing', async () => {
    await openTerminal('vanish');
    await takeControl(viewer);
    const cdp = await viewer.createCDPSession();
    await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: 'Shift', code: 'ShiftLeft', modifiers: 8 });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'A', code: 'KeyA', text: 'A', modifiers: 8 });
    await sleep(300); // the A is down on the desktop now
    await viewer.browserContext().close(); // the socket goes with it, keys still down
    await sleep(1500);
    // The terminal hands its line to `cat` at Return: end the line, wait, end another.
    await xvfb.run('xdotool', ['key', 'Return']);
    await waitFor(async () => (readFileSync(file, 'utf8').endsWith('\n') ? true : undefined), 3000);
    const settled = readFileSync(file, 'utf8');
    expect(settled).toMatch(/^A+\n$/);
    await sleep(1200);
    await xvfb.run('xdotool', ['key', 'Return']);
    await xvfb.run('xdotool', ['type', 'b']); // Shift is not stuck either: a lower-case b
    await xvfb.run('xdotool', ['key', 'Return']);
    await expectFile(`${settled}\nb\n`); // and no auto-repeat ran on in between
    await admin.waitForFunction(() => !document.querySelector('#admin tbody')?.textContent?.includes('in control'), { timeout: 3000 });
  });
});
