// Glass-to-glass latency with its breakdown: a colour painted on the X display (by a long-lived
// painter, so the paint instant is exact) until the browser shows a frame with it.
// Run: npx tsx bench/glass-to-glass.bench.ts [--fps 30|60 ...]   (BENCH_FPS=30,60 runs both)
//
// Per sample, from the browser's requestVideoFrameCallback metadata (all in the page's clock,
// mapped to ours): captureTime (from the RTP abs-capture-time the server stamps), receiveTime,
// expectedDisplayTime, and the callback time itself. The server's stages come from its own
// per-frame histograms (deskcast_video_stage_seconds), the receiver's from inbound-rtp stats.
import type { Page } from 'puppeteer-core';
import type { Histogram } from 'prom-client';
import { instrumentPeerConnections, launchChromium } from '../test/helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../test/helpers/deskcast.js';
import { registry } from '../server/metrics/registry.js';
import { report, startPainter, summarize } from './benchLib.js';

const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 30);
const COLORS: [string, [number, number, number]][] = [
  ['#ff0000', [255, 0, 0]],
  ['#00ff00', [0, 255, 0]],
  ['#0000ff', [0, 0, 255]],
];

interface Seen {
  callbackAt: number;
  expectedDisplayTime: number;
  presentationTime: number;
  receiveTime?: number;
  captureTime?: number;
}

/** In the page: on every presented frame, check a pixel against the target; keep rVFC's metadata. */
async function installDetector(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __target?: [number, number, number]; __seen?: Seen };
    const video = document.getElementById('screen') as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const origin = performance.timeOrigin;
    const onFrame = (now: number, meta: VideoFrameCallbackMetadata & { captureTime?: number; receiveTime?: number }): void => {
      const target = w.__target;
      if (target && w.__seen === undefined) {
        ctx.drawImage(video, video.videoWidth / 4, video.videoHeight / 4, 1, 1, 0, 0, 1, 1);
        const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
        if (Math.abs(r! - target[0]) < 60 && Math.abs(g! - target[1]) < 60 && Math.abs(b! - target[2]) < 60) {
          w.__seen = {
            callbackAt: origin + now,
            expectedDisplayTime: origin + meta.expectedDisplayTime,
            presentationTime: origin + meta.presentationTime,
            receiveTime: meta.receiveTime === undefined ? undefined : origin + meta.receiveTime,
            captureTime: meta.captureTime === undefined ? undefined : origin + meta.captureTime,
          };
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

/** Mean ms per frame of each server stage since `since` (histogram sums and counts). */
async function stageMeans(since?: Map<string, [number, number]>): Promise<{ totals: Map<string, [number, number]>; means: Record<string, number> }> {
  const h = registry.getSingleMetric('deskcast_video_stage_seconds') as Histogram | undefined;
  const totals = new Map<string, [number, number]>();
  for (const v of (await h?.get())?.values ?? []) {
    const stage = String(v.labels['stage']);
    const entry = totals.get(stage) ?? [0, 0];
    if (v.metricName?.endsWith('_sum')) entry[0] = v.value;
    if (v.metricName?.endsWith('_count')) entry[1] = v.value;
    totals.set(stage, entry);
  }
  const means: Record<string, number> = {};
  for (const [stage, [sum, count]] of totals) {
    const [s0, c0] = since?.get(stage) ?? [0, 0];
    if (count > c0) means[stage] = Math.round(((sum - s0) / (count - c0)) * 1e4) / 10;
  }
  return { totals, means };
}

async function receiverTotals(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs?: RTCPeerConnection[] }).__pcs ?? [];
    const out: Record<string, number> = {};
    for (const pc of pcs) {
      (await pc.getStats()).forEach((s: Record<string, unknown> & { type: string }) => {
        if (s.type === 'inbound-rtp' && s['kind'] === 'video') {
          for (const k of ['jitterBufferDelay', 'jitterBufferEmittedCount', 'totalAssemblyTime', 'framesAssembledFromMultiplePackets', 'totalDecodeTime', 'totalProcessingDelay', 'framesDecoded', 'jitterBufferTargetDelay', 'jitterBufferMinimumDelay']) {
            out[k] = (out[k] ?? 0) + Number(s[k] ?? 0);
          }
        }
      });
    }
    return out;
  });
}

async function run(fps: number): Promise<void> {
  const server = await startDeskcast(['--fps', String(fps), '--embedded-size', '1280x720', ...process.argv.slice(2)]);
  const { browser, close } = await launchChromium();
  const painter = await startPainter(server.display);
  try {
    const page = await browser.newPage();
    await instrumentPeerConnections(page);
    await page.goto(viewerUrl(server));
    await page.waitForSelector('body[data-state="live"]', { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 2000));
    await installDetector(page);
    const offset = await clockOffset(page);
    const headerExtensions = await page.evaluate(() =>
      ((window as unknown as { __pcs?: RTCPeerConnection[] }).__pcs ?? []).flatMap((pc) =>
        pc.getReceivers().filter((r) => r.track.kind === 'video').flatMap((r) => r.getParameters().headerExtensions.map((e) => e.uri)),
      ),
    );
    // What the previous version of this bench counted as latency but is not: it started the
    // clock before spawning xsetroot (process start, X connection, paint, exit).
    const xsetroot: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await paintRoot(server.display, '#202020');
      xsetroot.push(performance.now() - t0);
    }
    await new Promise((r) => setTimeout(r, 500));
    const rx0 = await receiverTotals(page);
    const stages0 = await stageMeans();
    const rows: { toCallback: number; toExpectedDisplay: number; paintToCapture?: number; captureToReceive?: number; receiveToDisplay?: number }[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const [hex, rgb] = COLORS[i % COLORS.length]!;
      await page.evaluate((t) => {
        const w = window as unknown as { __target?: [number, number, number]; __seen?: Seen };
        w.__target = t;
        w.__seen = undefined;
      }, rgb);
      const paintedAt = await painter.paint(hex);
      const deadline = Date.now() + 5000;
      let seen: Seen | undefined;
      while (seen === undefined && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        seen = await page.evaluate(() => (window as unknown as { __seen?: Seen }).__seen);
      }
      if (seen === undefined) throw new Error(`colour ${hex} never reached the browser within 5 s`);
      const local = (t: number): number => t - offset; // page clock → ours
      rows.push({
        toCallback: local(seen.callbackAt) - paintedAt,
        toExpectedDisplay: local(seen.expectedDisplayTime) - paintedAt,
        paintToCapture: seen.captureTime === undefined ? undefined : local(seen.captureTime) - paintedAt,
        captureToReceive: seen.captureTime === undefined || seen.receiveTime === undefined ? undefined : seen.receiveTime - seen.captureTime,
        receiveToDisplay: seen.receiveTime === undefined ? undefined : seen.expectedDisplayTime - seen.receiveTime,
      });
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 200)); // de-correlate from the frame clock
    }
    const rx1 = await receiverTotals(page);
    const { means: serverStagesMs } = await stageMeans(stages0.totals);
    const d = (k: string): number => (rx1[k] ?? 0) - (rx0[k] ?? 0);
    const per = (num: string, den: string): number => Math.round((d(num) / Math.max(1, d(den))) * 1e4) / 10;
    const receiverMs = {
      jitterBuffer: per('jitterBufferDelay', 'jitterBufferEmittedCount'),
      jitterBufferTarget: per('jitterBufferTargetDelay', 'jitterBufferEmittedCount'),
      assembly: per('totalAssemblyTime', 'framesAssembledFromMultiplePackets'),
      decode: per('totalDecodeTime', 'framesDecoded'),
      receiveToRender: per('totalProcessingDelay', 'framesDecoded'),
    };
    const col = (k: keyof (typeof rows)[number]): ReturnType<typeof summarize> =>
      summarize(rows.map((r) => r[k]).filter((v): v is number => v !== undefined));
    const g2g = col('toExpectedDisplay');
    const cb = col('toCallback');
    const breakdown = { paintToCapture: col('paintToCapture'), captureToReceive: col('captureToReceive'), receiveToDisplay: col('receiveToDisplay') };
    report(
      'glass-to-glass',
      {
        unit: 'ms', fps, encoder: server.captureStatus.encoder, clockOffsetMs: offset, headerExtensions,
        toExpectedDisplay: g2g, toRvfcCallback: cb, xsetrootSpawnMs: summarize(xsetroot), breakdown, serverStagesMs, receiverMs, samples: rows,
      },
      `${fps} fps: paint → expected display p50 ${g2g.median} ms, p95 ${g2g.p95} ms (rVFC callback p50 ${cb.median}; an xsetroot run takes ${summarize(xsetroot).median}); ` +
        `paint→capture ${breakdown.paintToCapture.median}, capture→receive ${breakdown.captureToReceive.median}, receive→display ${breakdown.receiveToDisplay.median}; ` +
        `server convert ${serverStagesMs['convert']} encode ${serverStagesMs['encode']} send ${serverStagesMs['send']}; ` +
        `browser jitter buffer ${receiverMs.jitterBuffer}, decode ${receiverMs.decode} (${server.captureStatus.encoder}, ${server.captureStatus.width}x${server.captureStatus.height})`,
    );
  } finally {
    painter.close();
    await close();
    await server.close();
  }
}

for (const fps of (process.env['BENCH_FPS'] ?? '30,60').split(',').map(Number)) await run(fps);
