// Wayland end to end: a headless sway 1.7 (Debian bookworm) → wlr-screencopy → H.264 → mediasoup
// → a real Chromium viewer, which sees the right colours; the viewer takes control and its keys
// (typed by Chromium) arrive exactly in foot running `cat > FILE`, and its clicks land on the
// output pixels aimed at (read back by wev).
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { EmbeddedSway } from '../../server/desktop/EmbeddedSway.js';
import { colorDistance, framesDecoded, instrumentPeerConnections, launchChromium, openLiveViewer, videoPixel, waitFor, type Rgb } from '../helpers/browser.js';
import { startDeskcast, viewerUrl } from '../helpers/deskcast.js';
import { leftPressPositions } from '../helpers/wev.js';

const RED: Rgb = { r: 255, g: 0, b: 0 };
const GREEN: Rgb = { r: 0, g: 255, b: 0 };
const BLUE: Rgb = { r: 0, g: 0, b: 255 };
const TOLERANCE = 40;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The rectangle sway gives the window of `appId` in its tree (IPC GET_TREE), if it has one. */
function windowRect(tree: unknown, appId: string): { x: number; y: number; width: number; height: number } | undefined {
  const node = tree as { app_id?: string; rect?: { x: number; y: number; width: number; height: number }; nodes?: unknown[]; floating_nodes?: unknown[] };
  if (node.app_id === appId && node.rect) return { x: node.rect.x, y: node.rect.y, width: node.rect.width, height: node.rect.height };
  for (const child of [...(node.nodes ?? []), ...(node.floating_nodes ?? [])]) {
    const found = windowRect(child, appId);
    if (found) return found;
  }
  return undefined;
}
const readOr = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

describe('Wayland end to end: sway 1.7 → wlr-screencopy → mediasoup → Chromium, and remote control back', () => {
  let sway: EmbeddedSway;
  let server: DeskcastServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let page: Page;

  beforeAll(async () => {
    sway = await EmbeddedSway.create({ width: 640, height: 480, background: '#ff0000' });
    // The socket by absolute path: sway runs as another user, deskcast reaches it that way.
    server = await startDeskcast(['--capture', 'wayland', '--wayland-display', sway.socketPath, '--no-audio', '--control', 'free']);
    ({ browser, close: closeBrowser } = await launchChromium());
    page = await (await browser.createBrowserContext()).newPage();
    await instrumentPeerConnections(page);
    await page.goto(viewerUrl(server));
  });

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
    await sway?.stop();
  });

  it('a Chromium viewer sees the compositor output with the right colours', async () => {
    expect(server.display).toBe(`wayland:${sway.socketPath}`);
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    // Capture is change-driven: a still output sends its first picture (and one repeat), no more.
    expect(await waitFor(async () => (await framesDecoded(page)) >= 1, 15_000)).toBe(true);
    expect(await waitFor(async () => colorDistance(await videoPixel(page), RED) <= TOLERANCE, 10_000), JSON.stringify(await videoPixel(page))).toBe(true);
    const pixel = await videoPixel(page);
    expect([pixel.width, pixel.height]).toEqual([640, 480]);
    await sway.command('output * bg #00ff00 solid_color');
    expect(await waitFor(async () => colorDistance(await videoPixel(page), GREEN) <= TOLERANCE, 10_000), JSON.stringify(await videoPixel(page))).toBe(true);
  });

  it('the viewer takes control: typed text arrives exactly in foot, and a click lands where aimed', async () => {
    await sway.command(`exec foot sh -c 'cat > "$XDG_RUNTIME_DIR/typed.txt"'`);
    const deadline = Date.now() + 10_000;
    while (!JSON.stringify(await sway.ipc(4)).includes('"app_id":"foot"') && Date.now() < deadline) await sleep(100);
    await sleep(500);

    await page.click('#control');
    await page.waitForSelector('body[data-control-state="controlling"]', { timeout: 5000 });
    // A first line shows the terminal has focus and reads input (foot maps before its shell runs).
    const file = join(sway.runtimeDir, 'typed.txt');
    let ready = false;
    for (let i = 0; i < 20 && !ready; i++) {
      await page.keyboard.type('ready');
      await page.keyboard.press('Enter');
      ready = await waitFor(async () => readOr(file).includes('ready\n') || undefined, 1000).then(() => true).catch(() => false);
    }
    expect(ready, `foot never received keys: ${JSON.stringify(readOr(file))}`).toBe(true);
    const before = readOr(file).length;
    const text = 'Hello Wayland, 1+1=2 <ok> {braces} ~tilde "quotes" $HOME\\path';
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
    await waitFor(async () => readOr(file).length >= before + text.length + 1 || undefined, 10_000).catch(() => undefined);
    expect(JSON.stringify(readOr(file).slice(before))).toBe(JSON.stringify(`${text}\n`));

    // Clicks on the video where output pixels (400, 300) and (123, 77) are shown must reach a
    // client at exactly those pixels: wev (a Wayland client that prints the events it gets)
    // replaces foot and covers the output alone (one tiled window, no borders).
    await sway.command('[app_id="foot"] kill');
    await sway.command(`exec sh -c 'stdbuf -oL wev > "$XDG_RUNTIME_DIR/wev.log" 2>&1'`);
    const wevLog = join(sway.runtimeDir, 'wev.log');
    const wevRect = await waitFor(async () => {
      const tree = await sway.ipc(4);
      return windowRect(tree, 'foot') ? undefined : windowRect(tree, 'wev');
    }, 10_000);
    expect(wevRect, 'wev did not map a window').toEqual({ x: 0, y: 0, width: 640, height: 480 });
    await sleep(500); // its first configure/commit round
    const aims = [[400, 300], [123, 77]] as const;
    for (const [x, y] of aims) {
      const point = await page.evaluate(
        (px, py) => {
          const v = document.getElementById('screen') as HTMLVideoElement;
          const r = v.getBoundingClientRect();
          const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
          return { x: r.left + (r.width - v.videoWidth * scale) / 2 + (px + 0.5) * scale, y: r.top + (r.height - v.videoHeight * scale) / 2 + (py + 0.5) * scale };
        },
        x,
        y,
      );
      await page.mouse.click(point.x, point.y);
    }
    const pressed = /button: 272 \(left\), state: 1 \(pressed\)/g;
    await waitFor(async () => (readOr(wevLog).match(pressed)?.length ?? 0) >= aims.length, 10_000);
    // wev prints the pointer position (surface = output pixels) before each button.
    expect(leftPressPositions(readOr(wevLog))).toEqual(aims);
  }, 60_000);
});

describe('--wayland-display by socket name (in --xdg-runtime-dir) and --output among two outputs', () => {
  it('a Chromium viewer sees the output named by --output of the compositor named by its socket', async () => {
    const sway = await EmbeddedSway.create({ width: 640, height: 480, background: '#ff0000' });
    let server: DeskcastServer | undefined;
    let closeBrowser: (() => Promise<void>) | undefined;
    try {
      await sway.command('create_output');
      await sway.command('output HEADLESS-2 resolution 320x240 position 640 0 bg #0000ff solid_color');
      server = await startDeskcast([
        '--capture', 'wayland',
        '--wayland-display', basename(sway.socketPath),
        '--xdg-runtime-dir', dirname(sway.socketPath),
        '--output', 'HEADLESS-2',
        '--no-audio',
      ]);
      expect(server.display).toBe(`wayland:${sway.socketPath}`);
      const launched = await launchChromium();
      closeBrowser = launched.close;
      const page = await openLiveViewer(launched.browser, viewerUrl(server));
      expect(await waitFor(async () => colorDistance(await videoPixel(page), BLUE) <= TOLERANCE, 15_000), JSON.stringify(await videoPixel(page))).toBe(true);
      const pixel = await videoPixel(page, 0.75, 0.75);
      expect([pixel.width, pixel.height]).toEqual([320, 240]);
      expect(colorDistance(pixel, BLUE)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      await closeBrowser?.();
      await server?.close();
      await sway.stop();
    }
  }, 60_000);
});
