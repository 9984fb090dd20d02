// Test helpers for real PulseAudio: an isolated daemon per test (own runtime dir, socket and
// cookie: never the user's server, never a parallel test's), tones played as named apps,
// recording from a source, and tone analysis (Goertzel).
//
// Independent of server/audio on purpose: the tests check that code against these.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
export const BYTES_PER_FRAME = 4;

export interface PulseConnectionInfo {
  server: string;
  cookie: string;
}

export interface IsolatedPulse extends PulseConnectionInfo {
  runtimeDir: string;
  /** Sinks created at start; the first is the default. */
  sinks: string[];
  /** PULSE_SERVER/PULSE_COOKIE (+ LC_ALL=C) for client tools. */
  env: NodeJS.ProcessEnv;
  pid(): number | null;
  /** Kills the daemon (default SIGKILL: a crash) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the daemon again on the same socket with the same sinks. */
  restart(): Promise<void>;
  /** Runs pactl against this server. */
  pactl(...args: string[]): Promise<string>;
  /** Stops the daemon and removes the runtime dir. */
  stop(): Promise<void>;
}

export async function startIsolatedPulse(options: { sinks?: string[] } = {}): Promise<IsolatedPulse> {
  const sinks = options.sinks ?? ['presenter'];
  const runtimeDir = await mkdtemp(path.join(tmpdir(), 'dc-pa-test-'));
  const socket = path.join(runtimeDir, 'native');
  const cookie = path.join(runtimeDir, 'cookie');
  const server = `unix:${socket}`;
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', PULSE_SERVER: server, PULSE_COOKIE: cookie };
  let daemon: ChildProcess | null = null;
  let log = '';

  const pactl = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('pactl', args, { env, timeout: 10_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`pactl ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
      );
    });

  const start = async (): Promise<void> => {
    const args = [
      '--pdeathsig', 'TERM', '--',
      'pulseaudio', '--daemonize=no', '--exit-idle-time=-1', '--disallow-exit', '-n', '--log-target=stderr',
      ...sinks.map((s) => `--load=module-null-sink sink_name=${s} rate=48000 channels=2`),
      `--load=module-native-protocol-unix socket=${socket} cookie=${cookie}`,
    ];
    const child = spawn('setpriv', args, {
      env: { ...process.env, LC_ALL: 'C', PULSE_RUNTIME_PATH: runtimeDir, PULSE_STATE_PATH: path.join(runtimeDir, 'state') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    daemon = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`test pulseaudio exited: ${log}`);
      try {
        await pactl('info');
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`test pulseaudio did not start: ${(err as Error).message}; log: ${log}`);
        await sleep(50);
      }
    }
    await pactl('set-default-sink', sinks[0] ?? 'presenter');
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const d = daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => d.once('exit', () => resolve()));
    d.kill(signal);
    await gone;
  };

  await start();
  return {
    server,
    cookie,
    runtimeDir,
    sinks,
    env,
    pid: () => (daemon && daemon.exitCode === null && daemon.signalCode === null ? daemon.pid ?? null : null),
    kill,
    restart: start,
    pactl,
    stop: async () => {
      await kill('SIGTERM');
      await rm(runtimeDir, { recursive: true, force: true });
    },
  };
}

export interface Tone {
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Plays an endless sine of `frequency` Hz as application `appName` (pacat, stdin fed from node
 * with backpressure). `device` defaults to the server's default sink.
 */
export function playTone(
  pulse: { env: NodeJS.ProcessEnv },
  options: { frequency: number; appName: string; device?: string; amplitude?: number },
): Tone {
  const amplitude = options.amplitude ?? 0.3;
  const second = Buffer.alloc(SAMPLE_RATE * BYTES_PER_FRAME);
  for (let i = 0; i < SAMPLE_RATE; i++) {
    const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * options.frequency * i) / SAMPLE_RATE));
    second.writeInt16LE(v, i * 4);
    second.writeInt16LE(v, i * 4 + 2);
  }
  const args = [
    '--playback', '--raw', '--format=s16le', `--rate=${SAMPLE_RATE}`, `--channels=${CHANNELS}`, '--latency-msec=100',
    `--client-name=${options.appName}`, `--property=application.name=${options.appName}`, `--stream-name=tone ${options.frequency} Hz`,
  ];
  if (options.device) args.push(`--device=${options.device}`);
  const child = spawn('pacat', args, { env: pulse.env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stopped = false;
  const source = Readable.from(
    (function* () {
      while (!stopped) yield second;
    })(),
  );
  source.pipe(child.stdin!).on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    stop: async () => {
      stopped = true;
      source.unpipe();
      source.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Records `ms` of S16LE 48 kHz stereo from `device` with parec. */
export function recordPcm(pulse: { env: NodeJS.ProcessEnv }, device: string, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'parec',
      ['--raw', '--format=s16le', `--rate=${SAMPLE_RATE}`, `--channels=${CHANNELS}`, '--latency-msec=20', `--device=${device}`],
      { env: pulse.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => chunks.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), ms);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGTERM' || code === 0) resolve(Buffer.concat(chunks));
      else reject(new Error(`parec --device=${device} failed (code ${code}): ${stderr.trim()}`));
    });
  });
}

/** Left+right mixed to mono floats in [-1, 1]. */
export function toMono(pcm: Buffer): Float64Array {
  const frames = Math.floor(pcm.length / BYTES_PER_FRAME);
  const out = new Float64Array(frames);
  for (let i = 0; i < frames; i++) out[i] = (pcm.readInt16LE(i * 4) + pcm.readInt16LE(i * 4 + 2)) / 2 / 32768;
  return out;
}

export function rms(pcm: Buffer): number {
  const n = Math.floor(pcm.length / 2);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = pcm.readInt16LE(i * 2) / 32768;
    sum += x * x;
  }
  return Math.sqrt(sum / n);
}

/** Drops leading frames until the first sample above `threshold` (a new record stream starts silent). */
export function trimLeadingSilence(pcm: Buffer, threshold = 0.01): Buffer {
  const limit = threshold * 32768;
  for (let i = 0; i + 4 <= pcm.length; i += 4) {
    if (Math.abs(pcm.readInt16LE(i)) > limit || Math.abs(pcm.readInt16LE(i + 2)) > limit) return pcm.subarray(i);
  }
  return pcm.subarray(pcm.length);
}

/** Amplitude (0..1) of the `hz` component of mono `x` (Goertzel, Hann window). */
export function toneLevel(x: Float64Array, hz: number): number {
  const n = x.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * hz) / SAMPLE_RATE;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const win = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1));
    windowSum += win;
    const s0 = (x[i] ?? 0) * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / windowSum;
}

/** Strongest frequency between minHz and maxHz (coarse 10 Hz scan, then 1 Hz refinement). */
export function dominantFrequency(x: Float64Array, minHz = 50, maxHz = 4000): { hz: number; level: number } {
  const window = x.length > SAMPLE_RATE / 2 ? x.subarray(0, SAMPLE_RATE / 2) : x;
  let best = { hz: 0, level: 0 };
  for (let hz = minHz; hz <= maxHz; hz += 10) {
    const level = toneLevel(window, hz);
    if (level > best.level) best = { hz, level };
  }
  const coarse = best.hz;
  for (let hz = coarse - 10; hz <= coarse + 10; hz += 1) {
    const level = toneLevel(window, hz);
    if (level > best.level) best = { hz, level };
  }
  return best;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs: number, what: string, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(intervalMs);
  }
}
