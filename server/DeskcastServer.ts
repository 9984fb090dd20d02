import { createServer, type Server as HttpsServer } from 'node:https';
import { availableParallelism, networkInterfaces } from 'node:os';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Settings } from './settings/parseSettings.js';
import { VideoBridge, type VideoBridge as CaptureBridge, type VideoStatus as CaptureStatus } from './video/VideoBridge.js';
import { EmbeddedDesktop } from './capture/EmbeddedDesktop.js';
import { ViewerCapacity } from './capacity/ViewerCapacity.js';
import { generateAccessToken } from './http/accessToken.js';
import { loadCertificate, selfSignedCertificate } from './http/certificates.js';
import { createHttpApp } from './http/httpApp.js';
import { MediaCluster } from './media/MediaCluster.js';
import { mediaMetrics } from './media/mediaMetrics.js';
import { resolveWorkerBinary } from './media/workerBinary.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import type { SignalingNotifications } from '../shared/protocol.js';
import { createLogger } from './util/logger.js';
import { projectRoot } from './util/projectRoot.js';
import { AudioBridge, type AudioStatus } from './audio/AudioBridge.js';
import { EmbeddedPulseAudio } from './audio/EmbeddedPulseAudio.js';
import { PerAppAudioRouter } from './audio/PerAppAudioRouter.js';
import type { PulseConnection } from './audio/pactl.js';

const log = createLogger('server');

/** RTP payload types the addon uses into the PlainTransports (any dynamic PT works). */
const VIDEO_PAYLOAD_TYPE = 102;
const AUDIO_PAYLOAD_TYPE = 111;

export interface DeskcastServerOptions {
  settings: Settings;
  /** Demo content on the embedded desktop (clock, top). Tests that paint turn it off. */
  embeddedDemoContent?: boolean;
}

export class StartupError extends Error {
  override name = 'StartupError';
}

function firstExternalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** The part of the capture status viewers see (encoder, size, fps). */
function viewerStatus(st: CaptureStatus): SignalingNotifications['status'] {
  return { encoder: st.encoder, width: st.width, height: st.height, fps: st.fps };
}

/** What audio needs from the sound server: where to connect and what to capture. */
interface AudioPlan {
  connection: PulseConnection;
  source: string;
  router?: PerAppAudioRouter;
}

/** The whole broadcast: display, capture, media workers, HTTPS + signaling. */
export class DeskcastServer {
  readonly token: string;
  readonly display: string;
  readonly viewerUrl: string;
  readonly port: number;
  readonly #media: MediaCluster;
  readonly #capture: CaptureBridge;
  readonly #audioStatus: () => AudioStatus;
  readonly #https: HttpsServer;
  readonly #signaling: SignalingServer;
  /** Stops what create() started (desktop, sound server, capture, workers, ...), newest first. */
  readonly #cleanups: (() => unknown)[];
  #closed = false;

  static async create(options: DeskcastServerOptions): Promise<DeskcastServer> {
    const s = options.settings;
    const token = s.token || generateAccessToken();
    const announcedAddress = s.announcedAddress || firstExternalIPv4() || '127.0.0.1';
    const workerCount = s.workers ?? availableParallelism();
    const cleanups: (() => unknown)[] = [];
    try {
      let desktop: EmbeddedDesktop | undefined;
      let pulse: EmbeddedPulseAudio | undefined;
      let display = s.display || process.env['DISPLAY'] || '';
      if (!display) {
        log.info('no --display and no $DISPLAY: starting an embedded Xvfb desktop');
        if (s.audio) {
          // Its own sound server too, with a chime on it, so a fresh machine hears something.
          pulse = await EmbeddedPulseAudio.create({ testSound: options.embeddedDemoContent === false ? 'none' : 'chime' });
          const startedPulse = pulse;
          cleanups.push(() => startedPulse.stop());
        }
        desktop = await EmbeddedDesktop.create({
          ...s.embeddedSize,
          withDemoContent: options.embeddedDemoContent ?? true,
          env: pulse?.env ?? {},
        });
        const startedDesktop = desktop;
        cleanups.push(() => startedDesktop.stop());
        display = desktop.display;
      }

      const media = await MediaCluster.create({
        workerCount,
        workerBin: await resolveWorkerBinary(),
        announcedAddress,
        rtcPort: s.rtcPort,
      });
      cleanups.push(() => media.close());

      const cname = `deskcast-${randomInt(1, 2 ** 31).toString(36)}`;
      const videoSpec = { kind: 'video' as const, ssrc: randomInt(1, 2 ** 31), payloadType: VIDEO_PAYLOAD_TYPE, cname };
      const videoEndpoint = await media.addIngest(videoSpec);
      const capture = await VideoBridge.start({
        display,
        fps: s.fps,
        bitrateKbps: s.bitrate,
        keyframeIntervalSec: s.keyframeInterval,
        encoder: s.encoder,
        cname,
        ssrc: videoSpec.ssrc,
        payloadType: videoSpec.payloadType,
        destination: videoEndpoint,
      });
      cleanups.push(() => capture.stop());

      let audio: AudioBridge | undefined;
      let audioRouter: PerAppAudioRouter | undefined;
      let audioOffReason = 'turned off with --no-audio';
      if (s.audio) {
        try {
          const plan = await DeskcastServer.#planAudio(s, pulse);
          audioRouter = plan.router;
          if (audioRouter) cleanups.push(() => audioRouter?.close());
          const audioSpec = { kind: 'audio' as const, ssrc: randomInt(1, 2 ** 31), payloadType: AUDIO_PAYLOAD_TYPE, cname };
          const audioEndpoint = await media.addIngest(audioSpec);
          audio = AudioBridge.start({
            source: plan.source,
            server: plan.connection.server ?? '',
            bitrateKbps: s.audioBitrate,
            cname,
            ssrc: audioSpec.ssrc,
            payloadType: audioSpec.payloadType,
            destination: audioEndpoint,
          });
          const startedAudio = audio;
          cleanups.push(() => startedAudio.stop());
        } catch (err) {
          audioOffReason = `audio could not start: ${(err as Error).message}`;
          log.error(`${audioOffReason}. The broadcast goes on without sound; fix the cause or pass --no-audio.`);
          await media.removeIngest('audio');
        }
      }
      media.on('ingestMoved', (endpoint) => {
        if (endpoint.kind === 'video') capture.setDestination(endpoint.host, endpoint.port);
        else audio?.setDestination(endpoint.host, endpoint.port);
      });
      const audioStatus = (): AudioStatus => audio?.status ?? { state: 'off', reason: audioOffReason, source: '' };

      const tls = s.tlsCert
        ? await loadCertificate(s.tlsCert, s.tlsKey)
        : await selfSignedCertificate(join(projectRoot, 'certs'), [announcedAddress]);
      log.info(`TLS certificate: ${tls.origin}`);

      const capacity = new ViewerCapacity(s.maxViewers);
      let signaling: SignalingServer | undefined;
      const app = createHttpApp({
        token,
        clientDir: join(projectRoot, 'dist', 'client'),
        health: () => ({
          viewers: signaling?.viewerCount ?? 0,
          maxViewers: capacity.maxViewers,
          capture: capture.status,
          audio: audioStatus(),
          workers: media.workerPids.length,
        }),
        beforeMetrics: async () => {
          if (signaling) mediaMetrics.bytesSent.set(await signaling.bytesSent());
        },
      });
      const https = createServer({ cert: tls.cert, key: tls.key }, app);
      cleanups.push(() => new Promise<void>((resolve) => https.close(() => resolve())));
      signaling = SignalingServer.create({
        httpsServer: https,
        token,
        media,
        capacity,
        status: () => viewerStatus(capture.status),
      });
      const liveSignaling = signaling;
      capture.on('statusChanged', (st) => liveSignaling.pushStatus(viewerStatus(st)));

      await new Promise<void>((resolve, reject) => {
        https.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            new StartupError(
              err.code === 'EADDRINUSE'
                ? `Port ${s.port} is already in use on ${s.bind}. Stop the other program or pick another port with --port.`
                : `Cannot listen on ${s.bind}:${s.port}: ${err.message}`,
            ),
          ),
        );
        https.listen(s.port, s.bind, () => resolve());
      });
      const address = https.address();
      const port = typeof address === 'object' && address ? address.port : s.port;
      const viewerHost = announcedAddress.includes(':') ? `[${announcedAddress}]` : announcedAddress;
      return new DeskcastServer({
        token,
        display,
        viewerUrl: `https://${viewerHost}:${port}/?t=${token}`,
        port,
        media,
        capture,
        audioStatus,
        https,
        signaling,
        cleanups,
      });
    } catch (err) {
      for (const cleanup of cleanups.reverse()) await cleanup();
      throw err;
    }
  }

  /** Which sound server to use and what to capture from it (--audio-source, --audio-app). */
  static async #planAudio(s: Settings, pulse: EmbeddedPulseAudio | undefined): Promise<AudioPlan> {
    const connection: PulseConnection = pulse?.connection ?? {};
    if (s.audioApp) {
      const router = await PerAppAudioRouter.create({ ...connection, appName: s.audioApp });
      return { connection, source: router.monitorSource, router };
    }
    return { connection, source: s.audioSource || (pulse?.monitorSource ?? '') };
  }

  private constructor(parts: {
    token: string;
    display: string;
    viewerUrl: string;
    port: number;
    media: MediaCluster;
    capture: CaptureBridge;
    audioStatus: () => AudioStatus;
    https: HttpsServer;
    signaling: SignalingServer;
    cleanups: (() => unknown)[];
  }) {
    this.token = parts.token;
    this.display = parts.display;
    this.viewerUrl = parts.viewerUrl;
    this.port = parts.port;
    this.#media = parts.media;
    this.#capture = parts.capture;
    this.#audioStatus = parts.audioStatus;
    this.#https = parts.https;
    this.#signaling = parts.signaling;
    this.#cleanups = parts.cleanups;
  }

  get workerPids(): number[] {
    return this.#media.workerPids;
  }

  get captureStatus(): CaptureBridge['status'] {
    return this.#capture.status;
  }

  get audioStatus(): AudioStatus {
    return this.#audioStatus();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#signaling.close();
    this.#https.closeAllConnections();
    for (const cleanup of this.#cleanups.reverse()) await cleanup();
  }
}
