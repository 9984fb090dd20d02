// CPU of the capture → RTP pipeline on three desktops — still, typing in a terminal, full-screen
// motion (test/helpers/x11-painter.c scroll) — beside ffmpeg (x11grab → libx264 ultrafast/zerolatency → RTP) at the same size,
// rate and bitrate, measured the same way (/proc/<pid>/stat deltas over DURATION_MS).
// Run: npx tsx bench/cpu.bench.ts   (BENCH_FPS=30,60; prints JSON, then one line per fps)
//
// deskcast's side is the native VideoSession in this process (what the server process runs
// for capture → RTP; its JS is idle), sending to a UDP sink that drops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { loadNative } from '../test/helpers/native.js';
import { startXvfb, type XvfbServer } from '../test/helpers/xvfb.js';
import { painterBinary, processCpuSeconds, report } from './benchLib.js';

const WIDTH = 1280;
const HEIGHT = 720;
const BITRATE_KBPS = 3000;
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 10_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Scene = 'still' | 'typing' | 'motion';
const SCENES: Scene[] = ['still', 'typing', 'motion'];

/** Starts a scene's X clients; returns a stop function. */
async function startScene(xvfb: XvfbServer, scene: Scene): Promise<() => void> {
  const env = { ...process.env, DISPLAY: xvfb.display };
  const children: ChildProcess[] = [];
  if (scene === 'typing') {
    // A terminal on part of the screen, typed into at ~8 characters a second.
    children.push(spawn('xterm', ['-geometry', '100x30+100+100', '-e', 'cat'], { env, stdio: 'ignore' }));
    await sleep(800);
    await xvfb.run('xdotool', ['mousemove', '400', '300']); // focus follows the pointer in bare X
    // Typed from a shell loop, so spawning xdotool costs nothing in the measured process.
    children.push(spawn('sh', ['-c', 'while :; do for c in t h e q u i c k b r o w n f o x space; do xdotool key $c; sleep 0.125; done; done'], { env, stdio: 'ignore', detached: true }));
  } else if (scene === 'motion') {
    // The whole screen scrolls textured content 100 times a second: every frame changes everywhere.
    children.push(spawn(painterBinary(), ['scroll', '100'], { env, stdio: 'ignore', detached: true }));
  }
  await sleep(1500);
  return () => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL'); // the typing loop's whole process group
      } catch {
        c.kill('SIGKILL');
      }
    }
  };
}

async function measure(pid: number, ms: number): Promise<number> {
  const c0 = processCpuSeconds(pid);
  const t0 = performance.now();
  await sleep(ms);
  return Math.round(((processCpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 1000) / 10; // % of one core
}

async function deskcastCpu(display: string, fps: number, port: number): Promise<{ cpu: number; fpsEncoded: number }> {
  const native = loadNative();
  let encoded = 0;
  const session = new native.VideoSession({
    display, fps, bitrateKbps: BITRATE_KBPS, keyframeIntervalSec: 0, encoder: 'auto',
    destinationHost: '127.0.0.1', destinationPort: port, ssrc: 0x5eed, payloadType: 102, cname: 'bench',
    onEvent: (e) => {
      if (e.type === 'stats') encoded = e.framesEncoded;
    },
  });
  await session.start();
  await sleep(1500);
  const before = encoded;
  const t0 = performance.now();
  const cpu = await measure(process.pid, DURATION_MS);
  await sleep(1100); // one more stats event
  const fpsEncoded = Math.round(((encoded - before) / ((performance.now() - t0) / 1000)) * 10) / 10;
  session.stop();
  return { cpu, fpsEncoded };
}

async function ffmpegCpu(display: string, fps: number, port: number): Promise<number> {
  const ff = spawn('ffmpeg', [
    '-loglevel', 'error', '-f', 'x11grab', '-draw_mouse', '1', '-video_size', `${WIDTH}x${HEIGHT}`, '-framerate', String(fps), '-i', display,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-b:v', `${BITRATE_KBPS}k`, '-maxrate', `${BITRATE_KBPS}k`, '-bufsize', `${BITRATE_KBPS / 2}k`, '-g', String(fps * 60),
    '-f', 'rtp', `rtp://127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await sleep(1500);
    return await measure(ff.pid!, DURATION_MS);
  } finally {
    ff.kill('SIGKILL');
  }
}

const sink = createSocket('udp4');
await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
sink.on('message', () => undefined);
const port = sink.address().port;
const xvfb = await startXvfb({ width: WIDTH, height: HEIGHT });
try {
  await xvfb.paint('#305070');
  for (const fps of (process.env['BENCH_FPS'] ?? '30,60').split(',').map(Number)) {
    const rows: Record<string, { deskcast: number; deskcastFps: number; ffmpeg: number; ratio: number }> = {};
    for (const scene of SCENES) {
      const stop = await startScene(xvfb, scene);
      try {
        const d = await deskcastCpu(xvfb.display, fps, port);
        const f = await ffmpegCpu(xvfb.display, fps, port);
        rows[scene] = { deskcast: d.cpu, deskcastFps: d.fpsEncoded, ffmpeg: f, ratio: Math.round((d.cpu / f) * 100) / 100 };
      } finally {
        stop();
      }
      await sleep(500);
    }
    report(
      'cpu',
      { unit: '% of one core', fps, width: WIDTH, height: HEIGHT, bitrateKbps: BITRATE_KBPS, durationMs: DURATION_MS, scenes: rows },
      `${fps} fps ${WIDTH}x${HEIGHT}: ` +
        SCENES.map((s) => `${s} ${rows[s]!.deskcast}% (${rows[s]!.deskcastFps} fps encoded) vs ffmpeg ${rows[s]!.ffmpeg}% = ${rows[s]!.ratio}×`).join('; '),
    );
  }
} finally {
  await xvfb.stop();
  sink.close();
}
