import { EventEmitter } from 'node:events';
import type { ModuleHealth } from '../health/health.js';
import { createLogger } from '../util/logger.js';
import { captureMetrics } from './captureMetrics.js';
import { loadNativeAddon, type EncoderChoice, type NativeVideoStats, type VideoSession } from './nativeAddon.js';

const log = createLogger('capture');

export interface CaptureBridgeOptions {
  display: string;
  fps: number;
  bitrateKbps: number;
  keyframeIntervalSec: number;
  encoder: EncoderChoice;
  cname: string;
  ssrc: number;
  payloadType: number;
  destination: { host: string; port: number };
}

export interface CaptureStatus {
  state: 'running' | 'failed' | 'stopped';
  encoder: string;
  width: number;
  height: number;
  fps: number;
  error?: string;
}

export interface CaptureBridgeEvents {
  /** Encoder, size or state changed: viewers' status line should follow. */
  statusChanged: [CaptureStatus];
  stats: [NativeVideoStats];
}

/** Fatal capture errors are retried after this long (the X server may come back). */
const RETRY_DELAY_MS = 3000;

/**
 * Owns the process's one native video session: starts it, feeds its stats to metrics,
 * re-points it when the ingest moves, and restarts it after a fatal pipeline error.
 */
export class CaptureBridge extends EventEmitter<CaptureBridgeEvents> {
  readonly #options: CaptureBridgeOptions;
  #session: VideoSession | undefined;
  #status: CaptureStatus;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** Starts capture; throws (with what to do) if the first start fails. */
  static start(options: CaptureBridgeOptions): CaptureBridge {
    const bridge = new CaptureBridge(options);
    bridge.#open();
    return bridge;
  }

  private constructor(options: CaptureBridgeOptions) {
    super();
    this.#options = { ...options, destination: { ...options.destination } };
    this.#status = { state: 'stopped', encoder: '', width: 0, height: 0, fps: options.fps };
  }

  get status(): CaptureStatus {
    return { ...this.#status };
  }

  health(): ModuleHealth {
    const st = this.#status;
    if (st.state === 'running') return { status: 'ok', reason: '' };
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

  reconfigure(opts: { fps?: number; bitrateKbps?: number }): void {
    this.#session?.reconfigure(opts);
    if (opts.fps) this.#setStatus({ fps: opts.fps });
  }

  close(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#session?.stop();
    this.#session = undefined;
    this.#setStatus({ state: 'stopped' });
  }

  #open(): void {
    const o = this.#options;
    const { VideoSession } = loadNativeAddon();
    const session = new VideoSession({
      display: o.display,
      fps: o.fps,
      bitrateKbps: o.bitrateKbps,
      keyframeIntervalSec: o.keyframeIntervalSec,
      encoder: o.encoder,
      destinationHost: o.destination.host,
      destinationPort: o.destination.port,
      ssrc: o.ssrc,
      payloadType: o.payloadType,
      cname: o.cname,
      onEvent: (event) => {
        switch (event.type) {
          case 'stats':
            this.#onStats(event);
            break;
          case 'error':
            // Leave the native callback before stopping the session it came from.
            setImmediate(() => this.#onFatal(`${event.message} [${event.code}]`));
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
    let started;
    try {
      started = session.start();
    } catch (err) {
      session.stop();
      throw err;
    }
    this.#session = session; // the session itself logs the encoder chosen and why others were skipped
    captureMetrics.encoder.reset();
    captureMetrics.encoder.set({ encoder: started.encoder }, 1);
    this.#setStatus({ state: 'running', encoder: started.encoder, width: started.width, height: started.height, error: undefined });
  }

  #onStats(stats: NativeVideoStats): void {
    captureMetrics.fps.set(stats.captureFps);
    captureMetrics.captureMs.set(stats.captureMsAvg);
    captureMetrics.convertMs.set(stats.convertMsAvg);
    captureMetrics.encodeMs.set(stats.encodeMsAvg);
    captureMetrics.width.set(stats.width);
    captureMetrics.height.set(stats.height);
    captureMetrics.keyframes.set(stats.keyframesSent);
    captureMetrics.rtpBytes.set(stats.bytesSent);
    if (stats.width !== this.#status.width || stats.height !== this.#status.height || stats.encoder !== this.#status.encoder) {
      this.#setStatus({ width: stats.width, height: stats.height, encoder: stats.encoder });
    }
    this.emit('stats', stats);
  }

  #onFatal(message: string): void {
    captureMetrics.errors.inc();
    log.error(`capture stopped: ${message}; retrying in ${RETRY_DELAY_MS / 1000} s`);
    this.#session?.stop();
    this.#session = undefined;
    this.#setStatus({ state: 'failed', error: message });
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    this.#retryTimer = setTimeout(() => {
      try {
        this.#open();
      } catch (err) {
        log.error(`capture restart failed: ${(err as Error).message}; retrying in ${RETRY_DELAY_MS / 1000} s`);
        this.#setStatus({ state: 'failed', error: (err as Error).message });
        this.#scheduleRetry();
      }
    }, RETRY_DELAY_MS);
  }

  #setStatus(patch: Partial<CaptureStatus>): void {
    this.#status = { ...this.#status, ...patch };
    this.emit('statusChanged', this.status);
  }
}
