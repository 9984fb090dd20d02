import { createLogger } from '../util/logger.js';
import { loadNativeAddon, type AudioSession, type NativeAudioEvent } from '../native/nativeAddon.js';
import { audioMetrics } from './audioMetrics.js';
import type { MicStatus } from './MicMixer.js';

const log = createLogger('audio');

export interface AudioBridgeOptions {
  source: string;
  server: string;
  cookieFile: string;
  bitrateKbps: number;
  cname: string;
  ssrc: number;
  payloadType: number;
  destination: { host: string; port: number };
}

export interface AudioStatus {
  state: 'off' | 'connecting' | 'connected' | 'disconnected';
  /** Why audio is not flowing (empty when connected). */
  reason: string;
  source: string;
  /** --mic: the microphone in the mix (absent without --mic). */
  mic?: MicStatus;
}

/**
 * Owns the native audio session (PulseAudio capture → Opus → RTP). The session reconnects to
 * the sound server by itself; this bridge turns its states into status and metrics.
 */
export class AudioBridge {
  readonly #session: AudioSession;
  #status: AudioStatus;

  static start(options: AudioBridgeOptions): AudioBridge {
    return new AudioBridge(options);
  }

  private constructor(options: AudioBridgeOptions) {
    this.#status = { state: 'connecting', reason: 'connecting to the sound server', source: options.source };
    const { AudioSession } = loadNativeAddon();
    this.#session = new AudioSession({
      source: options.source,
      server: options.server,
      cookieFile: options.cookieFile,
      bitrateKbps: options.bitrateKbps,
      destinationHost: options.destination.host,
      destinationPort: options.destination.port,
      ssrc: options.ssrc,
      payloadType: options.payloadType,
      cname: options.cname,
      onEvent: (event) => this.#onEvent(event),
    });
    this.#session.start();
    this.#publish();
  }

  get status(): AudioStatus {
    return { ...this.#status };
  }

  setDestination(host: string, port: number): void {
    this.#session.setDestination(host, port);
  }

  stop(): void {
    this.#session.stop();
    this.#status = { ...this.#status, state: 'off', reason: 'stopped' };
    this.#publish();
  }

  #onEvent(event: NativeAudioEvent): void {
    switch (event.type) {
      case 'state':
        if (event.state === 'connected') log.info(`capturing ${event.source || 'the default sink monitor'}`);
        else if (event.state === 'disconnected') log.warn(`audio disconnected: ${event.reason}`);
        this.#status = { state: event.state, reason: event.reason, source: event.source };
        this.#publish();
        break;
      case 'stats':
        audioMetrics.bytesSent.set(event.bytesSent);
        break;
      case 'log':
        (event.level === 'warn' ? log.warn : log.info)(event.message);
        break;
    }
  }

  #publish(): void {
    audioMetrics.up.set(this.#status.state === 'connected' ? 1 : 0);
    audioMetrics.state.reset();
    audioMetrics.state.set({ state: this.#status.state }, 1);
  }
}
