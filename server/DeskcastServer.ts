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
import { DesktopClipboard } from './control/DesktopClipboard.js';
import { describeDesktop, openDesktopInput } from './control/openDesktopInput.js';
import { RemoteControl } from './control/RemoteControl.js';
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
 * The composition root: every module is created here, in order, with its settings and the few
 * modules it needs, and registered on one shutdown stack (closed newest first).
 */
export class DeskcastServer {
  readonly token: string;
  readonly adminToken: string;
  /** The X display captured, or `wayland:<socket>` for a compositor. */
  readonly display: string;
  /** "X display :1" / "Wayland display /run/user/1000/wayland-1", for the log. */
  readonly desktopName: string;
  readonly viewerUrl: string;
  readonly adminUrl: string;
  readonly port: number;
  readonly #media: MediaCluster;
  readonly #video: VideoBridge;
  readonly #audio: AudioModule;
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
      const video = stack.push(
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
        if (endpoint.kind === 'video') video.setDestination(endpoint.host, endpoint.port);
        else audio.setDestination(endpoint.host, endpoint.port);
      });

      const admission = new AdmissionPolicy({ maxViewers: s.maxViewers });
      const audience = stack.push(
        'viewers',
        new Audience({ media, admission, status: () => viewerStatus(video.status), beforeConsume: () => video.whenStarted() }),
      );
      video.on('statusChanged', (st) => audience.pushStatus(viewerStatus(st)));
      audience.on('vp8ViewersChanged', (count) => video.setVp8Viewers(count));
      audience.on('keyframeNeeded', () => video.requestKeyframe());
      const capacity = stack.push(
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

      // Capture runs while someone watches or a tap (stream client, screenshot, recording) holds it.
      const tapDemand = new CaptureDemand();
      const onDemand = stack.push(
        'capture on demand',
        new CaptureOnDemand({ capture: video, alwaysOn: s.alwaysOn, graceMs: s.idleGrace * 1000, watching: () => audience.viewerCount + tapDemand.count }),
      );
      audience.on('viewerConnected', () => onDemand.prewarm());
      audience.on('viewersChanged', () => onDemand.update());
      tapDemand.on('changed', () => onDemand.update());

      // Input goes to the desktop the capture reached; under --control off it is opened only if
      // the admin turns control on.
      const captured = desktop.captured(video.status.backend);
      const control = stack.push(
        'remote control',
        await RemoteControl.create({
          policy: s.control,
          clipboardRead: s.clipboardRead,
          openInput: () => openDesktopInput(captured),
          clipboard: new DesktopClipboard(desktop.display),
          screenSize: () => video.status,
          audience,
          capacity,
        }),
      );

      const taps = stack.push(
        'taps',
        await Taps.create({
          media,
          capture: video,
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
          ...aggregateHealth({ desktop, capture: video, audio, control, capacity }),
          viewers: audience.viewerCount,
          maxViewers: admission.maxViewers,
          capacity: capacity.status(),
          capture: video.status,
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
        display: captured.kind === 'wayland' ? `wayland:${captured.wayland.socket}` : captured.display,
        desktopName: describeDesktop(captured),
        viewerUrl: `${origin}/?t=${token}`,
        adminUrl: `${origin}/?t=${adminToken}`,
        port: web.port,
        media,
        video,
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
    adminToken: string;
    display: string;
    desktopName: string;
    viewerUrl: string;
    adminUrl: string;
    port: number;
    media: MediaCluster;
    video: VideoBridge;
    audio: AudioModule;
    stack: ShutdownStack;
  }) {
    this.token = parts.token;
    this.adminToken = parts.adminToken;
    this.display = parts.display;
    this.desktopName = parts.desktopName;
    this.viewerUrl = parts.viewerUrl;
    this.adminUrl = parts.adminUrl;
    this.port = parts.port;
    this.#media = parts.media;
    this.#video = parts.video;
    this.#audio = parts.audio;
    this.#stack = parts.stack;
  }

  // Read-outs for tests and benchmarks (the running server reports through /healthz and /metrics).

  /** For tests: the mediasoup worker PIDs, by worker index. */
  get workerPids(): number[] {
    return this.#media.workerPids;
  }

  /** For benchmarks: CPU ms each mediasoup worker has used (mediasoup's getResourceUsage), by worker index. */
  workerCpuMs(): Promise<number[]> {
    return this.#media.workerCpuMs();
  }

  /** For tests: the video pipeline's state, as /healthz reports it. */
  get captureStatus(): VideoStatus {
    return this.#video.status;
  }

  /** For tests: the audio pipeline's state, as /healthz reports it. */
  get audioStatus(): AudioStatus {
    return this.#audio.status;
  }

  close(): Promise<void> {
    return this.#stack.close();
  }
}
