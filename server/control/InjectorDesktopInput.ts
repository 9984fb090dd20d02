import type { InputInjector, NativeInputEvent } from '../native/nativeAddon.js';
import { createLogger } from '../util/logger.js';
import type { DesktopInput, KeyInput } from './DesktopInput.js';

const log = createLogger('control');

/** The native injector's events in deskcast's log. */
export function logInjectorEvent(event: NativeInputEvent): void {
  if (event.type === 'error') log.error(`input injection stopped: ${event.message} [${event.code}]`);
  else (event.level === 'warn' ? log.warn : log.info)(event.message);
}

/**
 * DesktopInput over a started native InputInjector (X11 or Wayland backend: the same calls).
 * Calls queue and return at once; a full queue is counted and reported now and then.
 */
export class InjectorDesktopInput implements DesktopInput {
  readonly #injector: InputInjector;
  #dropped = 0;

  protected constructor(injector: InputInjector) {
    this.#injector = injector;
  }

  pointerMove(x: number, y: number): void {
    this.#queued(this.#injector.pointerMove(x, y));
  }

  pointerMoveRelative(dx: number, dy: number): void {
    this.#queued(this.#injector.pointerMoveRelative(dx, dy));
  }

  button(button: number, down: boolean): void {
    this.#queued(this.#injector.button(button, down));
  }

  scroll(dx: number, dy: number): void {
    this.#queued(this.#injector.scroll(dx, dy));
  }

  key(key: KeyInput): void {
    this.#queued(this.#injector.key(key));
  }

  text(text: string): void {
    this.#queued(this.#injector.text(text));
  }

  releaseAll(): void {
    this.#queued(this.#injector.releaseAll());
  }

  close(): void {
    this.#injector.stop();
  }

  #queued(accepted: boolean): void {
    if (accepted) return;
    // The injector's queue is full (the desktop is not keeping up): say so now and then.
    if (this.#dropped++ % 100 === 0) log.warn(`input injection queue full: ${this.#dropped} events dropped so far`);
  }
}
