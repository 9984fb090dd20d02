import { loadNativeAddon, type InputInjector } from '../native/nativeAddon.js';
import { createLogger } from '../util/logger.js';
import type { DesktopInput, KeyInput } from './DesktopInput.js';

const log = createLogger('control');

export interface WaylandInputOptions {
  /** Absolute socket path (or a name in $XDG_RUNTIME_DIR). */
  socket: string;
  /** The output absolute pointer motion maps to ('' = the first). */
  output: string;
  /** XKB layout of the uploaded keymap ('us', 'de', 'de(nodeadkeys)'). */
  keyboardLayout: string;
}

/**
 * Input into a wlroots compositor through the native injector: one virtual keyboard (with a keymap
 * it uploads; characters typed exactly, missing ones added to the keymap) and one virtual pointer
 * on the captured output, alive for the whole control session, on their own thread and connection.
 */
export class WaylandDesktopInput implements DesktopInput {
  readonly #injector: InputInjector;
  #dropped = 0;

  /** Connects and creates the virtual devices; rejects with the reason and what to do. */
  static async open(options: WaylandInputOptions): Promise<WaylandDesktopInput> {
    const { InputInjector } = loadNativeAddon();
    const injector = new InputInjector({
      backend: 'wayland',
      waylandDisplay: options.socket,
      output: options.output,
      keyboardLayout: options.keyboardLayout,
      onEvent: (event) => {
        if (event.type === 'error') log.error(`input injection stopped: ${event.message} [${event.code}]`);
        else (event.level === 'warn' ? log.warn : log.info)(event.message);
      },
    });
    await injector.start();
    return new WaylandDesktopInput(injector);
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
    if (this.#dropped++ % 100 === 0) log.warn(`input injection queue full: ${this.#dropped} events dropped so far`);
  }
}
