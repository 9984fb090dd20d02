import type { CapturedDesktop } from '../desktop/Desktop.js';
import type { DesktopInput } from './DesktopInput.js';
import { WaylandDesktopInput } from './WaylandDesktopInput.js';
import { X11DesktopInput } from './X11DesktopInput.js';

/** Human name of a captured desktop, for the log and /healthz. */
export function describeDesktop(desktop: CapturedDesktop): string {
  return desktop.kind === 'wayland' ? `Wayland display ${desktop.wayland.socket}` : `X display ${desktop.display}`;
}

/**
 * Opens the input of the desktop being captured, for remote control. Rejects with what failed
 * and on which display.
 */
export async function openDesktopInput(desktop: CapturedDesktop): Promise<DesktopInput> {
  try {
    return desktop.kind === 'wayland' ? await WaylandDesktopInput.open(desktop.wayland) : await X11DesktopInput.open(desktop.display);
  } catch (err) {
    throw new Error(`cannot inject input into ${describeDesktop(desktop)}: ${(err as Error).message}`);
  }
}
