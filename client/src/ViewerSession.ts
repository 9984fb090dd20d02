import { Device } from 'mediasoup-client';
import type { types as msc } from 'mediasoup-client';
import { SignalingClient, SignalingRequestError } from './SignalingClient';
import type { ErrorCode, Notifications, Role } from '../../shared/protocol';

/** `full`: the host has no place now; the page keeps trying and joins when one frees. */
export type ViewerState = 'connecting' | 'live' | 'reconnecting' | 'full' | 'refused' | 'error';

export interface ViewerSessionEvents {
  state: (state: ViewerState, message: string) => void;
  stream: (stream: MediaStream) => void;
  status: (status: Notifications['broadcast.status']) => void;
  /** The role the link's token gives (known after joining). */
  role: (role: Role) => void;
}

/** How the page introduces itself in the admin's list: the browser and platform, briefly. */
function clientName(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\/(\d+)/.exec(ua)?.[0] ?? /Chrom(e|ium)\/(\d+)/.exec(ua)?.[0] ?? /Version\/(\d+).*Safari/.exec(ua)?.[0] ?? 'browser';
  return `${browser} on ${navigator.platform || 'unknown'}`.slice(0, 100);
}

/** How long ICE may stay "disconnected" before the media path is rebuilt. */
const DISCONNECTED_GRACE_MS = 4000;
const REJOIN_DELAY_MS = 1000;
/** While the host is full, ask again this often. */
const FULL_RETRY_MS = 3000;

/**
 * One viewer's connection: join, one receive transport, consumers for every stream.
 * Rebuilds itself when the socket reconnects, the server resets media, or ICE fails.
 */
export class ViewerSession {
  readonly signaling: SignalingClient;
  readonly #events: ViewerSessionEvents;
  readonly #stream = new MediaStream();
  #transport: msc.Transport | undefined;
  #consumers: msc.Consumer[] = [];
  #generation = 0;
  #refused = false;
  #disconnectedTimer: number | undefined;

  constructor(token: string, events: ViewerSessionEvents) {
    this.#events = events;
    this.signaling = new SignalingClient(token);
    const socket = this.signaling.socket;
    socket.on('connect', () => void this.#setup());
    socket.on('disconnect', () => {
      if (this.#refused) return;
      this.#teardown();
      this.#events.state('reconnecting', 'Connection to the server lost. Reconnecting…');
    });
    socket.on('connect_error', (err: Error & { data?: { code?: ErrorCode } }) => {
      if (err.data?.code === 'wrong-token') {
        this.#refuse(err.message);
        return;
      }
      this.#events.state('reconnecting', `Cannot reach the server (${err.message}). Retrying…`);
    });
    socket.on('media.reset', ({ reason }) => {
      this.#events.state('reconnecting', reason);
      this.#teardown();
      void this.#setup();
    });
    socket.on('broadcast.status', (status) => this.#events.status(status));
    socket.on('session.kicked', ({ reason }) => this.#refuse(reason));
  }

  /** Stats of the video receiver and the transport (for the overlay). */
  async stats(): Promise<RTCStatsReport | undefined> {
    return this.#transport && !this.#transport.closed ? this.#transport.getStats() : undefined;
  }

  /**
   * Capture → playout delay of the latest video frame, ms: the abs-capture-time the server
   * stamps on each frame against the time the browser played that frame out. Undefined
   * until the browser reports a capture timestamp (abs-capture-time negotiated).
   */
  captureToPlayoutMs(): number | undefined {
    const video = this.#consumers.find((c) => c.kind === 'video' && !c.closed);
    const sources = video?.rtpReceiver?.getSynchronizationSources() as (RTCRtpSynchronizationSource & { captureTimestamp?: number; senderCaptureTimeOffset?: number })[] | undefined;
    const latest = sources?.[0];
    if (latest?.captureTimestamp === undefined) return undefined;
    // captureTimestamp: NTP ms (since 1900) in the capture clock; timestamp: Unix ms of playout.
    const captureUnixMs = latest.captureTimestamp - (latest.senderCaptureTimeOffset ?? 0) - 2_208_988_800_000;
    return latest.timestamp - captureUnixMs;
  }

  #refuse(message: string): void {
    this.#refused = true;
    this.signaling.socket.disconnect();
    this.#teardown();
    this.#events.state('refused', message);
  }

  async #setup(waiting = false): Promise<void> {
    const generation = ++this.#generation;
    const stale = (): boolean => generation !== this.#generation;
    try {
      if (!waiting) this.#events.state('connecting', 'Joining the broadcast…');
      const { routerRtpCapabilities, role } = await this.signaling.request('media.join', { clientName: clientName() });
      this.#events.role(role);
      const device = new Device();
      await device.load({ routerRtpCapabilities });
      const params = await this.signaling.request('media.createTransport', {});
      if (stale()) return;
      const transport = device.createRecvTransport({
        id: params.transportId,
        iceParameters: params.iceParameters,
        iceCandidates: params.iceCandidates,
        dtlsParameters: params.dtlsParameters,
      });
      this.#transport = transport;
      transport.on('connect', ({ dtlsParameters }, callback, errback) => {
        this.signaling
          .request('media.connectTransport', { transportId: transport.id, dtlsParameters })
          .then(() => callback(), (err: Error) => errback(err));
      });
      transport.on('connectionstatechange', (state) => this.#onConnectionState(generation, state));

      const { consumers } = await this.signaling.request('media.consume', {
        transportId: transport.id,
        rtpCapabilities: withAbsCaptureTime(device.recvRtpCapabilities, routerRtpCapabilities),
      });
      for (const description of consumers) {
        const consumer = await transport.consume({
          id: description.consumerId,
          producerId: description.producerId,
          kind: description.kind,
          rtpParameters: description.rtpParameters,
        });
        if (stale()) return;
        // Low-latency playout: ask the jitter buffer to hold as little as it can.
        const receiver = consumer.rtpReceiver as (RTCRtpReceiver & { jitterBufferTarget?: number | null; playoutDelayHint?: number }) | undefined;
        if (receiver) {
          if ('jitterBufferTarget' in receiver) receiver.jitterBufferTarget = 0;
          receiver.playoutDelayHint = 0;
        }
        this.#consumers.push(consumer);
        for (const old of this.#stream.getTracks().filter((t) => t.kind === consumer.kind)) this.#stream.removeTrack(old);
        this.#stream.addTrack(consumer.track);
        await this.signaling.request('media.resumeConsumer', { consumerId: consumer.id });
      }
      if (stale()) return;
      this.#events.stream(this.#stream);
      this.#events.state('live', 'Live');
    } catch (err) {
      if (stale()) return;
      if (err instanceof SignalingRequestError && err.code === 'unsupported') {
        this.#refuse(err.message);
        return;
      }
      if (err instanceof SignalingRequestError && err.code === 'full') {
        // Not terminal: stay connected, say so, and ask again until a place frees.
        this.#events.state('full', err.message);
        this.#teardown();
        const waitGeneration = this.#generation;
        window.setTimeout(() => {
          if (waitGeneration === this.#generation && this.signaling.socket.connected) void this.#setup(true);
        }, FULL_RETRY_MS);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.#events.state('error', `${message} Retrying…`);
      this.#teardown();
      const retryGeneration = this.#generation; // any newer setup makes this retry moot
      window.setTimeout(() => {
        if (retryGeneration === this.#generation && this.signaling.socket.connected) void this.#setup();
      }, REJOIN_DELAY_MS);
    }
  }

  #onConnectionState(generation: number, state: RTCPeerConnectionState): void {
    if (generation !== this.#generation) return;
    window.clearTimeout(this.#disconnectedTimer);
    if (state === 'connected') {
      this.#events.state('live', 'Live');
    } else if (state === 'disconnected') {
      this.#events.state('reconnecting', 'Media connection interrupted…');
      this.#disconnectedTimer = window.setTimeout(() => this.#rebuild(generation), DISCONNECTED_GRACE_MS);
    } else if (state === 'failed') {
      this.#rebuild(generation);
    }
  }

  #rebuild(generation: number): void {
    if (generation !== this.#generation || !this.signaling.socket.connected) return;
    this.#teardown();
    void this.#setup();
  }

  #teardown(): void {
    this.#generation++;
    window.clearTimeout(this.#disconnectedTimer);
    for (const c of this.#consumers) c.close();
    this.#consumers = [];
    this.#transport?.close();
    this.#transport = undefined;
  }
}

const ABS_CAPTURE_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';

/**
 * Chrome receives abs-capture-time (and then reports each frame's capture time in
 * getSynchronizationSources() and requestVideoFrameCallback) but does not list it in the
 * offer mediasoup-client derives capabilities from: ask for it when the router has it.
 */
function withAbsCaptureTime(caps: msc.RtpCapabilities, router: msc.RtpCapabilities): msc.RtpCapabilities {
  const ext = router.headerExtensions?.find((e) => e.uri === ABS_CAPTURE_TIME && e.kind === 'video');
  if (!ext || caps.headerExtensions?.some((e) => e.uri === ABS_CAPTURE_TIME && e.kind === 'video')) return caps;
  return { ...caps, headerExtensions: [...(caps.headerExtensions ?? []), ext] };
}
