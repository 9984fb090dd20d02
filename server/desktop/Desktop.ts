import { EmbeddedPulseAudio } from '../audio/EmbeddedPulseAudio.js';
import type { PulseConnection } from '../audio/pactl.js';
import type { ModuleHealth } from '../health/health.js';
import { createLogger } from '../util/logger.js';
import { EmbeddedDesktop } from './EmbeddedDesktop.js';

const log = createLogger('desktop');

export interface DesktopOptions {
  /** X display to capture (--display, else $DISPLAY through the settings); '' = start an embedded one. */
  display: string;
  embeddedSize: { width: number; height: number };
  /** The embedded desktop gets its own sound server when audio is on. */
  audio: boolean;
  /** A clock, `top` and a chime on the embedded desktop; tests that paint turn it off. */
  demoContent: boolean;
}

/**
 * Decides which desktop is broadcast: the display given, or deskcast's own embedded Xvfb
 * (with its own PulseAudio) when there is none. Owns what it started.
 */
export class Desktop {
  readonly display: string;
  /** The embedded desktop's sound server; undefined for a given display. */
  readonly soundServer: PulseConnection | undefined;
  readonly #embedded: EmbeddedDesktop | undefined;
  readonly #pulse: EmbeddedPulseAudio | undefined;
  #pulseFailure = '';

  static async create(options: DesktopOptions): Promise<Desktop> {
    if (options.display) return new Desktop(options.display, undefined, undefined);
    log.info('no --display and no $DISPLAY: starting an embedded Xvfb desktop');
    let pulse: EmbeddedPulseAudio | undefined;
    if (options.audio) {
      // Its own sound server too, with a chime on it, so a fresh machine hears something.
      pulse = await EmbeddedPulseAudio.create({ testSound: options.demoContent ? 'chime' : 'none' });
    }
    try {
      const embedded = await EmbeddedDesktop.create({ ...options.embeddedSize, withDemoContent: options.demoContent, env: pulse?.env ?? {} });
      return new Desktop(embedded.display, embedded, pulse);
    } catch (err) {
      await pulse?.stop();
      throw err;
    }
  }

  private constructor(display: string, embedded: EmbeddedDesktop | undefined, pulse: EmbeddedPulseAudio | undefined) {
    this.display = display;
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
    await this.#pulse?.stop();
  }
}
