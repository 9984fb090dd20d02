import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { wrongTokenMessage } from '../../shared/protocol.js';
import { colorDistance, framesDecoded, instrumentPeerConnections, launchChromium, videoPixel, waitFor, type Rgb } from '../helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../helpers/deskcast.js';

const RED: Rgb = { r: 255, g: 0, b: 0 };
const BLUE: Rgb = { r: 0, g: 0, b: 255 };
/** H.264 4:2:0 at a few Mb/s shifts flat colours a little; far less than red vs blue. */
const TOLERANCE = 40;

describe('viewer end to end: Xvfb → native capture → mediasoup → Chromium', () => {
  let server: DeskcastServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  async function openViewer(url = viewerUrl(server)): Promise<Page> {
    const context = await browser.createBrowserContext(); // separate viewer, own connection
    const page = await context.newPage();
    await instrumentPeerConnections(page);
    await page.goto(url);
    return page;
  }

  beforeAll(async () => {
    server = await startDeskcast(['--fps', '30', '--keyframe-interval', '30']);
    await paintRoot(server.display, '#ff0000');
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
  });

  it('plays the desktop: frames decode and the picture is the painted colour, then follows a change', async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await instrumentPeerConnections(page);
    await page.goto(viewerUrl(server));
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    // Change-driven capture: a still screen sends its picture (the joiner's keyframe), then nothing.
    const decoded = await waitFor(async () => (await framesDecoded(page)) > 0, 15_000);
    expect(decoded, 'inbound-rtp framesDecoded should grow past 0').toBe(true);

    const red = await waitFor(async () => colorDistance(await videoPixel(page), RED) <= TOLERANCE, 10_000);
    const pixel = await videoPixel(page);
    expect(red, `pixel ${JSON.stringify(pixel)} should be red`).toBe(true);
    expect(pixel.width).toBe(640);
    expect(pixel.height).toBe(480);
    // The X pointer (composited by the capture) sits at the centre, dark on the red screen.
    expect(colorDistance(await videoPixel(page, 0.5, 0.5), RED)).toBeGreaterThan(100);

    const before = await framesDecoded(page);
    await paintRoot(server.display, '#0000ff');
    const blue = await waitFor(async () => colorDistance(await videoPixel(page), BLUE) <= TOLERANCE, 10_000);
    expect(blue, `pixel ${JSON.stringify(await videoPixel(page))} should turn blue`).toBe(true);
    expect(await framesDecoded(page)).toBeGreaterThan(before); // the change was sent as new frames
    // The page lives within its strict Content-Security-Policy: nothing was blocked.
    expect(consoleErrors).toEqual([]);
    await context.close();
  });

  it('negotiates playout-delay and abs-capture-time: render at once, capture time known to the viewer', async () => {
    const page = await openViewer();
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    await paintRoot(server.display, '#ff00ff');
    await new Promise((r) => setTimeout(r, 500));
    const video = await page.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      // the broadcast's video: not mediasoup-client's bandwidth "probator" (also a video receiver),
      // nor the stopped ones of the peer connections it opens to probe the browser's capabilities
      const transceiver = pcs
        .flatMap((pc) => pc.getTransceivers())
        .find((t) => t.receiver.track.kind === 'video' && t.mid !== null && t.mid !== 'probator' && t.currentDirection !== 'stopped')!;
      const sdp = pcs.map((pc) => pc.remoteDescription?.sdp ?? '').join('\n');
      const section = sdp.split(/(?=^m=)/m).find((m) => m.includes(`a=mid:${transceiver.mid}\r`)) ?? '';
      const [source] = transceiver.receiver.getSynchronizationSources() as (RTCRtpSynchronizationSource & { captureTimestamp?: number })[];
      return { section, captureTimestamp: source?.captureTimestamp };
    });
    // negotiated on the broadcast's video m-section (Chromium 156 lists no receiver headerExtensions in getParameters())
    expect(video.section).toMatch(/a=extmap:\d+ http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay/);
    expect(video.section).toMatch(/a=extmap:\d+ http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/abs-capture-time/);
    // NTP ms (since 1900) of a capture within the last minute.
    const ntpNowMs = Date.now() + 2_208_988_800_000;
    expect(video.captureTimestamp).toBeGreaterThan(ntpNowMs - 60_000);
    expect(video.captureTimestamp).toBeLessThan(ntpNowMs + 5_000);
    await page.browserContext().close();
  });

  it('serves two browsers at once', async () => {
    await paintRoot(server.display, '#00ff00');
    const [a, b] = await Promise.all([openViewer(), openViewer()]);
    for (const page of [a, b]) {
      await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
      const green = await waitFor(async () => colorDistance(await videoPixel(page), { r: 0, g: 255, b: 0 }) <= TOLERANCE, 10_000);
      expect(green, `pixel ${JSON.stringify(await videoPixel(page))} should be green`).toBe(true);
    }
    const health = await a.evaluate(async () => (await fetch('/healthz')).json() as Promise<{ viewers: number }>);
    expect(health.viewers).toBe(2);
    await Promise.all([a.browserContext().close(), b.browserContext().close()]);
  });

  it('refuses a page opened with a wrong or missing token, with a clear message', async () => {
    for (const url of [viewerUrl(server, 'wrong-token'), `https://127.0.0.1:${server.port}/`]) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const response = await page.goto(url);
      expect(response?.status()).toBe(403);
      expect(await page.$eval('#refusal', (el) => el.textContent)).toBe(wrongTokenMessage);
      await context.close();
    }
  });

  it('gives a viewer who joins while the screen is static its first frame within 500 ms of connecting', async () => {
    await paintRoot(server.display, '#ff0000');
    await new Promise((r) => setTimeout(r, 3000)); // static screen; next periodic keyframe is 30 s away
    const page = await openViewer();
    const timing = await page.evaluate(
      () =>
        new Promise<{ connectedAt: number; firstFrameAt: number }>((resolve) => {
          const video = document.getElementById('screen') as HTMLVideoElement;
          video.requestVideoFrameCallback(() => {
            const connectedAt = (window as unknown as { __connectedAt: number[] }).__connectedAt[0] ?? NaN;
            resolve({ connectedAt, firstFrameAt: performance.now() });
          });
        }),
    );
    const sinceConnected = timing.firstFrameAt - timing.connectedAt;
    expect(Number.isFinite(sinceConnected), `timing ${JSON.stringify(timing)}`).toBe(true);
    expect(sinceConnected).toBeLessThan(500);
    expect(colorDistance(await videoPixel(page), RED)).toBeLessThanOrEqual(TOLERANCE);
    await page.browserContext().close();
  });
});
