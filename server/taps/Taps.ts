import type { MediaCluster } from '../media/MediaCluster.js';
import type { NativeVideoStats } from '../native/nativeAddon.js';
import { createLogger } from '../util/logger.js';
import type { VideoBridge, VideoStatus } from '../video/VideoBridge.js';
import type { CaptureDemand } from './CaptureDemand.js';
import { CaptureSocket } from './CaptureSocket.js';
import { MediaTap } from './MediaTap.js';
import { Recorder } from './Recorder.js';
import { Screenshotter } from './Screenshotter.js';

const log = createLogger('taps');

export interface TapsOptions {
  media: MediaCluster;
  capture: VideoBridge;
  /** Held while a tap needs frames: a capture paused for lack of viewers runs for it. */
  demand: CaptureDemand;
  /** Viewers connected now (for STATUS). */
  viewerCount: () => number;
  /** --capture-socket; empty: no socket. */
  socketPath: string;
  recordDir: string;
  recordSegmentSec: number;
  recordMinFreeMb: number;
  /** --record: start a recording at launch. */
  recordAtLaunch: boolean;
}

/** The JSON STATUS answers (documented in the README). */
export interface TapStatus {
  viewers: number;
  capture: { state: string; backend: string; heldByTaps: boolean; error: string | null };
  encoder: string;
  width: number;
  height: number;
  fps: number;
  captureFps: number;
  frames: number;
  lastError: string | null;
  streamClients: number;
  recording: string | null;
}

/**
 * Screenshots, the raw stream and recordings, all from the broadcast's one capture: the tap
 * consumes the ingest producers on router 0 (see MediaTap). Owns the capture-bridge socket and
 * the recorder; the HTTP API (tapsApi) calls into it.
 */
export class Taps {
  readonly tap: MediaTap;
  readonly recorder: Recorder;
  readonly #o: TapsOptions;
  readonly #screenshots: Screenshotter;
  #socket: CaptureSocket | undefined;
  #stats: NativeVideoStats | undefined;
  #lastError = '';

  static async create(options: TapsOptions): Promise<Taps> {
    const taps = new Taps(options);
    try {
      if (options.socketPath) {
        taps.#socket = await CaptureSocket.listen({
          path: options.socketPath,
          tap: taps.tap,
          screenshot: () => taps.screenshot(),
          status: () => ({ ...taps.status() }),
        });
      }
    } catch (err) {
      await taps.close();
      throw err;
    }
    if (options.recordAtLaunch) {
      taps.recorder.start().catch((err: unknown) => log.error(`--record: cannot start recording: ${(err as Error).message}`));
    }
    return taps;
  }

  private constructor(options: TapsOptions) {
    this.#o = options;
    this.tap = new MediaTap(options.media, options.demand, options.capture);
    const captureStatus = (): VideoStatus => options.capture.status;
    this.#screenshots = new Screenshotter({ tap: this.tap, captureStatus });
    this.recorder = new Recorder({
      dir: options.recordDir,
      segmentSec: options.recordSegmentSec,
      minFreeMb: options.recordMinFreeMb,
      tap: this.tap,
      captureStatus,
    });
    options.capture.on('stats', (s) => (this.#stats = s));
    options.capture.on('statusChanged', (st) => {
      if (st.error) this.#lastError = st.error;
    });
  }

  async screenshot(): Promise<Buffer> {
    try {
      return await this.#screenshots.take();
    } catch (err) {
      this.#lastError = (err as Error).message;
      throw err;
    }
  }

  status(): TapStatus {
    const st = this.#o.capture.status;
    const lastError = st.error || this.recorder.lastError || this.#lastError;
    return {
      viewers: this.#o.viewerCount(),
      capture: { state: st.state, backend: st.backend, heldByTaps: this.#o.demand.held, error: st.error ?? null },
      encoder: st.encoder,
      width: st.width,
      height: st.height,
      fps: st.fps,
      captureFps: this.#stats?.captureFps ?? 0,
      frames: this.#stats?.framesEncoded ?? 0,
      lastError: lastError || null,
      streamClients: this.#socket?.streamClients ?? 0,
      recording: this.recorder.current()?.name ?? null,
    };
  }

  async close(): Promise<void> {
    await this.#socket?.close();
    await this.recorder.close();
    this.tap.close();
  }
}
