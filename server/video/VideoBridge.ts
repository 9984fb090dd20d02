import { EventEmitter } from 'node:events';
import type { ModuleHealth } from '../health/health.js';
import { createLogger } from '../util/logger.js';
import { loadNativeAddon, type EncoderChoice, type NativeVideoStats, type VideoSession, type VideoStartInfo } from '../native/nativeAddon.js';
import { VIDEO_HEADER_EXTENSION_IDS } from '../media/mediaCodecs.js';
import { videoMetrics } from './videoMetrics.js';

const STAGES = [
  ['changeToGrab', 'change_to_grab'],
  ['grab', 'grab'],
  ['convert', 'convert'],
  ['encode', 'encode'],
  ['send', 'send'],
] as const;

const log = createLogger('capture');

export interface VideoBridgeOptions {
  display: string;
  /** --capture; and the Wayland compositor when there is one. */
  capture?: 'auto' | 'x11' | 'wayland';
  waylandDisplay?: string;
  output?: string;
  fps: number;
  bitrateKbps: number;
  keyframeIntervalSec: number;
  encoder: EncoderChoice;
  cname: string;
  ssrc: number;
  payloadType: number;
  destination: { host: string; port: number };
  /**
   * A fresh destination for a session that restarts (after pause() or a fatal error): the
   * ingest locks onto the first sender's port, and a new session sends from a new one.
   */
  newDestination?: () => Promise<{ host: string; port: number }>;
  /** The VP8 stream for viewers without H.264 (`--codecs h264,vp8`); absent: H.264 only. */
  vp8?: { ssrc: number; payloadType: number };
  /** How long the VP8 encoder keeps running after its last viewer left (a reload comes back). */
  vp8GraceMs?: number;
}

export interface VideoStatus {
  /** idle: stopped on purpose while nobody watches (capture only while watched). */
  state: 'running' | 'idle' | 'failed' | 'stopped';
  encoder: string;
  /** How the screen is captured ('x11', 'ext-image-copy-capture', 'wlr-screencopy'); '' before the first start. */
  backend: string;
  width: number;
  height: number;
  fps: number;
  /** The VP8 encoder: running for viewers without H.264, idle, or not offered (--codecs h264). */
  vp8: 'active' | 'idle' | 'off';
  error?: string;
}

export interface VideoBridgeEvents {
  /** Encoder, size or state changed: viewers' status line should follow. */
  statusChanged: [VideoStatus];
  stats: [NativeVideoStats];
}

/** Fatal capture errors are retried after this long (the X server may come back). */
const RETRY_DELAY_MS = 3000;
const VP8_GRACE_MS = 5000;

/**
 * Owns the process's one native video session: starts it, feeds its stats to metrics,
 * re-points it when the ingest moves, and restarts it after a fatal pipeline error.
 */
export class VideoBridge extends EventEmitter<VideoBridgeEvents> {
  readonly #options: VideoBridgeOptions;
  #session: VideoSession | undefined;
  #status: VideoStatus;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #idle = false;
  #resuming: Promise<void> = Promise.resolve();
  /**
   * Bumped by pause() and close(): a start begun before them is stale, and its failure must not
   * schedule a retry (that retry would replace the ingest under the viewers of the start after it).
   */
  #generation = 0;
  #vp8Wanted = false;
  #vp8StopTimer: NodeJS.Timeout | undefined;

  /** Starts capture; rejects (with what to do) if the first start fails. */
  static async start(options: VideoBridgeOptions): Promise<VideoBridge> {
    const bridge = new VideoBridge(options);
    await bridge.#open();
    return bridge;
  }

  private constructor(options: VideoBridgeOptions) {
    super();
    this.#options = { ...options, destination: { ...options.destination } };
    this.#status = { state: 'stopped', encoder: '', backend: '', width: 0, height: 0, fps: options.fps, vp8: options.vp8 ? 'idle' : 'off' };
  }

  get status(): VideoStatus {
    return { ...this.#status };
  }

  health(): ModuleHealth {
    const st = this.#status;
    if (st.state === 'running') return { status: 'ok', reason: '' };
    if (st.state === 'idle') return { status: 'ok', reason: '' }; // nobody watches: capture waits for the first viewer
    return { status: 'degraded', reason: st.error ? `${st.error}; retrying` : `capture is ${st.state}` };
  }

  setDestination(host: string, port: number): void {
    this.#options.destination = { host, port };
    this.#session?.setDestination(host, port);
    this.#session?.requestKeyframe();
  }

  requestKeyframe(): void {
    this.#session?.requestKeyframe();
  }

  /**
   * How many viewers receive VP8: the encoder starts with the first and stops a grace period
   * after the last (a page reload does not restart it). No-op without a VP8 stream.
   */
  setVp8Viewers(count: number): void {
    videoMetrics.vp8Viewers.set(count);
    if (!this.#options.vp8) return;
    if (count > 0) {
      clearTimeout(this.#vp8StopTimer);
      this.#vp8StopTimer = undefined;
      this.#applyVp8(true);
    } else if (this.#vp8Wanted && !this.#vp8StopTimer) {
      this.#vp8StopTimer = setTimeout(() => {
        this.#vp8StopTimer = undefined;
        this.#applyVp8(false);
      }, this.#options.vp8GraceMs ?? VP8_GRACE_MS);
    }
  }

  #applyVp8(enabled: boolean): void {
    if (this.#vp8Wanted !== enabled) log.info(enabled ? 'VP8 encoder requested (a viewer has no usable H.264)' : 'VP8 encoder no longer needed');
    this.#vp8Wanted = enabled;
    try {
      this.#session?.setVp8Enabled(enabled);
    } catch (err) {
      log.warn(`cannot switch the VP8 encoder ${enabled ? 'on' : 'off'}: ${(err as Error).message}`);
    }
  }

  reconfigure(opts: { fps?: number; bitrateKbps?: number }): void {
    this.#session?.reconfigure(opts);
    if (opts.fps) this.#setStatus({ fps: opts.fps });
  }

  get idle(): boolean {
    return this.#idle;
  }

  /** Stops capture and encoding (nobody watches); resume() starts them again. */
  pause(): void {
    if (this.#stopped || this.#idle) return;
    this.#idle = true;
    this.#generation++;
    clearTimeout(this.#retryTimer);
    this.#session?.stop(); // a start still pending rejects; resume()'s catch sees #idle
    this.#session = undefined;
    this.#setStatus({ state: 'idle', error: undefined });
    log.info('capture stopped: nobody is watching');
  }

  /** Starts capture again after pause(); resolves once it runs (or has failed and retries). */
  resume(): Promise<void> {
    if (this.#stopped || !this.#idle) return this.#resuming;
    this.#idle = false;
    const generation = this.#generation;
    const started = performance.now();
    // One start at a time: a resume right after a pause first lets the start that the pause
    // cancelled settle (two at once would each replace the ingest).
    this.#resuming = this.#resuming.then(() => this.#reopen(generation)).then(
      () => log.info(`capture started for a viewer in ${(performance.now() - started).toFixed(0)} ms`),
      (err: unknown) => {
        if (this.#stopped || this.#idle || generation !== this.#generation) return; // cancelled by pause() or close()
        log.error(`capture start failed: ${(err as Error).message}; retrying in ${RETRY_DELAY_MS / 1000} s`);
        this.#setStatus({ state: 'failed', error: (err as Error).message });
        this.#scheduleRetry();
      },
    );
    return this.#resuming;
  }

  close(): void {
    this.#stopped = true;
    this.#generation++;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#vp8StopTimer);
    this.#session?.stop(); // a start still pending rejects; #open() sees #stopped
    this.#session = undefined;
    this.#setStatus({ state: 'stopped' });
  }

  /** Resolves once a resume() in progress has started capture (or failed); at once otherwise. */
  whenStarted(): Promise<void> {
    return this.#resuming;
  }

  /** #open() for a restart: from a fresh destination when the ingest needs one. */
  async #reopen(generation = this.#generation): Promise<void> {
    const cancelled = (): boolean => this.#stopped || this.#idle || generation !== this.#generation;
    if (cancelled()) throw new Error('capture was stopped before restarting');
    if (this.#options.newDestination) this.#options.destination = { ...(await this.#options.newDestination()) };
    if (cancelled()) throw new Error('capture was stopped while restarting');
    await this.#open();
  }

  async #open(): Promise<void> {
    const o = this.#options;
    const { VideoSession } = loadNativeAddon();
    const session = new VideoSession({
      display: o.display,
      capture: o.capture ?? 'auto',
      waylandDisplay: o.waylandDisplay ?? '',
      output: o.output ?? '',
      fps: o.fps,
      bitrateKbps: o.bitrateKbps,
      keyframeIntervalSec: o.keyframeIntervalSec,
      encoder: o.encoder,
      destinationHost: o.destination.host,
      destinationPort: o.destination.port,
      ssrc: o.ssrc,
      payloadType: o.payloadType,
      cname: o.cname,
      absCaptureTimeExtensionId: VIDEO_HEADER_EXTENSION_IDS.absCaptureTime,
      playoutDelayExtensionId: VIDEO_HEADER_EXTENSION_IDS.playoutDelay,
      ...(o.vp8 ? { vp8Ssrc: o.vp8.ssrc, vp8PayloadType: o.vp8.payloadType } : {}),
      onEvent: (event) => {
        switch (event.type) {
          case 'stats':
            this.#onStats(event);
            break;
          case 'error':
            // Leave the native callback before stopping the session it came from.
            setImmediate(() => this.#onFatal(session, `${event.message} [${event.code}]`));
            break;
          case 'log':
            (event.level === 'warn' ? log.warn : log.info)(event.message);
            break;
          case 'keyframe':
            log.debug(`keyframe (${event.reason})`);
            break;
        }
      },
    });
    // Known while starting, so that setDestination() and stop() reach it.
    this.#session = session;
    if (this.#vp8Wanted) session.setVp8Enabled(true); // a restarted session keeps serving VP8 viewers
    let started: VideoStartInfo;
    try {
      started = await session.start();
    } catch (err) {
      if (this.#session === session) this.#session = undefined; // a failed start released the session
      throw err;
    }
    if (this.#session !== session) return; // paused or closed while starting
    // the session itself logs the encoder chosen and why others were skipped
    videoMetrics.encoder.reset();
    videoMetrics.encoder.set({ encoder: started.encoder }, 1);
    this.#setStatus({ state: 'running', encoder: started.encoder, backend: started.backend, width: started.width, height: started.height, error: undefined });
  }

  #onStats(stats: NativeVideoStats): void {
    videoMetrics.fps.set(stats.captureFps);
    videoMetrics.captureMs.set(stats.captureMsAvg);
    videoMetrics.convertMs.set(stats.convertMsAvg);
    videoMetrics.encodeMs.set(stats.encodeMsAvg);
    videoMetrics.width.set(stats.width);
    videoMetrics.height.set(stats.height);
    videoMetrics.keyframes.set(stats.keyframesSent);
    videoMetrics.rtpBytes.set(stats.bytesSent);
    videoMetrics.framesEncoded.set(stats.framesEncoded);
    for (const [field, stage] of STAGES) {
      const h = videoMetrics.stageSeconds.labels(stage);
      for (const ms of stats.stageMs[field]) h.observe(ms / 1000);
    }
    videoMetrics.vp8Active.set(stats.vp8Active ? 1 : 0);
    videoMetrics.vp8EncodeMs.set(stats.vp8EncodeMsAvg);
    const vp8: VideoStatus['vp8'] = !this.#options.vp8 ? 'off' : stats.vp8Active ? 'active' : 'idle';
    if (stats.width !== this.#status.width || stats.height !== this.#status.height || stats.encoder !== this.#status.encoder || vp8 !== this.#status.vp8) {
      this.#setStatus({ width: stats.width, height: stats.height, encoder: stats.encoder, vp8 });
    }
    this.emit('stats', stats);
  }

  #onFatal(session: VideoSession, message: string): void {
    if (this.#session !== session) return; // already stopped or replaced
    videoMetrics.errors.inc();
    log.error(`capture stopped: ${message}; retrying in ${RETRY_DELAY_MS / 1000} s`);
    session.stop();
    this.#session = undefined;
    this.#setStatus({ state: 'failed', error: message });
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#idle) return;
    const generation = this.#generation;
    this.#retryTimer = setTimeout(() => {
      this.#reopen(generation).catch((err: unknown) => {
        if (this.#stopped || this.#idle || generation !== this.#generation) return; // close() or pause() cancelled this start
        log.error(`capture restart failed: ${(err as Error).message}; retrying in ${RETRY_DELAY_MS / 1000} s`);
        this.#setStatus({ state: 'failed', error: (err as Error).message });
        this.#scheduleRetry();
      });
    }, RETRY_DELAY_MS);
  }

  #setStatus(patch: Partial<VideoStatus>): void {
    this.#status = { ...this.#status, ...patch };
    this.emit('statusChanged', this.status);
  }
}
