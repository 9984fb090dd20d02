import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordingInfo } from '../../shared/protocol.js';
import { createLogger } from '../util/logger.js';
import type { VideoStatus } from '../video/VideoBridge.js';
import { TapError } from './errors.js';
import {
  AUDIO_TRACK, VIDEO_TRACK, avcSample, cluster, durationElement, matroskaHeader, readDuration, segmentSize,
  type Block, type MatroskaHeaderLayout,
} from './matroska.js';
import type { MediaTap, TapAccessUnit, TapAudioPacket } from './MediaTap.js';

const log = createLogger('recording');

export interface RecorderOptions {
  dir: string;
  /** Seconds per file; 0: one file per recording. */
  segmentSec: number;
  /** Stop (cleanly) when the recording folder's file system has less than this free (MB). */
  minFreeMb: number;
  tap: MediaTap;
  captureStatus: () => VideoStatus;
  audioChannels?: number;
}

/**
 * A cluster is written (and safe from a crash) with every video frame (the audio before it goes
 * along), and at least this often when no frame comes: a kill -9 loses at most this much.
 */
const CLUSTER_MAX_MS = 200;
const FIRST_KEYFRAME_TIMEOUT_MS = 10_000;
const DISK_CHECK_MS = 2000;
const ROTATION_CHECK_MS = 250;
/** Written but not yet on disk beyond this: the disk cannot keep up, stop rather than fill memory. */
const MAX_UNWRITTEN_BYTES = 32 * 1024 * 1024;
const AUDIO_FRAME_MS = 20;

/** File names the API serves: no folders, no hidden files, only recordings. */
export const RECORDING_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.mkv$/;

interface OpenFile {
  name: string;
  path: string;
  stream: WriteStream;
  layout: MatroskaHeaderLayout;
  /** Timeline ms of the file's first keyframe (its time 0). */
  t0: number;
  /** End of the last block written (ms on the file's timeline). */
  end: number;
  lastAudio: number;
  bytes: number;
  blocks: Block[];
  startedAt: Date;
  sps: Buffer;
}

interface Session {
  releaseTap: () => void;
  file: OpenFile | undefined;
  files: string[];
  rotatePending: boolean;
  onAu: (au: TapAccessUnit) => void;
  onAudio: (p: TapAudioPacket) => void;
  diskTimer: NodeJS.Timeout;
  rotationTimer: NodeJS.Timeout;
  startedAt: Date;
  /** Resolves once the first file is open (its first keyframe arrived). */
  firstFile: { resolve: () => void; reject: (err: Error) => void };
}

/**
 * Records the broadcast as sent (the encoder's H.264 and Opus, no re-encode) into Matroska files
 * in `dir`: a cluster is written with every video frame, so a file cut short by a crash plays
 * up to its last frame. Block times come from the RTP timestamps (the media clock),
 * anchored on one timeline, so audio and video stay in sync. With `segmentSec` the recording
 * rotates into a new file at the first keyframe after each segment (it asks for one). A disk
 * guard stops the recording cleanly before the disk fills.
 */
export class Recorder {
  readonly #o: RecorderOptions;
  #session: Session | undefined;
  #stopping: Promise<RecordingInfo[]> | undefined;
  /** Closing files (patching size and duration) still in progress. */
  #finishing = new Set<Promise<void>>();
  #lastError = '';

  constructor(options: RecorderOptions) {
    this.#o = options;
  }

  get dir(): string {
    return this.#o.dir;
  }

  get recording(): boolean {
    return this.#session !== undefined;
  }

  get lastError(): string {
    return this.#lastError;
  }

  /** The file being written now, with its size and duration so far. */
  current(): RecordingInfo | undefined {
    const f = this.#session?.file;
    return f ? { name: f.name, bytes: f.bytes, durationSec: f.end / 1000, recording: true, complete: false, modifiedAt: new Date().toISOString() } : undefined;
  }

  /** Starts recording; resolves with the first file once its first keyframe is written. */
  async start(): Promise<RecordingInfo> {
    if (this.#session || this.#stopping) throw new TapError('a recording is already running; stop it first (DELETE /api/recordings/current)', 409);
    const st = this.#o.captureStatus();
    // idle: nobody watches; the tap resumes the capture for the recording
    if (st.state !== 'running' && st.state !== 'idle') throw new TapError(`cannot record: capture is ${st.state}${st.error ? ` (${st.error})` : ''}`);
    try {
      await mkdir(this.#o.dir, { recursive: true });
    } catch (err) {
      throw new TapError(`cannot create the recording folder ${this.#o.dir}: ${(err as Error).message}; set --record-dir`, 500);
    }
    const free = await freeMb(this.#o.dir);
    if (free < this.#o.minFreeMb) {
      throw new TapError(`cannot record: only ${free} MB free in ${this.#o.dir} (--record-min-free is ${this.#o.minFreeMb} MB); free some space or set --record-dir`, 507);
    }
    const tap = this.#o.tap;
    let firstFile!: Session['firstFile'] & { promise: Promise<void> };
    const promise = new Promise<void>((resolve, reject) => (firstFile = { resolve, reject, promise: undefined as never }));
    firstFile.promise = promise;
    const session: Session = {
      releaseTap: tap.acquire(),
      file: undefined,
      files: [],
      rotatePending: false,
      onAu: (au) => this.#onAccessUnit(session, au),
      onAudio: (p) => this.#onAudio(session, p),
      diskTimer: setInterval(() => void this.#checkDisk(session), DISK_CHECK_MS),
      rotationTimer: setInterval(() => {
        if (session.file) this.#checkRotation(session, performance.now() - session.file.t0);
        if (session.rotatePending) this.#o.tap.requestKeyframe(); // lost or not yet answered: ask again
      }, ROTATION_CHECK_MS),
      startedAt: new Date(),
      firstFile,
    };
    this.#session = session;
    tap.on('accessUnit', session.onAu);
    tap.on('audio', session.onAudio);
    tap.requestKeyframe();
    const retry = setInterval(() => tap.requestKeyframe(), 500);
    const timeout = setTimeout(() => firstFile.reject(new TapError(`no picture from the capture within ${FIRST_KEYFRAME_TIMEOUT_MS / 1000} s; see /healthz`)), FIRST_KEYFRAME_TIMEOUT_MS);
    try {
      await firstFile.promise;
    } catch (err) {
      if (this.#session === session) await this.stop();
      throw err;
    } finally {
      clearInterval(retry);
      clearTimeout(timeout);
    }
    return this.current() ?? { name: session.files[0] ?? '', bytes: 0, durationSec: 0, recording: false, complete: false, modifiedAt: new Date().toISOString() };
  }

  /** Stops the recording; resolves with its files once they are complete on disk. */
  stop(reason = 'stopped'): Promise<RecordingInfo[]> {
    if (this.#stopping) return this.#stopping;
    const session = this.#session;
    if (!session) return Promise.reject(new TapError('no recording is running', 404));
    this.#stopping = (async () => {
      this.#session = undefined;
      clearInterval(session.diskTimer);
      clearInterval(session.rotationTimer);
      this.#o.tap.off('accessUnit', session.onAu);
      this.#o.tap.off('audio', session.onAudio);
      session.releaseTap();
      session.firstFile.reject(new TapError(`the recording was ${reason} before its first picture`));
      // A still screen sends no frames: the recording lasts until now, not until the last one.
      if (session.file) this.#finish(session.file, performance.now() - session.file.t0);
      session.file = undefined;
      await Promise.all(this.#finishing);
      log.info(`recording ${reason}: ${session.files.join(', ') || 'no file'}`);
      const all = await this.list();
      return all.filter((r) => session.files.includes(r.name));
    })().finally(() => (this.#stopping = undefined));
    return this.#stopping;
  }

  /** Every recording in the folder (oldest first), with sizes and durations. */
  async list(): Promise<RecordingInfo[]> {
    let names: string[];
    try {
      names = (await readdir(this.#o.dir)).filter((n) => RECORDING_NAME.test(n)).sort();
    } catch {
      return [];
    }
    const current = this.current();
    const out: RecordingInfo[] = [];
    for (const name of names) {
      if (current && name === current.name) {
        out.push(current);
        continue;
      }
      try {
        const s = await stat(join(this.#o.dir, name));
        if (!s.isFile()) continue;
        const durationSec = await fileDuration(join(this.#o.dir, name));
        out.push({ name, bytes: s.size, durationSec: durationSec ?? null, recording: false, complete: durationSec !== undefined, modifiedAt: s.mtime.toISOString() });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  /** The path of a finished recording, or a TapError (404 or 400) for a bad or unknown name. */
  async pathOf(name: string): Promise<string> {
    if (!RECORDING_NAME.test(name)) throw new TapError('not a recording name (expected NAME.mkv from GET /api/recordings)', 400);
    const path = join(this.#o.dir, name);
    try {
      if (!(await stat(path)).isFile()) throw new Error('not a file');
    } catch {
      throw new TapError(`no recording named ${name}`, 404);
    }
    return path;
  }

  async close(): Promise<void> {
    if (this.#session) await this.stop('stopped (deskcast is shutting down)');
    await Promise.all(this.#finishing);
  }

  #onAccessUnit(session: Session, au: TapAccessUnit): void {
    if (this.#session !== session) return;
    const sps = au.keyframe ? au.nals.find((n) => (n[0]! & 0x1f) === 7) : undefined;
    // a new file at a rotation, and when the stream's parameters change (new size or encoder)
    if (!session.file || (sps && (session.rotatePending || !sps.equals(session.file.sps)))) {
      const pps = au.nals.find((n) => (n[0]! & 0x1f) === 8);
      if (!sps || !pps) return;
      if (session.file) this.#finish(session.file, au.ms - session.file.t0);
      session.rotatePending = false;
      try {
        session.file = this.#openFile(au, sps, pps);
      } catch (err) {
        this.#fail(session, `cannot write in ${this.#o.dir}: ${(err as Error).message}`);
        return;
      }
      session.files.push(session.file.name);
      session.firstFile.resolve();
    }
    const f = session.file;
    const time = au.ms - f.t0;
    const nals = au.nals.filter((n) => (n[0]! & 0x1f) !== 9); // access unit delimiters are not stored in AVC samples
    this.#add(f, { track: VIDEO_TRACK, time, keyframe: au.keyframe, data: avcSample(nals) });
    f.end = Math.max(f.end, time + 1000 / Math.max(1, this.#o.captureStatus().fps));
    this.#checkRotation(session, time);
    if (f.stream.writableLength > MAX_UNWRITTEN_BYTES) this.#fail(session, `the disk under ${this.#o.dir} cannot keep up`);
  }

  /**
   * Asks for the keyframe the next file starts on once the segment is long enough. Also run on
   * a timer: a still screen sends no frames, yet its segments must end on time.
   */
  #checkRotation(session: Session, fileTimeMs: number): void {
    const segmentMs = this.#o.segmentSec * 1000;
    if (segmentMs > 0 && !session.rotatePending && session.file && fileTimeMs >= segmentMs) {
      session.rotatePending = true;
      this.#o.tap.requestKeyframe();
    }
  }

  #onAudio(session: Session, p: TapAudioPacket): void {
    const f = session.file;
    if (this.#session !== session || !f) return;
    const time = p.ms - f.t0;
    if (time < 0 || time <= f.lastAudio) return; // before this file's first picture, or a repeat
    f.lastAudio = time;
    this.#add(f, { track: AUDIO_TRACK, time, keyframe: true, data: p.payload });
    f.end = Math.max(f.end, time + AUDIO_FRAME_MS);
  }

  #add(f: OpenFile, block: Block): void {
    f.blocks.push(block);
    if (block.track === VIDEO_TRACK || block.time - f.blocks[0]!.time >= CLUSTER_MAX_MS) this.#flush(f);
  }

  #flush(f: OpenFile): void {
    if (f.blocks.length === 0) return;
    const bytes = cluster(f.blocks);
    f.blocks = [];
    f.bytes += bytes.length;
    f.stream.write(bytes);
  }

  #openFile(au: TapAccessUnit, sps: Buffer, pps: Buffer): OpenFile {
    const startedAt = new Date();
    const st = this.#o.captureStatus();
    const name = `deskcast-${startedAt.toISOString().replace(/:/g, '-')}.mkv`;
    const path = join(this.#o.dir, name);
    const { bytes, layout } = matroskaHeader({ width: st.width, height: st.height, sps, pps, audioChannels: this.#o.audioChannels ?? 2, startedAt });
    // 'wx': never overwrite (two segments in the same millisecond cannot happen: one per keyframe)
    const stream = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    const f: OpenFile = { name, path, stream, layout, t0: au.ms, end: 0, lastAudio: -Infinity, bytes: bytes.length, blocks: [], startedAt, sps };
    stream.on('error', (err) => {
      if (this.#session?.file === f) this.#fail(this.#session, `cannot write ${path}: ${err.message}`);
    });
    stream.write(bytes);
    log.info(`recording into ${path}`);
    return f;
  }

  /** Writes the last cluster, closes the file and fills in its size and duration (`endMs` on its timeline). */
  #finish(f: OpenFile, endMs: number): void {
    this.#flush(f);
    f.end = Math.max(f.end, endMs);
    const done = new Promise<void>((resolve) => {
      f.stream.end(() => resolve());
      f.stream.once('error', () => resolve());
    }).then(async () => {
      try {
        const fh = await open(f.path, 'r+');
        try {
          const size = (await fh.stat()).size;
          await fh.write(segmentSize(size - f.layout.segmentDataOffset), 0, 8, f.layout.segmentSizeOffset);
          await fh.write(durationElement(f.end), 0, 11, f.layout.durationOffset);
        } finally {
          await fh.close();
        }
      } catch (err) {
        log.warn(`cannot complete ${f.path} (it still plays): ${(err as Error).message}`);
      }
    });
    this.#finishing.add(done);
    void done.finally(() => this.#finishing.delete(done));
  }

  #fail(session: Session, message: string): void {
    this.#lastError = message;
    log.error(`recording stopped: ${message}`);
    if (this.#session === session) void this.stop('stopped after an error').catch(() => undefined);
  }

  async #checkDisk(session: Session): Promise<void> {
    let free: number;
    try {
      free = await freeMb(this.#o.dir);
    } catch (err) {
      this.#fail(session, `cannot check free space in ${this.#o.dir}: ${(err as Error).message}`);
      return;
    }
    if (free < this.#o.minFreeMb && this.#session === session) {
      this.#fail(
        session,
        `only ${free} MB left in ${this.#o.dir} (below --record-min-free ${this.#o.minFreeMb} MB). ` +
          'The files so far are complete. Free some space or point --record-dir at a larger disk, then start again.',
      );
    }
  }
}

async function freeMb(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
}

/** A finished file's duration (seconds) from its header; undefined when it was cut short. */
async function fileDuration(path: string): Promise<number | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return readDuration(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
