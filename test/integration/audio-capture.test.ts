// native/audio PulseCapture + OpusAudioEncoder against a real PulseAudio (isolated daemon):
// builds native/src/audio/pulse_opus_check.cc with g++ and pkg-config, plays a 440 Hz tone into a
// null sink, and checks what the capture hears; then kills the sound server mid-capture and
// restarts it: the capture must report disconnected, then connected, and hear the tone again.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dominantFrequency, playTone, startIsolatedPulse, toMono, toneLevel, waitFor, type IsolatedPulse, type Tone } from '../helpers/pulse.js';

const run = promisify(execFile);
const NATIVE_SRC = path.resolve(import.meta.dirname, '../../native/src');
const NATIVE_AUDIO = path.join(NATIVE_SRC, 'audio');
const CHUNK_BYTES = 960 * 4;

interface CheckEvent {
  event: 'state' | 'progress' | 'summary';
  [key: string]: unknown;
}

interface Summary {
  chunks: number;
  rms: number;
  peak: number;
  packets: number;
  encodedBytes: number;
  encodeErrors: number;
  decodedRms: number;
  modes: { silk: number; hybrid: number; celt: number };
  connects: number;
  disconnects: number;
  reconnects: number;
  discontinuities: number;
  sequenceErrors: number;
  avgAgeUs: number;
  countedChunks: number;
  callbackAllocs: number;
  captureThreadAllocs: number;
}

/** Runs the check program; collects its NDJSON events as they come. */
function startCheck(binary: string, args: string[], env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: CheckEvent[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.trim()) events.push(JSON.parse(line) as CheckEvent);
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    events,
    stderr: () => stderr,
    states: () => events.filter((e) => e.event === 'state'),
    /** Waits for the program to end (after --seconds, or at once with `stop`: SIGTERM) and returns its summary. */
    async finish(stop = false): Promise<Summary> {
      if (stop && child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      const summary = events.find((e) => e.event === 'summary');
      if (code !== 0 || !summary) throw new Error(`pulse_opus_check failed (code ${code}): ${stderr}`);
      return summary as unknown as Summary;
    },
  };
}

function segment(pcm: Buffer, fromChunk: number, toChunk?: number): Float64Array {
  return toMono(pcm.subarray(fromChunk * CHUNK_BYTES, toChunk === undefined ? undefined : toChunk * CHUNK_BYTES));
}

/** Mono samples from the first non-silent frame on, at most one second. */
function firstSecondOfSound(x: Float64Array): Float64Array {
  const start = x.findIndex((v) => Math.abs(v) > 0.01);
  return start < 0 ? new Float64Array(0) : x.subarray(start, start + 48_000);
}

describe('native PulseCapture + OpusAudioEncoder with a real PulseAudio', () => {
  let workDir: string;
  let binary: string;
  let pulse: IsolatedPulse;
  let tone: Tone | null = null;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'dc-audio-check-'));
    binary = path.join(workDir, 'pulse_opus_check');
    const flags = (await run('pkg-config', ['--cflags', '--libs', 'libpulse', 'opus'])).stdout.trim().split(/\s+/);
    // -fno-exceptions: the classes must also build in a node-gyp addon that disables exceptions
    await run('g++', [
      '-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', '-fno-exceptions', `-I${NATIVE_SRC}`,
      path.join(NATIVE_AUDIO, 'pulse_opus_check.cc'), path.join(NATIVE_AUDIO, 'pulse_capture.cc'), path.join(NATIVE_AUDIO, 'opus_encoder.cc'),
      ...flags, '-o', binary,
    ]);
    pulse = await startIsolatedPulse({ sinks: ['deskcast_test'] });
  }, 120_000);

  afterAll(async () => {
    await tone?.stop();
    await pulse?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('captures the default sink monitor: the 440 Hz tone, in 20 ms chunks, Opus-encoded, without allocating per chunk', async () => {
    tone = playTone(pulse, { frequency: 440, appName: 'ToneA', amplitude: 0.3 });
    const pcmFile = path.join(workDir, 'steady.s16le');
    const decodedFile = path.join(workDir, 'steady-decoded.s16le');
    // no --source: the default sink's monitor, resolved through the server; the server and cookie
    // given as options (PulseCaptureOptions.server/cookieFile), not through the environment
    const env = { ...pulse.env };
    delete env['PULSE_SERVER'];
    delete env['PULSE_COOKIE'];
    const check = startCheck(
      binary,
      ['--seconds', '4', '--server', pulse.server, '--cookie', pulse.cookie, '--pcm', pcmFile, '--decoded-pcm', decodedFile],
      env,
    );
    const summary = await check.finish();
    await tone.stop();
    tone = null;

    const states = check.states();
    expect(states.map((s) => s['state'])).toEqual(['connecting', 'connected']);
    expect(states[1]?.['source']).toBe('deskcast_test.monitor');
    expect(states[1]?.['server']).toBe(pulse.server);

    expect(summary.chunks).toBeGreaterThan(100); // > 2 s of the 4 (a new record stream starts late)
    expect(summary.sequenceErrors).toBe(0);
    expect(summary.rms).toBeGreaterThan(0.1); // a 0.3 sine has RMS 0.21; silence is 0
    const pcm = await readFile(pcmFile);
    expect(pcm.length).toBe(summary.chunks * CHUNK_BYTES);
    const sound = firstSecondOfSound(toMono(pcm));
    expect(sound.length).toBe(48_000);
    const dominant = dominantFrequency(sound);
    expect(dominant.hz).toBeGreaterThanOrEqual(438);
    expect(dominant.hz).toBeLessThanOrEqual(442);
    expect(dominant.level).toBeGreaterThan(0.25);
    // A clean sine: nearly all the power is the tone's (dropped, repeated or misordered samples
    // would add clicks and spread power elsewhere).
    const power = sound.reduce((sum, v) => sum + v * v, 0) / sound.length;
    const tonePower = toneLevel(sound, 440) ** 2 / 2;
    expect(tonePower / power).toBeGreaterThan(0.97);

    // Opus: one packet per chunk, sane size for 128 kb/s, and it decodes back to the tone.
    expect(summary.packets).toBe(summary.chunks);
    expect(summary.encodeErrors).toBe(0);
    expect(summary.encodedBytes / summary.packets).toBeGreaterThan(50);
    expect(summary.encodedBytes / summary.packets).toBeLessThanOrEqual(128_000 / 8 / 50 * 1.5);
    expect(summary.decodedRms / summary.rms).toBeGreaterThan(0.8);
    expect(summary.decodedRms / summary.rms).toBeLessThan(1.2);
    const decoded = firstSecondOfSound(toMono(await readFile(decodedFile)));
    expect(toneLevel(decoded, 440)).toBeGreaterThan(0.25);
    // FEC at 10 % expected loss keeps libopus in hybrid mode (CELT-only frames carry no FEC)
    expect(summary.modes.hybrid + summary.modes.silk).toBe(summary.packets);

    // No allocation per chunk: none in the callback (encoder included), and on the whole capture
    // thread far fewer than one per chunk (libpulse's periodic timing updates).
    expect(summary.countedChunks).toBeGreaterThan(50);
    expect(summary.callbackAllocs).toBe(0);
    expect(summary.captureThreadAllocs).toBeLessThan(summary.countedChunks / 5);
  }, 60_000);

  it('puts in-band FEC into every packet: a lost frame comes back from the next packet', async () => {
    const fec = JSON.parse((await run(binary, ['--fec-self-test'])).stdout) as Record<string, number>;
    expect(fec['toc']).toBeGreaterThanOrEqual(12); // hybrid: the only fullband mode that carries FEC
    expect(fec['toc']).toBeLessThanOrEqual(15);
    expect(fec['decodeFailures']).toBe(0);
    expect(fec['fecSamples']).toBe(960);
    // the frame where the tone changes 440 -> 660 Hz: concealment guesses wrong, FEC knows it
    expect(fec['plcErrorRatio']).toBeGreaterThan(0.5);
    expect(fec['fecErrorRatio']).toBeLessThan(0.05);
    // control: without the loss estimate libopus sends CELT-only frames and there is nothing to recover
    const none = JSON.parse((await run(binary, ['--fec-self-test', '--loss-percent', '0'])).stdout) as Record<string, number>;
    expect(none['toc']).toBeGreaterThanOrEqual(16);
    expect(none['fecErrorRatio']).toBeCloseTo(none['plcErrorRatio'] ?? -1, 3);
  });

  it('reports a missing source with what to do, and keeps retrying', async () => {
    const check = startCheck(binary, ['--seconds', '2.5', '--source', 'no_such_sink.monitor', '--retry-ms', '500'], pulse.env);
    const summary = await check.finish();
    const states = check.states();
    expect(states.map((s) => s['state'])).toEqual(['connecting', 'disconnected']);
    expect(states[1]?.['reason']).toMatch(/audio source 'no_such_sink\.monitor' does not exist.*pactl list short sources.*--audio-source.*retrying every 500 ms/);
    expect(Number(states[1]?.['attempt'])).toBeGreaterThanOrEqual(1);
    expect(summary.chunks).toBe(0);
  }, 30_000);

  it('survives the sound server dying: reports disconnected, reconnects by itself, hears the tone again', async () => {
    tone = playTone(pulse, { frequency: 440, appName: 'ToneA' });
    const pcmFile = path.join(workDir, 'reconnect.s16le');
    const check = startCheck(binary, ['--seconds', '30', '--source', 'deskcast_test.monitor', '--pcm', pcmFile], pulse.env);
    const progressAfter = (t: number) => check.events.find((e) => e.event === 'progress' && Number(e['tMs']) > t && Number(e['rms']) > 0.1);

    await waitFor(() => progressAfter(0), 10_000, 'the tone to be captured before the crash');
    const chunksBeforeCrash = check.events.filter((e) => e.event === 'progress').length * 50;
    await pulse.kill('SIGKILL'); // crash
    await tone.stop();
    const lost = await waitFor(() => check.states().find((s) => s['state'] === 'disconnected'), 5000, 'disconnected');
    expect(lost['reason']).toMatch(/lost the connection to the sound server.*Connection terminated.*reconnects by itself/);

    await new Promise((r) => setTimeout(r, 2500)); // down for a while: several failed retries
    const whileDown = check.states().filter((s) => s['state'] === 'disconnected');
    expect(whileDown.at(-1)?.['reason']).toMatch(/cannot connect to the sound server.*Start PulseAudio or pipewire-pulse/);

    await pulse.restart();
    tone = playTone(pulse, { frequency: 440, appName: 'ToneA' });
    const back = await waitFor(
      () => check.states().find((s, i, all) => s['state'] === 'connected' && all.slice(0, i).some((p) => p['state'] === 'disconnected')),
      5000,
      'connected again',
    );
    const backAtChunk = Number(back['chunks']);
    const backAtMs = Number(back['tMs']);
    await waitFor(() => progressAfter(backAtMs + 1000), 10_000, 'the tone to be captured after the restart');
    const summary = await check.finish(true);

    expect(check.states().map((s) => s['state'])).toEqual(['connecting', 'connected', 'disconnected', 'disconnected', 'connected']);
    expect(summary.reconnects).toBe(1);
    expect(summary.discontinuities).toBe(2); // first chunk, first chunk after the reconnect
    expect(summary.sequenceErrors).toBe(0);

    const pcm = await readFile(pcmFile);
    const before = firstSecondOfSound(segment(pcm, 0, chunksBeforeCrash));
    const after = firstSecondOfSound(segment(pcm, backAtChunk));
    for (const part of [before, after]) {
      expect(part.length).toBeGreaterThan(24_000);
      const d = dominantFrequency(part);
      expect(d.hz).toBeGreaterThanOrEqual(438);
      expect(d.hz).toBeLessThanOrEqual(442);
      expect(d.level).toBeGreaterThan(0.2);
    }
  }, 90_000);
});
