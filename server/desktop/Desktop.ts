import { EmbeddedPulseAudio } from '../audio/EmbeddedPulseAudio.js';
import type { PulseConnection } from '../audio/pactl.js';
import type { ModuleHealth } from '../health/health.js';
import { createLogger } from '../util/logger.js';
import { isAbsolute, join } from 'node:path';
import { EmbeddedDesktop } from './EmbeddedDesktop.js';
import { EmbeddedSway } from './EmbeddedSway.js';

const log = createLogger('desktop');

export interface DesktopOptions {
  /** X display to capture (--display, else $DISPLAY through the settings); '' (and no Wayland display) = start an embedded one. */
  display: string;
  embeddedSize: { width: number; height: number };
  /** The embedded desktop gets its own sound server when audio is on. */
  audio: boolean;
  /** A clock, `top` and a chime on the embedded desktop; tests that paint turn it off. */
  demoContent: boolean;
  /** --capture: which kind of desktop to capture. */
  capture?: 'auto' | 'x11' | 'wayland';
  /** --wayland-display (else $WAYLAND_DISPLAY through the settings): a socket name or an absolute path. */
  waylandDisplay?: string;
  /** --xdg-runtime-dir (else $XDG_RUNTIME_DIR): where a socket name is looked up. */
  xdgRuntimeDir?: string;
  /** --output: the Wayland output to capture ('' = the first). */
  output?: string;
  /** --embedded: the desktop started when none is given. */
  embedded?: 'x11' | 'wayland';
  /** --keyboard-layout: the Wayland virtual keyboard's layout (the embedded sway uses it too). */
  keyboardLayout?: string;
}

/** What the capture and input modules need to reach the desktop. */
export interface WaylandTarget {
  /** Absolute path of the compositor's socket (or a bare name when no runtime dir is known). */
  socket: string;
  output: string;
  keyboardLayout: string;
}

/** The desktop the capture actually reached: input goes to the same one. */
export type CapturedDesktop = { kind: 'x11'; display: string } | { kind: 'wayland'; wayland: WaylandTarget };

/** A socket name resolved against the runtime dir, so the native side never reads the environment. */
function waylandSocketPath(name: string, runtimeDir: string): string {
  if (!name || isAbsolute(name) || !runtimeDir) return name;
  return join(runtimeDir, name);
}

/**
 * Decides which desktop is broadcast: the Wayland compositor or X display given, or deskcast's
 * own embedded desktop when there is none (Xvfb with its own PulseAudio, or a headless sway with
 * --embedded wayland). Owns what it started.
 */
export class Desktop {
  /** X display ('' when only a Wayland desktop is known). */
  readonly display: string;
  /** --capture as given; with a Wayland target, 'auto' tries it first. */
  readonly capture: 'auto' | 'x11' | 'wayland';
  /** The Wayland compositor to capture and control, if any. */
  readonly wayland: WaylandTarget | undefined;
  readonly #sway: EmbeddedSway | undefined;
  /** The embedded desktop's sound server; undefined for a given display. */
  readonly soundServer: PulseConnection | undefined;
  readonly #embedded: EmbeddedDesktop | undefined;
  readonly #pulse: EmbeddedPulseAudio | undefined;
  #pulseFailure = '';

  static async create(options: DesktopOptions): Promise<Desktop> {
    const capture = options.capture ?? 'auto';
    const keyboardLayout = options.keyboardLayout ?? 'us';
    const waylandGiven = capture !== 'x11' && !!options.waylandDisplay;
    const x11Given = capture !== 'wayland' && !!options.display;
    if (waylandGiven || x11Given) {
      const wayland = waylandGiven
        ? { socket: waylandSocketPath(options.waylandDisplay!, options.xdgRuntimeDir ?? ''), output: options.output ?? '', keyboardLayout }
        : undefined;
      return new Desktop(x11Given ? options.display : '', capture, wayland, undefined, undefined, undefined);
    }
    if (capture === 'wayland' || options.embedded === 'wayland') {
      log.info('no --wayland-display and no $WAYLAND_DISPLAY: starting an embedded headless sway desktop');
      const sway = await EmbeddedSway.create({
        ...options.embeddedSize,
        background: '#1d3b53',
        keyboardLayout,
        exec: options.demoContent ? ['foot -e top -d 0.5'] : [],
      });
      return new Desktop('', 'wayland', { socket: sway.socketPath, output: '', keyboardLayout }, undefined, undefined, sway);
    }
    log.info('no --display and no $DISPLAY: starting an embedded Xvfb desktop');
    let pulse: EmbeddedPulseAudio | undefined;
    if (options.audio) {
      // Its own sound server too, with a chime on it, so a fresh machine hears something.
      pulse = await EmbeddedPulseAudio.create({ testSound: options.demoContent ? 'chime' : 'none' });
    }
    try {
      const embedded = await EmbeddedDesktop.create({ ...options.embeddedSize, withDemoContent: options.demoContent, env: pulse?.env ?? {} });
      return new Desktop(embedded.display, capture, undefined, embedded, pulse, undefined);
    } catch (err) {
      await pulse?.stop();
      throw err;
    }
  }

  private constructor(
    display: string,
    capture: 'auto' | 'x11' | 'wayland',
    wayland: WaylandTarget | undefined,
    embedded: EmbeddedDesktop | undefined,
    pulse: EmbeddedPulseAudio | undefined,
    sway: EmbeddedSway | undefined,
  ) {
    this.display = display;
    this.capture = capture;
    this.wayland = wayland;
    this.#sway = sway;
    this.#embedded = embedded;
    this.#pulse = pulse;
    this.soundServer = pulse?.connection;
    pulse?.on('failed', (err) => {
      this.#pulseFailure = err.message;
      log.error(`the embedded sound server is gone for good: ${err.message}`);
    });
    pulse?.on('restarted', () => {
      this.#pulseFailure = '';
    });
  }

  /**
   * The desktop behind a capture backend (VideoStatus.backend): with `--capture auto` the native
   * side may fall back from the compositor to the X display, and input must follow it there.
   */
  captured(backend: string): CapturedDesktop {
    if (backend !== 'x11' && this.wayland) return { kind: 'wayland', wayland: this.wayland };
    return { kind: 'x11', display: this.display };
  }

  /** The embedded sound server's capture source, if there is one. */
  get soundSource(): string | undefined {
    return this.#pulse?.monitorSource;
  }

  health(): ModuleHealth {
    if (this.#pulseFailure) return { status: 'degraded', reason: `embedded sound server failed: ${this.#pulseFailure}` };
    return { status: 'ok', reason: '' };
  }

  async close(): Promise<void> {
    this.#embedded?.stop();
    await this.#sway?.stop();
    await this.#pulse?.stop();
  }
}
