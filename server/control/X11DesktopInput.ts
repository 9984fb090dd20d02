import { loadNativeAddon, type InputInjector } from '../native/nativeAddon.js';
import { createLogger } from '../util/logger.js';
import type { DesktopInput, KeyInput } from './DesktopInput.js';

const log = createLogger('control');

/**
 * Input into an X display through the native injector (XTest on its own connection and thread;
 * characters typed exactly on the desktop's XKB layout). Calls queue and return at once.
 */
export class X11DesktopInput implements DesktopInput {
  readonly #injector: InputInjector;
  #dropped = 0;

  /** Connects to `display`; rejects with the reason and what to do. */
  static async open(display: string): Promise<X11DesktopInput> {
    const { InputInjector } = loadNativeAddon();
    const injector = new InputInjector({
      display,
      onEvent: (event) => {
        if (event.type === 'error') log.error(`input injection stopped: ${event.message} [${event.code}]`);
        else (event.level === 'warn' ? log.warn : log.info)(event.message);
      },
    });
    await injector.start();
    return new X11DesktopInput(injector);
  }

  private constructor(injector: InputInjector) {
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
    // The injector's queue is full (the X server is not keeping up): say so now and then.
    if (this.#dropped++ % 100 === 0) log.warn(`input injection queue full: ${this.#dropped} events dropped so far`);
  }
}
