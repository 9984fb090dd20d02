import type { VideoBridge } from './VideoBridge.js';

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

  /** Starts capture now; it stops again after the grace period unless someone watches by then. */
  prewarm(): void {
    if (this.#o.alwaysOn) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    void this.#o.capture.resume();
    if (this.#o.watching() === 0) this.#scheduleIdle();
  }

  close(): void {
    clearTimeout(this.#idleTimer);
  }

  #scheduleIdle(): void {
    if (this.#idleTimer || this.#o.capture.idle) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#o.watching() === 0) this.#o.capture.pause();
    }, this.#o.graceMs);
    this.#idleTimer.unref();
  }
}
