// A/V offset (lip sync): a flash and a click emitted together on the presenter's desktop, seen
// and heard in the viewer's browser. Positive = audio late.
//
// The desktop is our own Xvfb and an isolated PulseAudio (PULSE_SERVER set before the server
// starts, as test/e2e/audio.test.ts does). Each sample paints the X root white (xsetroot) and
// plays a short loud 1 kHz burst into the default sink at the same instant; the browser marks
// the first presented frame that shows white (requestVideoFrameCallback, expected display time)
// and the moment an AnalyserNode on the received audio track first sees the burst (polled every
// 5 ms; the onset's position in the analyser's window is taken back out). Emission times are
// measured too (xsetroot exit; pacat's "Stream started"), so the offset is the difference of the
// two end-to-end latencies, independent of how exactly the two emissions lined up.
//
// The AnalyserNode sees the audio as the jitter buffer hands it out, i.e. before an output
// device. Chromium lip-syncs the <video> element's own audio output, whose device delay it takes
// into account; the headline figure leaves device delays out on both sides. For information,
// `viaAudioContextOutput` adds the analyser's AudioContext output latency
// (getOutputTimestamp), a path Chromium does not sync.
//
// Run: npx tsx bench/av-offset.bench.ts [deskcast flags]   (BENCH_SAMPLES=15 by default)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Page } from 'puppeteer-core';
import { instrumentPeerConnections, launchChromium } from '../test/helpers/browser.js';
import { startDeskcast, viewerUrl } from '../test/helpers/deskcast.js';
import { startIsolatedPulse, type IsolatedPulse } from '../test/helpers/pulse.js';
import { startXvfb } from '../test/helpers/xvfb.js';
import { report, summarize } from './benchLib.js';

const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 15);
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 80 ms of 1 kHz at 0.8 full scale (2 ms fade-in), then 100 ms of silence: S16LE stereo 48 kHz. */
function burst(): Buffer {
  const frames = 48 * 180;
  const b = Buffer.alloc(frames * 4);
  for (let i = 0; i < 48 * 80; i++) {
    const v = Math.round(0.8 * 32767 * Math.min(1, i / 96) * Math.sin((2 * Math.PI * 1000 * i) / 48000));
    b.writeInt16LE(v, i * 4);
    b.writeInt16LE(v, i * 4 + 2);
  }
  return b;
}

/**
 * A pacat playback stream opened ahead of time (connected, waiting for data), so that writing
 * the burst starts it at once. Resolves `started` with our clock's time of pacat's
 * "Stream started" (the sound server began playing it).
 */
async function openClicker(pulse: IsolatedPulse): Promise<{ play: () => number; started: Promise<number>; done: Promise<void> }> {
  const child: ChildProcess = spawn(
    'pacat',
    ['-v', '--playback', '--raw', '--format=s16le', '--rate=48000', '--channels=2', '--latency-msec=10', '--client-name=av-click'],
    { env: pulse.env, stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let onReady: () => void = () => undefined;
  let onStarted: (t: number) => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const started = new Promise<number>((r) => (onStarted = r));
  child.stderr!.on('data', (d: Buffer) => {
    const t = now();
    const text = d.toString();
    if (text.includes('Connected to device')) onReady();
    if (text.includes('Stream started')) onStarted(t);
  });
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([ready, sleep(5000).then(() => Promise.reject(new Error('pacat did not connect within 5 s')))]);
  return {
    play: () => {
      const t = now();
      child.stdin!.end(burst());
      return t;
    },
    started,
    done,
  };
}

/** xsetroot on the display; resolves with our clock's time when it has exited (the X server has the paint). */
function paint(display: string, color: string): Promise<number> {
  return new Promise((resolve, reject) =>
    execFile('xsetroot', ['-display', display, '-solid', color], (err) => (err ? reject(err) : resolve(now()))),
  );
}

/** In the page: a white-frame detector on the video and a burst detector on the audio track. */
async function installDetectors(page: Page): Promise<{ outputTimestamps: boolean; baseLatencyMs: number; outputLatencyMs: number }> {
  return page.evaluate(async () => {
    const w = window as unknown as { __armed: boolean; __videoAt?: number; __audioAt?: number; __audioOutAt?: number; __black: boolean };
    w.__armed = false;
    w.__black = false;
    const video = document.getElementById('screen') as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      g.drawImage(video, video.videoWidth / 4, video.videoHeight / 4, 1, 1, 0, 0, 1, 1); // off the pointer
      const [r, gr, b] = g.getImageData(0, 0, 1, 1).data;
      const luma = (r! + gr! + b!) / 3;
      w.__black = luma < 40;
      if (w.__armed && w.__videoAt === undefined && luma > 200) w.__videoAt = performance.timeOrigin + meta.expectedDisplayTime;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);

    const track = (video.srcObject as MediaStream).getAudioTracks()[0]!;
    const context = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
    await context.resume();
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048; // 42.7 ms: the onset stays in view even if a poll is late
    context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let outputTimestamps = false;
    setInterval(() => {
      if (!w.__armed || w.__audioAt !== undefined) return;
      analyser.getFloatTimeDomainData(samples);
      const renderedUpTo = context.currentTime;
      const out = context.getOutputTimestamp();
      const index = samples.findIndex((x) => Math.abs(x) > 0.1);
      if (index < 0) return;
      const onset = renderedUpTo - (samples.length - index) / context.sampleRate;
      // When the analyser got the onset: now, minus how much audio it has rendered since.
      w.__audioAt = performance.timeOrigin + performance.now() - (renderedUpTo - onset) * 1000;
      // When this AudioContext's own output would play it (adds WebAudio's output latency,
      // which the <video> element's audio path, the one Chromium lip-syncs, does not have).
      if (out.performanceTime && out.contextTime) {
        outputTimestamps = true;
        w.__audioOutAt = performance.timeOrigin + out.performanceTime + (onset - out.contextTime) * 1000;
      }
    }, 5);
    await new Promise((r) => setTimeout(r, 300));
    return { outputTimestamps: outputTimestamps || context.getOutputTimestamp().performanceTime! > 0, baseLatencyMs: context.baseLatency * 1000, outputLatencyMs: context.outputLatency * 1000 };
  });
}

/** Offset of the page's wall clock from ours (ms), from round trips. */
async function clockOffset(page: Page): Promise<number> {
  const offsets: number[] = [];
  const outputOffsets: number[] = [];
  for (let i = 0; i < 7; i++) {
    const before = now();
    const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = now();
    offsets.push(pageNow - (before + after) / 2);
  }
  return summarize(offsets).median;
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

// The viewer's browser plays into its own default output, never into the presenter's sink.
const { browser, close } = await launchChromium();
const pulse = await startIsolatedPulse({ sinks: ['presenter'] });
const xvfb = await startXvfb({ width: 640, height: 480 });
await xvfb.paint('#000000');
const server = await startDeskcast(['--display', xvfb.display, '--pulse-server', pulse.server, '--pulse-cookie', pulse.cookie, ...process.argv.slice(2)]);
try {
  const page = await browser.newPage();
  await instrumentPeerConnections(page);
  await page.goto(viewerUrl(server));
  await page.waitForSelector('body[data-state="live"]', { timeout: 30_000 });
  await waitFor(
    async () => ((await page.evaluate(() => ((document.getElementById('screen') as HTMLVideoElement).srcObject as MediaStream | null)?.getAudioTracks().length ?? 0)) > 0 ? true : undefined),
    10_000,
    'the audio track',
  );
  await sleep(3000); // past the sound server's and the jitter buffers' start-up
  const audioContext = await installDetectors(page);
  const offset = await clockOffset(page);

  const offsets: number[] = [];
  const outputOffsets: number[] = [];
  const audioLatency: number[] = [];
  const videoLatency: number[] = [];
  const emissionSkew: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    await waitFor(async () => ((await page.evaluate(() => (window as unknown as { __black: boolean }).__black)) ? true : undefined), 5000, 'a black frame');
    const clicker = await openClicker(pulse);
    await page.evaluate(() => {
      const w = window as unknown as { __armed: boolean; __videoAt?: number; __audioAt?: number; __audioOutAt?: number };
      w.__videoAt = w.__audioAt = w.__audioOutAt = undefined;
      w.__armed = true;
    });
    const writtenAt = clicker.play();
    const paintedAt = await paint(xvfb.display, '#ffffff');
    const startedAt = await Promise.race([clicker.started, sleep(3000).then(() => writtenAt)]);
    const seen = await waitFor(
      () =>
        page.evaluate(() => {
          const w = window as unknown as { __videoAt?: number; __audioAt?: number; __audioOutAt?: number };
          return w.__videoAt !== undefined && w.__audioAt !== undefined ? { video: w.__videoAt, audio: w.__audioAt, audioOut: w.__audioOutAt } : undefined;
        }),
      5000,
      `flash and click ${i + 1} in the browser`,
    );
    await page.evaluate(() => ((window as unknown as { __armed: boolean }).__armed = false));
    const a = seen.audio - offset - startedAt;
    const v = seen.video - offset - paintedAt;
    audioLatency.push(a);
    videoLatency.push(v);
    offsets.push(a - v);
    if (seen.audioOut !== undefined) outputOffsets.push(seen.audioOut - offset - startedAt - v);
    emissionSkew.push(startedAt - paintedAt);
    await clicker.done;
    await paint(xvfb.display, '#000000');
    await sleep(1200 + Math.random() * 600); // de-correlate from the frame and packet clocks
  }
  const stats = summarize(offsets);
  const abs = summarize(offsets.map(Math.abs));
  const round = (xs: number[]): number[] => xs.map((x) => Math.round(x * 10) / 10);
  report(
    'av-offset',
    {
      unit: 'ms',
      sign: 'positive = audio later than video',
      fps: server.captureStatus.fps,
      encoder: server.captureStatus.encoder,
      audioBitrateKbps: 128,
      clockOffsetMs: offset,
      audioContext,
      ...stats,
      absP95: abs.p95,
      viaAudioContextOutput: outputOffsets.length ? summarize(outputOffsets) : null,
      audioLatency: summarize(audioLatency),
      videoLatency: summarize(videoLatency),
      emissionSkew: summarize(emissionSkew),
      samples: round(offsets),
    },
    `median ${stats.median} ms, p95 ${stats.p95} ms (|offset| p95 ${abs.p95} ms; positive = audio late) over ${stats.n} flash+click pairs; ` +
      `audio ${summarize(audioLatency).median} ms vs video ${summarize(videoLatency).median} ms end to end (${server.captureStatus.encoder}, ${server.captureStatus.fps} fps, 640x480)`,
  );
} finally {
  await close();
  await server.close();
  await xvfb.stop();
  await pulse.stop();
}
