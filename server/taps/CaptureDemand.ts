import { EventEmitter } from 'node:events';

/**
 * Who needs the capture running besides viewers: every tap (a STREAM client, a screenshot in
 * progress, a recording) holds a reference while it needs frames. Capture pauses when nobody
 * watches (CaptureOnDemand); it counts these holds as watchers, so a paused capture resumes
 * for a tap and may pause again after `changed` reports false.
 */
export class CaptureDemand extends EventEmitter<{ changed: [held: boolean] }> {
  #count = 0;

  get held(): boolean {
    return this.#count > 0;
  }

  get count(): number {
    return this.#count;
  }

  /** Holds the capture; the returned function releases this hold (once). */
  acquire(): () => void {
    if (this.#count++ === 0) this.emit('changed', true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#count === 0) this.emit('changed', false);
    };
  }
}
