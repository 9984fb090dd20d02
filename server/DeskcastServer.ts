import { availableParallelism, homedir, networkInterfaces } from 'node:os';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { isRequestIn, type Notifications } from '../shared/protocol.js';
import { AudioModule } from './audio/AudioModule.js';
import type { AudioStatus } from './audio/AudioBridge.js';
import { VideoBridge, type VideoStatus } from './video/VideoBridge.js';
import { CaptureOnDemand } from './video/CaptureOnDemand.js';
import { Capacity } from './capacity/Capacity.js';
import { resolveUpstream } from './capacity/UpstreamBandwidth.js';
import type { CapacityStatus } from '../shared/protocol.js';
import { DesktopClipboard } from './control/DesktopClipboard.js';
import type { DesktopInput } from './control/DesktopInput.js';
import { RemoteControl } from './control/RemoteControl.js';
import { WaylandDesktopInput } from './control/WaylandDesktopInput.js';
import { X11DesktopInput } from './control/X11DesktopInput.js';
import { Desktop } from './desktop/Desktop.js';
import { aggregateHealth } from './health/health.js';
import { createHttpApp } from './http/httpApp.js';
import { StartupError, WebServer } from './http/WebServer.js';
import { ShutdownStack } from './lifecycle/ShutdownStack.js';
import { MediaCluster } from './media/MediaCluster.js';
import { mediaMetrics } from './media/mediaMetrics.js';
import { resolveWorkerBinary } from './media/workerBinary.js';
import type { Settings } from './settings/parseSettings.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import { CaptureDemand } from './taps/CaptureDemand.js';
import { Taps } from './taps/Taps.js';
import { tapsApi } from './taps/tapsApi.js';
import { createLogger } from './util/logger.js';
import { projectRoot } from './util/projectRoot.js';
import { generateAccessToken } from './viewers/accessToken.js';
import { AdmissionPolicy } from './viewers/AdmissionPolicy.js';
import { Audience } from './viewers/Audience.js';

const log = createLogger('server');

/** RTP payload type of the H.264 stream into its PlainTransport (any dynamic PT works). */
const VIDEO_PAYLOAD_TYPE = 102;
const VP8_PAYLOAD_TYPE = 103;

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
function viewerStatus(st: VideoStatus): Notifications['broadcast.status'] {
  return { encoder: st.encoder, width: st.width, height: st.height, fps: st.fps };
}

/**
 * Opens the desktop's input for remote control: the same desktop the capture prefers (the
 * Wayland compositor when there is one). Rejects with what failed and on which display.
 */
async function openDesktopInput(desktop: Desktop): Promise<DesktopInput> {
  const wayland = desktop.wayland && desktop.capture !== 'x11' ? desktop.wayland : undefined;
  const target = wayland ? `Wayland display ${wayland.socket}` : `X display ${desktop.display}`;
  try {
    return wayland ? await WaylandDesktopInput.open(wayland) : await X11DesktopInput.open(desktop.display);
  } catch (err) {
    throw new Error(`cannot inject input into ${target}: ${(err as Error).message}`);
  }
}

/**
 * The composition root: every module is created here, in order, with its settings and the few
 * modules it needs, and registered on one shutdown stack (closed newest first).
 */
export class DeskcastServer {
  readonly token: string;
  readonly adminToken: string;
  readonly display: string;
  readonly viewerUrl: string;
  readonly adminUrl: string;
  readonly port: number;
  readonly #media: MediaCluster;
  readonly #capture: VideoBridge;
  readonly #audio: AudioModule;
  readonly #taps: Taps;
  readonly #stack: ShutdownStack;

  static async create(options: DeskcastServerOptions): Promise<DeskcastServer> {
    const s = options.settings;
    const stack = new ShutdownStack();
    try {
      const token = s.token || generateAccessToken();
      const adminToken = s.adminToken || generateAccessToken();
      if (adminToken === token) throw new StartupError('--admin-token must differ from --token: the admin link would be the viewer link.');
      const announcedAddress = s.announcedAddress || firstExternalIPv4() || '127.0.0.1';
      // First, before the media load: the upload test must not compete with the broadcast.
      const upstream = await resolveUpstream({
        flagMbps: s.upstreamMbps,
        configDir: s.configDir,
        preflight: s.preflight,
        preflightUrl: s.preflightUrl,
        preflightSeconds: s.preflightSeconds,
        reconfigure: s.reconfigure,
      });
      (upstream.source === 'flag' || upstream.source === 'measured' ? log.info : log.warn)(upstream.detail);
      const cname = `deskcast-${randomInt(1, 2 ** 31).toString(36)}`;

      const workerCount = s.workers ?? availableParallelism();
      const desktop = stack.push(
        'desktop',
        await Desktop.create({
          display: s.display,
          capture: s.capture,
          waylandDisplay: s.waylandDisplay,
          xdgRuntimeDir: s.xdgRuntimeDir,
          output: s.output,
          embedded: s.embedded,
          keyboardLayout: s.keyboardLayout,
          embeddedSize: s.embeddedSize,
          audio: s.audio,
          demoContent: options.embeddedDemoContent ?? true,
        }),
      );
      const media = stack.push(
        'media workers',
        await MediaCluster.create({
          workerCount,
          workerBin: await resolveWorkerBinary(s.workerBin),
          announcedAddress,
          rtcPort: s.rtcPort,
        }),
      );
      const vp8 = s.codecs === 'h264,vp8' ? { ssrc: randomInt(1, 2 ** 31), payloadType: VP8_PAYLOAD_TYPE } : undefined;
      const videoSpec = { kind: 'video' as const, ssrc: randomInt(1, 2 ** 31), payloadType: VIDEO_PAYLOAD_TYPE, cname, vp8 };
      const capture = stack.push(
        'capture',
        await VideoBridge.start({
          display: desktop.display,
          capture: desktop.capture,
          waylandDisplay: desktop.wayland?.socket,
          output: desktop.wayland?.output,
          fps: s.fps,
          bitrateKbps: s.bitrate,
          keyframeIntervalSec: s.keyframeInterval,
          encoder: s.encoder,
          ...videoSpec,
          destination: await media.addIngest(videoSpec),
          newDestination: () => media.replaceIngest('video'),
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
          mic: s.mic ? { source: s.micSource, volumePercent: s.micVolume } : undefined,
        }),
      );
      media.on('ingestMoved', (endpoint) => {
        if (endpoint.kind === 'video') capture.setDestination(endpoint.host, endpoint.port);
        else audio.setDestination(endpoint.host, endpoint.port);
      });

      const admission = new AdmissionPolicy({ maxViewers: s.maxViewers });
      let capacity: Capacity | undefined = undefined;
      const audience = stack.push(
        'viewers',
        new Audience({
          media,
          admission,
          status: () => viewerStatus(capture.status),
          capacity: () => capacity!.admissionInputs(),
          beforeConsume: () => capture.whenStarted(),
        }),
      );
      capacity = stack.push(
        'capacity',
        new Capacity({
          upstream,
          admission,
          workers: workerCount,
          videoKbps: s.bitrate,
          audioKbps: s.audio ? s.audioBitrate : 0,
          probe: {
            workerCpuMs: () => media.workerCpuMs(),
            viewers: () => audience.viewerCount,
            viewerStats: () => audience.viewerStats(),
            ingestLoad: (kind) => media.ingestLoad(kind),
          },
        }),
      );
      log.info(capacity.summary());
      const capacityControl = {
        status: (): CapacityStatus => capacity.status(),
        setMaxViewers: (maxViewers: number): CapacityStatus => {
          admission.maxViewers = maxViewers;
          capacity.changed();
          return capacity.status();
        },
      };
      capture.on('statusChanged', (st) => audience.pushStatus(viewerStatus(st)));
      // Capture runs while someone watches or a tap (stream client, screenshot, recording) holds it.
      const tapDemand = new CaptureDemand();
      const onDemand = stack.push(
        'capture on demand',
        new CaptureOnDemand({
          capture,
          alwaysOn: s.alwaysOn,
          graceMs: s.idleGrace * 1000,
          watching: () => audience.viewerCount + tapDemand.count,
        }),
      );
      audience.on('viewerConnected', () => onDemand.prewarm());
      audience.on('viewersChanged', () => onDemand.update());
      tapDemand.on('changed', () => onDemand.update());
      audience.on('vp8ViewersChanged', (count) => capture.setVp8Viewers(count));

      // Under --control off the input is opened only if the admin turns control on.
      const control = stack.push(
        'remote control',
        await RemoteControl.create({
          policy: s.control,
          clipboardRead: s.clipboardRead,
          openInput: () => openDesktopInput(desktop),
          clipboard: new DesktopClipboard(desktop.display),
          screenSize: () => capture.status,
          audience,
          capacity: capacityControl,
        }),
      );

      const taps = stack.push(
        'taps',
        await Taps.create({
          media,
          capture,
          demand: tapDemand,
          viewerCount: () => audience.viewerCount,
          socketPath: s.captureSocket,
          recordDir: s.recordDir || join(homedir(), 'deskcast-recordings'),
          recordSegmentSec: s.recordSegment,
          recordMinFreeMb: s.recordMinFree,
          recordAtLaunch: s.record,
        }),
      );

      const tokens = { viewer: token, admin: adminToken };
      const app = createHttpApp({
        api: tapsApi(taps, tokens),
        tokens,
        clientDir: join(projectRoot, 'dist', 'client'),
        health: () => ({
          ...aggregateHealth({ desktop, capture, audio, control, capacity }),
          viewers: audience.viewerCount,
          maxViewers: admission.maxViewers,
          capacity: capacity.status(),
          capture: capture.status,
          audio: audio.status,
          recording: taps.recorder.current()?.name ?? null,
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
          onRequest: (viewer, request) => (isRequestIn(request, 'media') ? audience.handle(viewer, request) : control.handle(viewer, request)),
          onInput: (viewer, event) => control.onInput(viewer, event),
        }),
      );

      const origin = `https://${announcedAddress.includes(':') ? `[${announcedAddress}]` : announcedAddress}:${web.port}`;
      return new DeskcastServer({
        token,
        adminToken,
        display: desktop.wayland && desktop.capture !== 'x11' ? `wayland:${desktop.wayland.socket}` : desktop.display,
        viewerUrl: `${origin}/?t=${token}`,
        adminUrl: `${origin}/?t=${adminToken}`,
        port: web.port,
        media,
        capture,
        audio,
        taps,
        stack,
      });
    } catch (err) {
      await stack.close();
      throw err;
    }
  }

  private constructor(parts: {
    token: string;
    adminToken: string;
    display: string;
    viewerUrl: string;
    adminUrl: string;
    port: number;
    media: MediaCluster;
    capture: VideoBridge;
    audio: AudioModule;
    taps: Taps;
    stack: ShutdownStack;
  }) {
    this.token = parts.token;
    this.adminToken = parts.adminToken;
    this.display = parts.display;
    this.viewerUrl = parts.viewerUrl;
    this.adminUrl = parts.adminUrl;
    this.port = parts.port;
    this.#media = parts.media;
    this.#capture = parts.capture;
    this.#audio = parts.audio;
    this.#taps = parts.taps;
    this.#stack = parts.stack;
  }

  get workerPids(): number[] {
    return this.#media.workerPids;
  }

  /** CPU ms each mediasoup worker has used (mediasoup's getResourceUsage), by worker index. */
  workerCpuMs(): Promise<number[]> {
    return this.#media.workerCpuMs();
  }

  get captureStatus(): VideoStatus {
    return this.#capture.status;
  }

  get audioStatus(): AudioStatus {
    return this.#audio.status;
  }

  /** Screenshots, the raw stream and recordings (the capture-bridge socket and /api use it). */
  get taps(): Taps {
    return this.#taps;
  }

  close(): Promise<void> {
    return this.#stack.close();
  }
}
