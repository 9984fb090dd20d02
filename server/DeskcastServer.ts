import { availableParallelism, networkInterfaces } from 'node:os';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Notifications } from '../shared/protocol.js';
import { AudioModule } from './audio/AudioModule.js';
import type { AudioStatus } from './audio/AudioBridge.js';
import { CaptureBridge, type CaptureStatus } from './capture/CaptureBridge.js';
import { Desktop } from './desktop/Desktop.js';
import { aggregateHealth } from './health/health.js';
import { createHttpApp } from './http/httpApp.js';
import { WebServer } from './http/WebServer.js';
import { ShutdownStack } from './lifecycle/ShutdownStack.js';
import { MediaCluster } from './media/MediaCluster.js';
import { mediaMetrics } from './media/mediaMetrics.js';
import { resolveWorkerBinary } from './media/workerBinary.js';
import type { Settings } from './settings/parseSettings.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import { projectRoot } from './util/projectRoot.js';
import { generateAccessToken } from './viewers/accessToken.js';
import { AdmissionPolicy } from './viewers/AdmissionPolicy.js';
import { Audience } from './viewers/Audience.js';

/** RTP payload type of the H.264 stream into its PlainTransport (any dynamic PT works). */
const VIDEO_PAYLOAD_TYPE = 102;

export interface DeskcastServerOptions {
  settings: Settings;
  /** Demo content on the embedded desktop (clock, top, chime). Tests that paint turn it off. */
  embeddedDemoContent?: boolean;
}

function firstExternalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** The part of the capture status viewers see (encoder, size, fps). */
function viewerStatus(st: CaptureStatus): Notifications['broadcast.status'] {
  return { encoder: st.encoder, width: st.width, height: st.height, fps: st.fps };
}

/**
 * The composition root: every module is created here, in order, with its settings and the few
 * modules it needs, and registered on one shutdown stack (closed newest first).
 */
export class DeskcastServer {
  readonly token: string;
  readonly display: string;
  readonly viewerUrl: string;
  readonly port: number;
  readonly #media: MediaCluster;
  readonly #capture: CaptureBridge;
  readonly #audio: AudioModule;
  readonly #stack: ShutdownStack;

  static async create(options: DeskcastServerOptions): Promise<DeskcastServer> {
    const s = options.settings;
    const stack = new ShutdownStack();
    try {
      const token = s.token || generateAccessToken();
      const announcedAddress = s.announcedAddress || firstExternalIPv4() || '127.0.0.1';
      const cname = `deskcast-${randomInt(1, 2 ** 31).toString(36)}`;

      const desktop = stack.push(
        'desktop',
        await Desktop.create({ display: s.display, embeddedSize: s.embeddedSize, audio: s.audio, demoContent: options.embeddedDemoContent ?? true }),
      );
      const media = stack.push(
        'media workers',
        await MediaCluster.create({
          workerCount: s.workers ?? availableParallelism(),
          workerBin: await resolveWorkerBinary(s.workerBin),
          announcedAddress,
          rtcPort: s.rtcPort,
        }),
      );
      const videoSpec = { kind: 'video' as const, ssrc: randomInt(1, 2 ** 31), payloadType: VIDEO_PAYLOAD_TYPE, cname };
      const capture = stack.push(
        'capture',
        CaptureBridge.start({
          display: desktop.display,
          fps: s.fps,
          bitrateKbps: s.bitrate,
          keyframeIntervalSec: s.keyframeInterval,
          encoder: s.encoder,
          ...videoSpec,
          destination: await media.addIngest(videoSpec),
        }),
      );
      const audio = stack.push(
        'audio',
        await AudioModule.create({
          enabled: s.audio,
          source: s.audioSource,
          app: s.audioApp,
          bitrateKbps: s.audioBitrate,
          soundServer: desktop.soundServer ?? { server: s.pulseServer || undefined, cookie: s.pulseCookie || undefined },
          embeddedSource: desktop.soundSource,
          media,
          cname,
        }),
      );
      media.on('ingestMoved', (endpoint) => {
        if (endpoint.kind === 'video') capture.setDestination(endpoint.host, endpoint.port);
        else audio.setDestination(endpoint.host, endpoint.port);
      });

      const admission = new AdmissionPolicy({ maxViewers: s.maxViewers });
      const audience = stack.push('viewers', new Audience({ media, admission, status: () => viewerStatus(capture.status) }));
      capture.on('statusChanged', (st) => audience.pushStatus(viewerStatus(st)));

      const tokens = { viewer: token, admin: '' };
      const app = createHttpApp({
        tokens,
        clientDir: join(projectRoot, 'dist', 'client'),
        health: () => ({
          ...aggregateHealth({ desktop, capture, audio }),
          viewers: audience.viewerCount,
          maxViewers: admission.maxViewers,
          capture: capture.status,
          audio: audio.status,
          workers: media.workerPids.length,
        }),
        beforeMetrics: async () => {
          mediaMetrics.bytesSent.set(await audience.bytesSent());
        },
      });
      const web = stack.push(
        'https',
        await WebServer.create({ port: s.port, bind: s.bind, tlsCert: s.tlsCert, tlsKey: s.tlsKey, announcedAddress, app }),
      );
      stack.push(
        'signaling',
        SignalingServer.create({
          httpsServer: web.https,
          tokens,
          onConnection: (connection, role) => audience.connect(connection, role),
          onRequest: (viewer, request) => audience.handle(viewer, request),
        }),
      );

      const viewerHost = announcedAddress.includes(':') ? `[${announcedAddress}]` : announcedAddress;
      return new DeskcastServer({
        token,
        display: desktop.display,
        viewerUrl: `https://${viewerHost}:${web.port}/?t=${token}`,
        port: web.port,
        media,
        capture,
        audio,
        stack,
      });
    } catch (err) {
      await stack.close();
      throw err;
    }
  }

  private constructor(parts: {
    token: string;
    display: string;
    viewerUrl: string;
    port: number;
    media: MediaCluster;
    capture: CaptureBridge;
    audio: AudioModule;
    stack: ShutdownStack;
  }) {
    this.token = parts.token;
    this.display = parts.display;
    this.viewerUrl = parts.viewerUrl;
    this.port = parts.port;
    this.#media = parts.media;
    this.#capture = parts.capture;
    this.#audio = parts.audio;
    this.#stack = parts.stack;
  }

  get workerPids(): number[] {
    return this.#media.workerPids;
  }

  get captureStatus(): CaptureStatus {
    return this.#capture.status;
  }

  get audioStatus(): AudioStatus {
    return this.#audio.status;
  }

  close(): Promise<void> {
    return this.#stack.close();
  }
}
