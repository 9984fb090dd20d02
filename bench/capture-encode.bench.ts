// Native capture → convert → encode cost at 1280x720 on Xvfb with moving content.
// Run: npx tsx bench/capture-encode.bench.ts   (prints JSON, then a one-line summary)
import { report, startMovingContent, summarize } from './benchLib.js';
import { loadNative, type NativeVideoStats } from '../test/helpers/native.js';
import { RtpReceiver } from '../test/helpers/rtp.js';
import { startXvfb } from '../test/helpers/xvfb.js';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const BITRATE_KBPS = 3000;
const DURATION_MS = 10_000;
const WARMUP_MS = 2_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const native = loadNative();
  const xvfb = await startXvfb({ width: WIDTH, height: HEIGHT });
  let content: { stop(): void } | undefined;
  const receiver = await RtpReceiver.open();
  receiver.keepPackets = false;
  try {
    content = startMovingContent(xvfb);
    await sleep(1500);

    const stats: NativeVideoStats[] = [];
    const warnings: string[] = [];
    const session = new native.VideoSession({
      display: xvfb.display,
      fps: FPS,
      bitrateKbps: BITRATE_KBPS,
      keyframeIntervalSec: 2,
      encoder: 'auto',
      destinationHost: '127.0.0.1',
      destinationPort: receiver.port,
      ssrc: 0x5eed,
      payloadType: 102,
      cname: 'bench',
      onEvent: (e) => {
        if (e.type === 'stats') stats.push(e);
        else if (e.type === 'error' || (e.type === 'log' && e.level === 'warn')) warnings.push(e.message);
      },
    });
    const started = await session.start();
    await sleep(WARMUP_MS);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const first = stats.length;
    await sleep(DURATION_MS);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    session.stop();

    const window = stats.slice(first);
    const last = window.at(-1);
    const firstInWindow = window[0];
    if (!last || !firstInWindow) throw new Error('no stats events received');
    const cpuPercentOfOneCore = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
    const mbps = ((last.bytesSent - firstInWindow.bytesSent) * 8) / ((window.length - 1) * 1e6);
    const result = {
      resolution: `${WIDTH}x${HEIGHT}`,
      fps: FPS,
      bitrateKbps: BITRATE_KBPS,
      encoder: started.encoder,
      durationMs: Math.round(wallMs),
      // Per-second windows from the native stats; *P50 are per-window medians of per-frame times.
      captureMs: summarize(window.map((s) => s.captureMsP50)),
      convertMs: summarize(window.map((s) => s.convertMsP50)),
      encodeMs: summarize(window.map((s) => s.encodeMsP50)),
      encodeMsAvg: summarize(window.map((s) => s.encodeMsAvg)),
      captureFps: summarize(window.map((s) => s.captureFps)),
      cpuPercentOfOneCore: Math.round(cpuPercentOfOneCore * 10) / 10,
      sentMbps: Math.round(mbps * 100) / 100,
      keyframesSent: last.keyframesSent,
      framesSent: last.framesSent,
      warnings,
    };
    report(
      'capture-encode',
      result,
      `${WIDTH}x${HEIGHT}@${FPS} ${started.encoder}: capture ${result.captureMs.median} ms, convert ${result.convertMs.median} ms, encode ${result.encodeMs.median} ms (median), ${result.captureFps.median} fps, CPU ${result.cpuPercentOfOneCore}% of one core, ${result.sentMbps} Mb/s`,
    );
  } finally {
    content?.stop();
    await receiver.close();
    await xvfb.stop();
  }
}

await main();
