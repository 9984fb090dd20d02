import { loadNativeAddon } from '../native/nativeAddon.js';
import { InjectorDesktopInput, logInjectorEvent } from './InjectorDesktopInput.js';

/**
 * Input into an X display through the native injector (XTest on its own connection and thread;
 * characters typed exactly on the desktop's XKB layout). Calls queue and return at once.
 */
export class X11DesktopInput extends InjectorDesktopInput {
  /** Connects to `display`; rejects with the reason and what to do. */
  static async open(display: string): Promise<X11DesktopInput> {
    const { InputInjector } = loadNativeAddon();
    const injector = new InputInjector({ display, onEvent: logInjectorEvent });
    await injector.start();
    return new X11DesktopInput(injector);
  }
}
