import type { CapturedDesktop } from '../desktop/Desktop.js';
import { createLogger } from '../util/logger.js';
import type { DesktopInput } from './DesktopInput.js';
import { WaylandDesktopInput } from './WaylandDesktopInput.js';
import { X11DesktopInput } from './X11DesktopInput.js';

const log = createLogger('control');

/** Human name of a captured desktop, for the log and /healthz. */
export function describeDesktop(desktop: CapturedDesktop): string {
  return desktop.kind === 'wayland' ? `Wayland display ${desktop.wayland.socket}` : `X display ${desktop.display}`;
}

/**
 * The input of the desktop being captured, for remote control. When it cannot open, control is
 * unavailable (the broadcast goes on view-only) and `reason` says why for health and the pages.
 */
export async function openDesktopInput(desktop: CapturedDesktop, policy: string): Promise<{ input: DesktopInput | undefined; reason: string }> {
  if (policy === 'off') return { input: undefined, reason: 'remote control is off (--control off)' };
  try {
    const input = desktop.kind === 'wayland' ? await WaylandDesktopInput.open(desktop.wayland) : await X11DesktopInput.open(desktop.display);
    return { input, reason: '' };
  } catch (err) {
    const reason = `cannot inject input into ${describeDesktop(desktop)}: ${(err as Error).message}`;
    log.error(`${reason}. The broadcast goes on view-only.`);
    return { input: undefined, reason };
  }
}
