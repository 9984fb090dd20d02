import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import type { RecordingInfo, RecordingList } from '../../shared/protocol.js';
import { startDeskcast } from '../helpers/deskcast.js';
import { NalType, nalType } from '../helpers/h264.js';
import { insecureFetch } from '../helpers/https.js';
import { dominantFrequency, playTone, sleep, startIsolatedPulse, waitFor, type IsolatedPulse, type Tone } from '../helpers/pulse.js';
import {
  ask, decodeAudio, decodeFrames, decodesCleanly, ffprobe, near, openTap, pixel, pngSize, xClientCount, type Rgb,
} from '../helpers/taps.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const W = 640;
const H = 480;
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];
const TONE_HZ = 660;
/** Where colours are read: away from the centre, where Xvfb's pointer (captured with the screen) sits. */
const SAMPLE_X = 40;
const SAMPLE_Y = 40;

/** NAL units of an Annex B access unit. */
function nals(annexB: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 3 <= annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      if (start >= 0) out.push(annexB.subarray(start, i - (annexB[i - 1] === 0 ? 1 : 0)));
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) out.push(annexB.subarray(start));
  return out;
}

async function pngColour(png: Buffer): Promise<Rgb> {
  const size = pngSize(png);
  const [frame] = await decodeFrames({ bytes: png, format: 'png_pipe' }, size);
  return pixel(frame!, size.width, SAMPLE_X, SAMPLE_Y);
}

describe('taps: screenshots, raw stream and recordings from the one capture', () => {
  let xvfb: XvfbServer;
  let pulse: IsolatedPulse;
  let tone: Tone;
  let server: DeskcastServer;
  let dir: string;
  let socketPath: string;

  const api = (route: string, init: { method?: string; token?: string | null } = {}): Promise<Response> => {
    const headers: Record<string, string> = {};
    const token = init.token === undefined ? server.adminToken : init.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    return insecureFetch(`https://127.0.0.1:${server.port}/api${route}`, { method: init.method, headers });
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dc-taps-'));
    socketPath = path.join(dir, 'capture.sock');
    xvfb = await startXvfb({ width: W, height: H });
    await xvfb.paint('red');
    pulse = await startIsolatedPulse({ sinks: ['presenter'] });
    server = await startDeskcast([
      '--display', xvfb.display, '--pulse-server', pulse.server, '--pulse-cookie', pulse.cookie,
      '--capture-socket', socketPath, '--bitrate', '20000', '--record-dir', path.join(dir, 'rec'), '--record-min-free', '1',
      // capture runs throughout (nobody watches): the X client count below stays comparable;
      // the capture paused for lack of viewers and resumed for a tap is the last test's
      '--always-on',
    ]);
  });

  afterAll(async () => {
    await server?.close();
    await tone?.stop();
    await pulse?.stop();
    await xvfb?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers SCREENSHOT and GET /api/screenshot with the painted colour, follows a change, and opens no second X connection', async () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const xClientsBefore = xClientCount(xvfb.displayNumber);
    expect(xClientsBefore).toBeGreaterThan(0);

    const first = await ask(socketPath, 'SCREENSHOT');
    expect(first.error).toBeUndefined();
    expect(pngSize(first.payload)).toEqual({ width: W, height: H });
    expect(near(await pngColour(first.payload), RED)).toBe(true);

    await xvfb.paint('blue');
    await sleep(150);
    const res = await api('/screenshot');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(near(await pngColour(Buffer.from(await res.arrayBuffer())), BLUE)).toBe(true);

    // the same X clients as before: the screenshots rode on the broadcast's capture
    expect(xClientCount(xvfb.displayNumber)).toBe(xClientsBefore);
  });

  it('STREAM sends access units from SPS/PPS + IDR on that decode to the painted colours', async () => {
    await xvfb.paint('green');
    // Capture is change-driven (a still screen sends nothing after the IDR): keep a corner ticking.
    const ticker = xvfb.animate();
    onTestFinished(() => ticker.stop());
    const tap = await openTap(socketPath);
    tap.socket.write('STREAM\n');
    const units: Buffer[] = [];
    const first = await tap.record();
    units.push(first.payload);
    expect(nals(first.payload).map(nalType).slice(0, 3)).toEqual([NalType.sps, NalType.pps, NalType.idr]);
    const started = Date.now();
    let painted = false;
    while (Date.now() - started < 2500) {
      units.push((await tap.record()).payload);
      if (!painted && Date.now() - started > 1000) {
        painted = true;
        await xvfb.paint('red');
      }
    }
    tap.socket.destroy();
    const frames = await decodeFrames({ bytes: Buffer.concat(units), format: 'h264' }, { width: W, height: H });
    expect(frames.length).toBeGreaterThan(5);
    const colours = frames.map((f) => pixel(f, W, SAMPLE_X, SAMPLE_Y));
    expect(near(colours[0]!, GREEN)).toBe(true);
    expect(near(colours.at(-1)!, RED)).toBe(true);
  });

  it('STATUS reports viewers, capture, size and the stream clients', async () => {
    const tap = await openTap(socketPath);
    tap.socket.write('STREAM\n');
    await tap.record();
    const status = JSON.parse((await ask(socketPath, 'STATUS')).payload.toString()) as Record<string, unknown>;
    tap.socket.destroy();
    expect(status).toMatchObject({
      viewers: 0,
      capture: { state: 'running', backend: 'x11', heldByTaps: true },
      width: W,
      height: H,
      fps: 30,
      streamClients: 1,
      recording: null,
      lastError: null,
    });
    expect(status['encoder']).toBeTypeOf('string');
    expect(status['frames']).toBeTypeOf('number');
  });

  it('answers bad commands with length 0 and a reason, and stays up', async () => {
    expect((await ask(socketPath, 'HELLO')).error).toMatch(/unknown command "HELLO"/);
    const tap = await openTap(socketPath);
    tap.socket.write('X'.repeat(200));
    expect((await tap.record()).error).toMatch(/command too long/);
    tap.socket.destroy();
    // several commands on one connection
    const multi = await openTap(socketPath);
    multi.socket.write('STATUS\nSTATUS\n');
    expect(JSON.parse((await multi.record()).payload.toString())).toHaveProperty('width', W);
    expect(JSON.parse((await multi.record()).payload.toString())).toHaveProperty('height', H);
    multi.socket.destroy();
  });

  it('a STREAM client that stops reading does not grow memory; when it reads again it resumes at a keyframe', async () => {
    // Busy content: a terminal printing noise, so the encoder produces megabytes.
    const noise = spawn('xterm', ['-geometry', '100x40+0+0', '-e', 'sh', '-c', 'base64 /dev/urandom'], { env: { ...process.env, DISPLAY: xvfb.display }, stdio: 'ignore' });
    const noiseExited = new Promise((resolve) => noise.once('exit', resolve));
    onTestFinished(async () => {
      noise.kill('SIGKILL'); // its window would hide the colours the next tests paint
      await noiseExited;
    });
    const slow = await openTap(socketPath);
    slow.socket.write('STREAM\n');
    await slow.record();
    slow.socket.pause();
    const fast = await openTap(socketPath);
    fast.socket.write('STREAM\n');
    let fastBytes = 0;
    fast.socket.on('data', (d: Buffer) => (fastBytes += d.length));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    for (let i = 0; i < 16; i++) {
      await sleep(500);
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    fast.socket.destroy();
    // (the bound itself, under a flood, is proven in test/integration/taps-socket.test.ts)
    expect(fastBytes).toBeGreaterThan(10_000);
    expect(rssMax - rssBefore).toBeLessThan(60 * 1024 * 1024);
    slow.socket.resume();
    // whole records all the way (never a record cut in half), then a keyframe after the skip
    let sawKeyframe = false;
    for (let i = 0; i < 400 && !sawKeyframe; i++) {
      const r = await slow.record(5000);
      sawKeyframe = nals(r.payload).some((n) => nalType(n) === NalType.idr);
    }
    expect(sawKeyframe).toBe(true);
    slow.socket.destroy();
  }, 60_000);

  it('HTTP API: admin token only, clear JSON errors, safe names', async () => {
    const none = await api('/recordings', { token: null });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/admin token/);
    const viewer = await api('/recordings', { token: server.token });
    expect(viewer.status).toBe(403);
    const query = await insecureFetch(`https://127.0.0.1:${server.port}/api/recordings?t=${server.adminToken}`);
    expect(query.status).toBe(200);
    expect((await api('/recordings/..%2F..%2Fetc%2Fpasswd')).status).toBe(400);
    expect((await api('/recordings/nothing-here.mkv')).status).toBe(404);
    expect((await api('/recordings/current', { method: 'DELETE' })).status).toBe(404);
    expect((await api('/nope')).status).toBe(404);
  });

  it('records H.264 + Opus as broadcast: the colours in order, the tone, the right duration', async () => {
    tone = playTone(pulse, { frequency: TONE_HZ, appName: 'taps-tone' });
    await xvfb.paint('black');
    await sleep(500);
    const started = await api('/recordings', { method: 'POST' });
    expect(started.status).toBe(201);
    const t0 = Date.now();
    const info = (await started.json()) as RecordingInfo;
    expect(info.name).toMatch(/^deskcast-.*\.mkv$/);
    expect((await api('/recordings', { method: 'POST' })).status).toBe(409);
    // every colour is a change made while recording (the file starts with the black before it)
    await xvfb.paint('red');
    await sleep(1000);
    await xvfb.paint('green');
    await sleep(1000);
    await xvfb.paint('blue');
    await sleep(1000);
    const listed = (await (await api('/recordings')).json()) as RecordingList;
    expect(listed.recording?.name).toBe(info.name);
    const stopped = await api('/recordings/current', { method: 'DELETE' });
    const elapsed = (Date.now() - t0) / 1000;
    expect(stopped.status).toBe(200);
    const [done] = ((await stopped.json()) as { recordings: RecordingInfo[] }).recordings;
    expect(done).toMatchObject({ name: info.name, complete: true, recording: false });
    expect(done!.durationSec).toBeCloseTo(elapsed, 0);

    const download = await api(`/recordings/${info.name}`);
    expect(download.status).toBe(200);
    const file = path.join(dir, 'downloaded.mkv');
    await import('node:fs/promises').then((fs) => download.arrayBuffer().then((b) => fs.writeFile(file, Buffer.from(b))));
    expect(statSync(file).size).toBe(done!.bytes);

    const probe = await ffprobe(file);
    expect(probe.format.format_name).toContain('matroska');
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['h264', 'opus']);
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: W, height: H });
    expect(Math.abs(Number(probe.format.duration) - elapsed)).toBeLessThan(0.5);
    await decodesCleanly(file);

    const frames = await decodeFrames({ path: file }, { width: W, height: H }, 10);
    const sequence: string[] = [];
    for (const f of frames) {
      const c = pixel(f, W, SAMPLE_X, SAMPLE_Y);
      const name = near(c, RED) ? 'red' : near(c, GREEN) ? 'green' : near(c, BLUE) ? 'blue' : 'other';
      if (sequence.at(-1) !== name) sequence.push(name);
    }
    expect(sequence.filter((n) => n !== 'other')).toEqual(['red', 'green', 'blue']);

    const audio = await decodeAudio(file);
    expect(audio.length / 48_000).toBeGreaterThan(elapsed - 0.5);
    // the tone throughout (most windows: a loaded machine may starve the tone's player briefly)
    const windows: number[] = [];
    for (let off = 0; off + 16_384 <= audio.length; off += 12_000) windows.push(dominantFrequency(audio.subarray(off, off + 16_384)).hz);
    expect(windows.filter((hz) => Math.abs(hz - TONE_HZ) < 16).length).toBeGreaterThanOrEqual(windows.length / 3);
  });

  it('kill -9 mid-recording leaves playable files; --record starts at launch; --record-segment rotates', async () => {
    const { spawnTsxChild } = await import('../helpers/tsxChild.js');
    const recDir = path.join(dir, 'killed');
    const rtcPort = 41_000 + 2 * Math.floor(Math.random() * 4000);
    const child = spawnTsxChild(`
      import { DeskcastServer } from './server/DeskcastServer.ts';
      import { parseSettings } from './server/settings/parseSettings.ts';
      import { setLogLevel } from './server/util/logger.ts';
      setLogLevel('warn');
      const settings = parseSettings(${JSON.stringify([
        '--port', '0', '--bind', '127.0.0.1', '--announced-address', '127.0.0.1', '--workers', '1', '--rtc-port', String(rtcPort),
        '--display', xvfb.display, '--pulse-server', pulse.server, '--pulse-cookie', pulse.cookie,
        '--record', '--record-dir', recDir, '--record-segment', '1', '--record-min-free', '1',
      ])}, {});
      await DeskcastServer.create({ settings, embeddedDemoContent: false });
      console.log('READY');
    `);
    try {
      await waitFor(() => child.stdout().includes('READY') || (child.child.exitCode !== null ? 'exited' : false), 120_000, `child deskcast (${child.stderr()})`);
      expect(child.stdout()).toContain('READY');
      await waitFor(async () => (await readdir(recDir).catch(() => [])).length >= 3, 15_000, 'three segments');
      await sleep(700); // into the next segment
    } finally {
      await child.crash();
    }
    const files = (await readdir(recDir)).filter((n) => n.endsWith('.mkv')).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const name of files) {
      const file = path.join(recDir, name);
      const probe = await ffprobe(file);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['h264', 'opus']);
      await decodesCleanly(file);
      expect((await decodeFrames({ path: file }, { width: W, height: H })).length).toBeGreaterThan(0);
    }
    // the finished segments are about a second each
    const firstDuration = Number((await ffprobe(path.join(recDir, files[0]!))).format.duration);
    expect(firstDuration).toBeGreaterThan(0.8);
    expect(firstDuration).toBeLessThan(2.5);
  }, 200_000);
});

describe('taps while nobody watches', () => {
  let xvfb: XvfbServer;
  let server: DeskcastServer;
  let dir: string;
  let socketPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dc-taps-idle-'));
    socketPath = path.join(dir, 'capture.sock');
    xvfb = await startXvfb({ width: W, height: H });
    await xvfb.paint('red');
    server = await startDeskcast(['--display', xvfb.display, '--no-audio', '--capture-socket', socketPath, '--idle-grace', '1']);
  });

  afterAll(async () => {
    await server?.close();
    await xvfb?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a capture paused for lack of viewers runs for a screenshot and a stream, and pauses again after them', async () => {
    const status = async (): Promise<{ capture: { state: string; heldByTaps: boolean } }> =>
      JSON.parse((await ask(socketPath, 'STATUS')).payload.toString()) as { capture: { state: string; heldByTaps: boolean } };
    await waitFor(async () => (await status()).capture.state === 'idle', 10_000, 'the capture paused');

    await xvfb.paint('green');
    const shot = await ask(socketPath, 'SCREENSHOT');
    expect(shot.error).toBeUndefined();
    expect(near(await pngColour(shot.payload), GREEN)).toBe(true);

    const tap = await openTap(socketPath);
    tap.socket.write('STREAM\n');
    const first = await tap.record();
    expect(nals(first.payload).map(nalType).slice(0, 3)).toEqual([NalType.sps, NalType.pps, NalType.idr]);
    expect((await status()).capture).toMatchObject({ state: 'running', heldByTaps: true });
    tap.socket.destroy();
    await waitFor(async () => (await status()).capture.state === 'idle', 10_000, 'the capture paused again after the tap');
    expect((await status()).capture.heldByTaps).toBe(false);
  });
});
