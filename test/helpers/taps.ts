// Test-side clients for the taps: the capture-bridge socket, ffmpeg/ffprobe decoding, X client counts.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Reads length-prefixed records (4-byte big-endian length + payload) from a socket. */
export class RecordReader {
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  #ended = false;
  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async #need(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buf.length < n) {
      if (this.#ended) throw new Error(`socket closed after ${this.#buf.length} of ${n} bytes: ${this.#buf.toString('latin1').slice(0, 200)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} bytes (have ${this.#buf.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** One record; a zero length is followed by a reason line, returned as `error`. */
  async record(timeoutMs = 10_000): Promise<{ payload: Buffer; error?: string }> {
    await this.#need(4, timeoutMs);
    const len = this.#buf.readUInt32BE(0);
    if (len === 0) {
      const deadline = Date.now() + timeoutMs;
      while (!this.#buf.includes(0x0a, 4)) await this.#need(this.#buf.length + 1, deadline - Date.now());
      const nl = this.#buf.indexOf(0x0a, 4);
      const error = this.#buf.subarray(4, nl).toString();
      this.#buf = this.#buf.subarray(nl + 1);
      return { payload: Buffer.alloc(0), error };
    }
    await this.#need(4 + len, timeoutMs);
    const payload = Buffer.from(this.#buf.subarray(4, 4 + len));
    this.#buf = this.#buf.subarray(4 + len);
    return { payload };
  }
}

export async function openTap(path: string): Promise<RecordReader> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return new RecordReader(socket);
}

/** Sends one command and reads its one answer. */
export async function ask(path: string, command: string): Promise<{ payload: Buffer; error?: string }> {
  const r = await openTap(path);
  try {
    r.socket.write(`${command}\n`);
    return await r.record();
  } finally {
    r.socket.destroy();
  }
}

function run(cmd: string, args: string[], input?: Buffer, maxBuffer = 512 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= maxBuffer) out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-1500)}`))));
    child.stdin.end(input);
  });
}

export type Rgb = [number, number, number];

/** Decodes video (a file path, or bytes of `format` on stdin) into RGB frames, optionally resampled to `fps`. */
export async function decodeFrames(
  source: { path: string } | { bytes: Buffer; format: 'h264' | 'png_pipe' },
  size: { width: number; height: number },
  fps?: number,
): Promise<Buffer[]> {
  const input = 'path' in source ? ['-i', source.path] : ['-f', source.format, '-i', 'pipe:0'];
  const filter = fps ? ['-vf', `fps=${fps}`] : [];
  const raw = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...input, '-map', '0:v:0', ...filter, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], 'bytes' in source ? source.bytes : undefined);
  const frameBytes = size.width * size.height * 3;
  const frames: Buffer[] = [];
  for (let off = 0; off + frameBytes <= raw.length; off += frameBytes) frames.push(raw.subarray(off, off + frameBytes));
  return frames;
}

/** The pixel at (x, y) of an RGB frame. */
export function pixel(frame: Buffer, width: number, x: number, y: number): Rgb {
  const o = (y * width + x) * 3;
  return [frame[o]!, frame[o + 1]!, frame[o + 2]!];
}

/** Whether two colours are within `tolerance` per channel (H.264 4:2:0 + quantisation). */
export function near(a: Rgb, b: Rgb, tolerance = 16): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
}

/** Width and height from a PNG's IHDR. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  channels?: number;
  sample_rate?: string;
}

export async function ffprobe(path: string): Promise<{ streams: ProbedStream[]; format: { duration?: string; format_name: string } }> {
  const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', path]);
  return JSON.parse(stdout) as { streams: ProbedStream[]; format: { duration?: string; format_name: string } };
}

/** Decodes the whole file (video and audio) and fails on any decode error. */
export async function decodesCleanly(path: string): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-v', 'error', '-xerror', '-i', path, '-f', 'null', '-']);
}

/** The audio of a file as mono S16 48 kHz samples. */
export async function decodeAudio(path: string): Promise<Float64Array> {
  // libopus, the reference decoder browsers use: ffmpeg's built-in Opus decoder turns this
  // encoder's hybrid (SILK + CELT) packets into near-silence once the stream began with a few
  // seconds of silence (-54 dB for a -13 dB tone; libopus decodes the same file right).
  const raw = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-c:a', 'libopus', '-i', path, '-map', '0:a:0', '-ac', '1', '-ar', '48000', '-f', 's16le', 'pipe:1']);
  const out = new Float64Array(raw.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = raw.readInt16LE(i * 2) / 32768;
  return out;
}

/**
 * Client connections the X server holds right now: its accepted sockets on the display's
 * Unix socket (filesystem or abstract), read from /proc/net/unix (state 03 = connected).
 */
export function xClientCount(displayNumber: number): number {
  const path = `/tmp/.X11-unix/X${displayNumber}`;
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return f[5] === '03' && (f[7] === path || f[7] === `@${path}`);
    }).length;
}
