import { createServer, type Server as HttpsServer } from 'node:https';
import { availableParallelism, networkInterfaces } from 'node:os';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Settings } from './settings/parseSettings.js';
import { CaptureBridge } from './capture/CaptureBridge.js';
import { EmbeddedDesktop } from './capture/EmbeddedDesktop.js';
import { ViewerCapacity } from './capacity/ViewerCapacity.js';
import { generateAccessToken } from './http/accessToken.js';
import { loadCertificate, selfSignedCertificate } from './http/certificates.js';
import { createHttpApp } from './http/httpApp.js';
import { MediaCluster } from './media/MediaCluster.js';
import { mediaMetrics } from './media/mediaMetrics.js';
import { resolveWorkerBinary } from './media/workerBinary.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import { createLogger } from './util/logger.js';
import { projectRoot } from './util/projectRoot.js';

const log = createLogger('server');

/** RTP payload type the addon uses for H.264 into the PlainTransport (any dynamic PT works). */
const VIDEO_PAYLOAD_TYPE = 102;

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

/** The whole broadcast: display, capture, media workers, HTTPS + signaling. */
export class DeskcastServer {
  readonly token: string;
  readonly display: string;
  readonly viewerUrl: string;
  readonly port: number;
  readonly #desktop: EmbeddedDesktop | undefined;
  readonly #media: MediaCluster;
  readonly #capture: CaptureBridge;
  readonly #https: HttpsServer;
  readonly #signaling: SignalingServer;
  #closed = false;

  static async create(options: DeskcastServerOptions): Promise<DeskcastServer> {
    const s = options.settings;
    const token = s.token || generateAccessToken();
    const announcedAddress = s.announcedAddress || firstExternalIPv4() || '127.0.0.1';
    const workerCount = s.workers ?? availableParallelism();
    const cleanups: (() => void)[] = [];
    try {
      let desktop: EmbeddedDesktop | undefined;
      let display = s.display || process.env['DISPLAY'] || '';
      if (!display) {
        log.info('no --display and no $DISPLAY: starting an embedded Xvfb desktop');
        desktop = await EmbeddedDesktop.create({ ...s.embeddedSize, withDemoContent: options.embeddedDemoContent ?? true });
        cleanups.push(() => desktop?.stop());
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
      const capture = CaptureBridge.start({
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
      media.on('ingestMoved', (endpoint) => {
        if (endpoint.kind === 'video') capture.setDestination(endpoint.host, endpoint.port);
      });

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
          workers: media.workerPids.length,
        }),
        beforeMetrics: async () => {
          if (signaling) mediaMetrics.bytesSent.set(await signaling.bytesSent());
        },
      });
      const https = createServer({ cert: tls.cert, key: tls.key }, app);
      cleanups.push(() => https.close());
      signaling = SignalingServer.create({
        httpsServer: https,
        token,
        media,
        capacity,
        status: () => {
          const st = capture.status;
          return { encoder: st.encoder, width: st.width, height: st.height, fps: st.fps };
        },
      });
      const liveSignaling = signaling;
      capture.on('statusChanged', (st) => liveSignaling.pushStatus({ encoder: st.encoder, width: st.width, height: st.height, fps: st.fps }));

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
        desktop,
        media,
        capture,
        https,
        signaling,
      });
    } catch (err) {
      for (const cleanup of cleanups.reverse()) cleanup();
      throw err;
    }
  }

  private constructor(parts: {
    token: string;
    display: string;
    viewerUrl: string;
    port: number;
    desktop: EmbeddedDesktop | undefined;
    media: MediaCluster;
    capture: CaptureBridge;
    https: HttpsServer;
    signaling: SignalingServer;
  }) {
    this.token = parts.token;
    this.display = parts.display;
    this.viewerUrl = parts.viewerUrl;
    this.port = parts.port;
    this.#desktop = parts.desktop;
    this.#media = parts.media;
    this.#capture = parts.capture;
    this.#https = parts.https;
    this.#signaling = parts.signaling;
  }

  get workerPids(): number[] {
    return this.#media.workerPids;
  }

  get captureStatus(): CaptureBridge['status'] {
    return this.#capture.status;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#signaling.close();
    this.#capture.stop();
    this.#media.close();
    this.#https.closeAllConnections();
    await new Promise<void>((resolve) => this.#https.close(() => resolve()));
    this.#desktop?.stop();
  }
}
