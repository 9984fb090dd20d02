import { loadNativeAddon } from '../native/nativeAddon.js';
import { InjectorDesktopInput, logInjectorEvent } from './InjectorDesktopInput.js';

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
export class WaylandDesktopInput extends InjectorDesktopInput {
  /** Connects and creates the virtual devices; rejects with the reason and what to do. */
  static async open(options: WaylandInputOptions): Promise<WaylandDesktopInput> {
    const { InputInjector } = loadNativeAddon();
    const injector = new InputInjector({
      backend: 'wayland',
      waylandDisplay: options.socket,
      output: options.output,
      keyboardLayout: options.keyboardLayout,
      onEvent: logInjectorEvent,
    });
    await injector.start();
    return new WaylandDesktopInput(injector);
  }
}
