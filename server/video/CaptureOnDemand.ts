import type { VideoBridge } from './VideoBridge.js';

/** How long capture started for a connecting page waits for it to join before stopping again. */
const PREWARM_HOLD_MS = 5000;

export interface CaptureOnDemandOptions {
  capture: VideoBridge;
  /** --always-on: never pause. */
  alwaysOn: boolean;
  /** --idle-grace: how long capture keeps running after the last viewer leaves (a reload does not restart it). */
  graceMs: number;
  /** Viewers watching now. */
  watching: () => number;
}

/**
 * Capture only while watched: capture and encoding start with the first viewer and stop a
 * grace period after the last one leaves. Call update() whenever viewers come or go, and
 * prewarm() when someone connects (capture starts while the page is still joining).
 */
export class CaptureOnDemand {
  readonly #o: CaptureOnDemandOptions;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: CaptureOnDemandOptions) {
    this.#o = options;
    this.update();
  }

  update(): void {
    if (this.#o.alwaysOn) return;
    if (this.#o.watching() > 0) this.prewarm();
    else this.#scheduleIdle();
  }

  /**
   * Starts capture now, for a page that connected and is about to join; it stops again unless
   * someone watches within the grace period, and never sooner than PREWARM_HOLD_MS (with
   * --idle-grace 0 it would stop before the page's join arrived, only to start again).
   */
  prewarm(): void {
    if (this.#o.alwaysOn) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    void this.#o.capture.resume();
    if (this.#o.watching() === 0) this.#scheduleIdle(Math.max(this.#o.graceMs, PREWARM_HOLD_MS));
  }

  close(): void {
    clearTimeout(this.#idleTimer);
  }

  #scheduleIdle(delayMs = this.#o.graceMs): void {
    if (this.#idleTimer || this.#o.capture.idle) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#o.watching() === 0) this.#o.capture.pause();
    }, delayMs);
    this.#idleTimer.unref();
  }
}
