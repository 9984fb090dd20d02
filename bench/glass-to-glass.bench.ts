// Glass-to-glass latency: a colour painted on the X display until the browser presents a
// frame showing it (requestVideoFrameCallback). Run: npx tsx bench/glass-to-glass.bench.ts
import type { Page } from 'puppeteer-core';
import { instrumentPeerConnections, launchChromium } from '../test/helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../test/helpers/deskcast.js';
import { report, summarize } from './benchLib.js';

const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 30);
const COLORS: [string, [number, number, number]][] = [
  ['#ff0000', [255, 0, 0]],
  ['#00ff00', [0, 255, 0]],
  ['#0000ff', [0, 0, 255]],
];

/** In the page: on every presented frame, check a pixel (off the pointer) against the target. */
async function installDetector(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __target?: [number, number, number]; __seenAt?: number };
    const video = document.getElementById('screen') as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const onFrame = (now: number): void => {
      const target = w.__target;
      if (target && w.__seenAt === undefined) {
        ctx.drawImage(video, video.videoWidth / 4, video.videoHeight / 4, 1, 1, 0, 0, 1, 1); // off the pointer
        const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
        if (Math.abs(r! - target[0]) < 60 && Math.abs(g! - target[1]) < 60 && Math.abs(b! - target[2]) < 60) {
          w.__seenAt = performance.timeOrigin + now;
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
}

/** Offset of the page's wall clock from ours, from a round trip (ms). */
async function clockOffset(page: Page): Promise<number> {
  const offsets: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = Date.now();
    offsets.push(pageNow - (before + after) / 2);
  }
  return summarize(offsets).median;
}

const server = await startDeskcast(process.argv.slice(2));
const { browser, close } = await launchChromium();
try {
  const page = await browser.newPage();
  await instrumentPeerConnections(page);
  await page.goto(viewerUrl(server));
  await page.waitForSelector('body[data-state="live"]', { timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 2000));
  await installDetector(page);
  const offset = await clockOffset(page);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const [hex, rgb] = COLORS[i % COLORS.length]!;
    await page.evaluate((t) => {
      const w = window as unknown as { __target?: [number, number, number]; __seenAt?: number };
      w.__target = t;
      w.__seenAt = undefined;
    }, rgb);
    const paintedAt = Date.now();
    await paintRoot(server.display, hex);
    const deadline = Date.now() + 5000;
    let seenAt: number | undefined;
    while (seenAt === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      seenAt = await page.evaluate(() => (window as unknown as { __seenAt?: number }).__seenAt);
    }
    if (seenAt === undefined) throw new Error(`colour ${hex} never reached the browser within 5 s`);
    samples.push(seenAt - offset - paintedAt);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 200)); // de-correlate from the frame clock
  }
  const stats = summarize(samples);
  report(
    'glass-to-glass',
    { unit: 'ms', fps: server.captureStatus.fps, encoder: server.captureStatus.encoder, clockOffsetMs: offset, ...stats, samples },
    `median ${stats.median} ms, p95 ${stats.p95} ms over ${stats.n} colour changes (${server.captureStatus.encoder}, ${server.captureStatus.fps} fps, ${server.captureStatus.width}x${server.captureStatus.height})`,
  );
} finally {
  await close();
  await server.close();
}
