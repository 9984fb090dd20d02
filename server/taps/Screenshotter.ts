import { spawn } from 'node:child_process';
import type { VideoStatus } from '../video/VideoBridge.js';
import { TapError } from './errors.js';
import type { MediaTap, TapAccessUnit } from './MediaTap.js';

const KEYFRAME_TIMEOUT_MS = 8000;
const DECODE_TIMEOUT_MS = 5000;
const MAX_PNG_BYTES = 64 * 1024 * 1024;

export interface ScreenshotterOptions {
  tap: MediaTap;
  captureStatus: () => VideoStatus;
  /** The ffmpeg program (decodes one IDR into a PNG). */
  ffmpeg?: string;
}

/**
 * Screenshots from the broadcast itself: asks for an IDR (as a late joiner does), waits for it,
 * and has ffmpeg decode that one access unit into a PNG. No second capture: the pixels are the
 * encoder's, so they are the screen's within H.264's loss (4:2:0 chroma, quantisation; a flat
 * colour comes back within a few levels). Requests that overlap share one picture.
 */
export class Screenshotter {
  readonly #o: ScreenshotterOptions;
  #pending: Promise<Buffer> | undefined;

  constructor(options: ScreenshotterOptions) {
    this.#o = options;
  }

  take(): Promise<Buffer> {
    this.#pending ??= this.#take().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #take(): Promise<Buffer> {
    const st = this.#o.captureStatus();
    // idle: nobody watches; the tap resumes the capture for this picture
    if (st.state !== 'running' && st.state !== 'idle') throw new TapError(`no picture: capture is ${st.state}${st.error ? ` (${st.error})` : ''}`);
    const au = await this.#nextKeyframe();
    return decodeToPng(au.data, this.#o.ffmpeg ?? 'ffmpeg');
  }

  #nextKeyframe(): Promise<TapAccessUnit> {
    const tap = this.#o.tap;
    const release = tap.acquire();
    return new Promise<TapAccessUnit>((resolve, reject) => {
      const onAu = (au: TapAccessUnit): void => {
        if (!au.keyframe) return;
        done();
        resolve(au);
      };
      const timer = setTimeout(() => {
        done();
        reject(new TapError(`no picture from the capture within ${KEYFRAME_TIMEOUT_MS / 1000} s; see /healthz`));
      }, KEYFRAME_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        tap.off('accessUnit', onAu);
        release();
      };
      tap.on('accessUnit', onAu);
      tap.requestKeyframe();
      // the tap may attach a moment later; ask again then (requests close together share one IDR)
      setTimeout(() => tap.requestKeyframe(), 300).unref();
    });
  }
}

/** Decodes one H.264 access unit (Annex B, with SPS/PPS) into a PNG with ffmpeg. */
function decodeToPng(accessUnit: Buffer, ffmpeg = 'ffmpeg'): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), DECODE_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > MAX_PNG_BYTES) child.kill('SIGKILL');
      else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.stdin.on('error', () => undefined); // ffmpeg gone early: its exit says why
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TapError(e.code === 'ENOENT' ? `screenshots need ffmpeg (${ffmpeg} not found): apt-get install ffmpeg` : `cannot run ${ffmpeg}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const png = Buffer.concat(out);
      if (code === 0 && png.length > 8) resolve(png);
      else reject(new TapError(`ffmpeg could not decode the picture (${signal ?? `exit ${code}`}): ${err.trim() || 'no output'}`, 500));
    });
    child.stdin.end(accessUnit);
  });
}
