import { randomInt } from 'node:crypto';
import type { ModuleHealth } from '../health/health.js';
import type { MediaCluster } from '../media/MediaCluster.js';
import { createLogger } from '../util/logger.js';
import { AudioBridge, type AudioStatus } from './AudioBridge.js';
import { MicMixer } from './MicMixer.js';
import type { PulseConnection } from './pactl.js';
import { PerAppAudioRouter } from './PerAppAudioRouter.js';

const log = createLogger('audio');

/** RTP payload type of the Opus stream into its PlainTransport (any dynamic PT works). */
const AUDIO_PAYLOAD_TYPE = 111;

export interface AudioModuleOptions {
  enabled: boolean;
  /** --audio-source; '' = the default sink's monitor (or the embedded sound server's). */
  source: string;
  /** --audio-app; '' = the whole desktop. */
  app: string;
  bitrateKbps: number;
  /** The embedded desktop's sound server, else the one from --pulse-server / $PULSE_SERVER. */
  soundServer: PulseConnection;
  /** Capture source of the embedded sound server, when there is one. */
  embeddedSource: string | undefined;
  media: MediaCluster;
  /** Shared with the video stream so browsers lip-sync the two. */
  cname: string;
  /** --mic: the microphone to mix in ('' = the default source) and its level; undefined = no mic. */
  mic?: { source: string; volumePercent: number } | undefined;
}

/**
 * The broadcast's sound: plans what to capture (a source, or one application's streams routed
 * to a sink of deskcast's own), starts the native capture into its own ingest, and when
 * anything fails the broadcast goes on without sound and health says why.
 */
export class AudioModule {
  readonly #bridge: AudioBridge | undefined;
  readonly #router: PerAppAudioRouter | undefined;
  readonly #mixer: MicMixer | undefined;
  readonly #offReason: string;

  static async create(options: AudioModuleOptions): Promise<AudioModule> {
    if (!options.enabled) return new AudioModule(undefined, undefined, undefined, 'turned off with --no-audio');
    let router: PerAppAudioRouter | undefined;
    let mixer: MicMixer | undefined;
    try {
      if (options.app) router = await PerAppAudioRouter.create({ ...options.soundServer, appName: options.app });
      const desktopSource = router?.monitorSource ?? (options.source || (options.embeddedSource ?? ''));
      if (options.mic) {
        // The mix of sources (desktop + microphone) is what gets captured.
        mixer = await MicMixer.create({ ...options.soundServer, desktopSource, micSource: options.mic.source, micVolumePercent: options.mic.volumePercent });
      }
      const spec = { kind: 'audio' as const, ssrc: randomInt(1, 2 ** 31), payloadType: AUDIO_PAYLOAD_TYPE, cname: options.cname };
      const endpoint = await options.media.addIngest(spec);
      const bridge = AudioBridge.start({
        source: mixer?.monitorSource ?? desktopSource,
        server: options.soundServer.server ?? '',
        cookieFile: options.soundServer.cookie ?? '',
        bitrateKbps: options.bitrateKbps,
        ...spec,
        destination: endpoint,
      });
      return new AudioModule(bridge, router, mixer, '');
    } catch (err) {
      const reason = `audio could not start: ${(err as Error).message}`;
      log.error(`${reason}. The broadcast goes on without sound; fix the cause or pass --no-audio.`);
      await mixer?.close().catch(() => undefined);
      await router?.close().catch(() => undefined);
      await options.media.removeIngest('audio');
      return new AudioModule(undefined, undefined, undefined, reason);
    }
  }

  private constructor(bridge: AudioBridge | undefined, router: PerAppAudioRouter | undefined, mixer: MicMixer | undefined, offReason: string) {
    this.#bridge = bridge;
    this.#router = router;
    this.#mixer = mixer;
    this.#offReason = offReason;
  }

  get status(): AudioStatus {
    const status = this.#bridge?.status ?? { state: 'off', reason: this.#offReason, source: '' };
    return this.#mixer ? { ...status, mic: this.#mixer.mic } : status;
  }

  health(): ModuleHealth {
    const st = this.status;
    // A missing microphone degrades the sound, it does not stop it.
    if (st.state === 'connected' && st.mic?.state === 'gone') return { status: 'degraded', reason: st.mic.reason };
    if (st.state === 'connected') return { status: 'ok', reason: '' };
    if (st.state === 'off' && this.#offReason === 'turned off with --no-audio') return { status: 'off', reason: st.reason };
    if (st.state === 'connecting') return { status: 'ok', reason: '' };
    return { status: 'degraded', reason: st.reason || `audio is ${st.state}` };
  }

  /** The audio ingest moved (its worker was replaced): send there. */
  setDestination(host: string, port: number): void {
    this.#bridge?.setDestination(host, port);
  }

  async close(): Promise<void> {
    this.#bridge?.stop();
    await this.#mixer?.close();
    await this.#router?.close();
  }
}
