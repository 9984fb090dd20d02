// CPU cost of the VP8 path (libvpx realtime, for viewers without H.264) on top of H.264, on the
// same captured frames: one VideoSession, phases alternating H.264 only / H.264 + VP8
// (setVp8Enabled), 1280x720@30 on Xvfb with moving content.
// Run: npx tsx bench/vp8.bench.ts   (prints JSON, then a one-line summary)
import { report, startMovingContent, summarize } from './benchLib.js';
import { loadNative, type NativeVideoStats } from '../test/helpers/native.js';
import { createSocket } from 'node:dgram';
import { startXvfb } from '../test/helpers/xvfb.js';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const BITRATE_KBPS = 3000;
const PHASE_MS = 6_000;
const ROUNDS = 2;
const SETTLE_MS = 1_500; // the encoder opens and the stats window turns over

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Phase {
  cpuPercentOfOneCore: number;
  /** Process CPU time per captured frame: holds up even when a busy machine starves the pipeline. */
  cpuMsPerFrame: number;
  stats: NativeVideoStats[];
}

async function main(): Promise<void> {
  const native = loadNative();
  const xvfb = await startXvfb({ width: WIDTH, height: HEIGHT });
  let content: { stop(): void } | undefined;
  // A plain sink: both SSRCs arrive on it (the H.264 test receiver would choke on VP8).
  const receiver = createSocket('udp4');
  receiver.on('message', () => undefined);
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const receiverPort = receiver.address().port;
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
      destinationPort: receiverPort,
      ssrc: 0x5eed,
      payloadType: 102,
      vp8Ssrc: 0x5eee,
      vp8PayloadType: 103,
      cname: 'bench',
      onEvent: (e) => {
        if (e.type === 'stats') stats.push(e);
        else if (e.type === 'error' || (e.type === 'log' && e.level === 'warn')) warnings.push(e.message);
      },
    });
    const started = await session.start();
    await sleep(2000);

    const run = async (vp8: boolean): Promise<Phase> => {
      session.setVp8Enabled(vp8);
      await sleep(SETTLE_MS);
      const first = stats.length;
      const frames0 = stats.at(-1)?.framesCaptured ?? 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(PHASE_MS);
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - t0;
      const frames = (stats.at(-1)?.framesCaptured ?? 0) - frames0;
      const cpuMs = (cpu.user + cpu.system) / 1000;
      return { cpuPercentOfOneCore: (cpuMs / wallMs) * 100, cpuMsPerFrame: frames > 0 ? cpuMs / frames : NaN, stats: stats.slice(first) };
    };
    const h264Only: Phase[] = [];
    const withVp8: Phase[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      h264Only.push(await run(false));
      withVp8.push(await run(true));
    }
    session.stop();

    const cpu = (phases: Phase[]): number => Math.round((phases.reduce((a, p) => a + p.cpuPercentOfOneCore, 0) / phases.length) * 10) / 10;
    const perFrame = (phases: Phase[]): number => Math.round((phases.reduce((a, p) => a + p.cpuMsPerFrame, 0) / phases.length) * 100) / 100;
    const vp8Windows = withVp8.flatMap((p) => p.stats).filter((s) => s.vp8Active);
    const vp8Mbps = withVp8.map((p) => {
      const a = p.stats[0];
      const b = p.stats.at(-1);
      return a && b && p.stats.length > 1 ? ((b.vp8BytesSent - a.vp8BytesSent) * 8) / ((p.stats.length - 1) * 1e6) : 0;
    });
    const result = {
      resolution: `${WIDTH}x${HEIGHT}`,
      fps: FPS,
      bitrateKbps: BITRATE_KBPS,
      encoder: started.encoder,
      phaseMs: PHASE_MS,
      rounds: ROUNDS,
      h264Only: {
        cpuPercentOfOneCore: cpu(h264Only),
        cpuMsPerFrame: perFrame(h264Only),
        encodeMs: summarize(h264Only.flatMap((p) => p.stats).map((s) => s.encodeMsAvg)),
        captureFps: summarize(h264Only.flatMap((p) => p.stats).map((s) => s.captureFps)),
        vp8Active: h264Only.flatMap((p) => p.stats).some((s) => s.vp8Active),
      },
      h264AndVp8: {
        cpuPercentOfOneCore: cpu(withVp8),
        cpuMsPerFrame: perFrame(withVp8),
        encodeMs: summarize(withVp8.flatMap((p) => p.stats).map((s) => s.encodeMsAvg)),
        vp8EncodeMs: summarize(vp8Windows.map((s) => s.vp8EncodeMsAvg)),
        captureFps: summarize(withVp8.flatMap((p) => p.stats).map((s) => s.captureFps)),
        vp8Mbps: Math.round((vp8Mbps.reduce((a, b) => a + b, 0) / vp8Mbps.length) * 100) / 100,
        vp8FramesSent: vp8Windows.at(-1)?.vp8FramesSent ?? 0,
      },
      warnings,
    };
    const extra = Math.round((result.h264AndVp8.cpuPercentOfOneCore - result.h264Only.cpuPercentOfOneCore) * 10) / 10;
    const extraPerFrame = Math.round((result.h264AndVp8.cpuMsPerFrame - result.h264Only.cpuMsPerFrame) * 100) / 100;
    // At the full frame rate, CPU ms per frame × fps / 10 = % of one core.
    const atFps = (ms: number): number => Math.round(ms * FPS * 10) / 100;
    report(
      'vp8',
      { ...result, vp8ExtraCpuPercentOfOneCore: extra, vp8ExtraCpuMsPerFrame: extraPerFrame, vp8ExtraCorePercentAtFullFps: atFps(extraPerFrame) },
      `${WIDTH}x${HEIGHT}@${FPS}: CPU per frame H.264 only ${result.h264Only.cpuMsPerFrame} ms, + VP8 ${result.h264AndVp8.cpuMsPerFrame} ms ` +
        `(VP8 adds ${extraPerFrame} ms/frame = ${atFps(extraPerFrame)}% of a core at ${FPS} fps; measured ${result.h264Only.cpuPercentOfOneCore}% → ` +
        `${result.h264AndVp8.cpuPercentOfOneCore}% at ${result.h264Only.captureFps.median} / ${result.h264AndVp8.captureFps.median} fps), ` +
        `VP8 encode ${result.h264AndVp8.vp8EncodeMs.median} ms median, ${result.h264AndVp8.vp8Mbps} Mb/s`,
    );
  } finally {
    content?.stop();
    receiver.close();
    await xvfb.stop();
  }
}

await main();
