import type { Server as HttpsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import { Server, type Socket } from 'socket.io';
import type { types as ms } from 'mediasoup';
import { MediaUnavailableError, type MediaCluster } from '../media/MediaCluster.js';
import { mediaMetrics } from '../media/mediaMetrics.js';
import type { ViewerCapacity } from '../capacity/ViewerCapacity.js';
import { createLogger } from '../util/logger.js';
import { tokenMatches } from '../http/accessToken.js';
import {
  wrongTokenMessage,
  type ClientToServerEvents,
  type ConsumerDescription,
  type ServerToClientEvents,
  type SignalingErrorCode,
  type SignalingMethod,
  type SignalingNotifications,
  type SignalingRequests,
  type SignalingResult,
} from '../../shared/protocol.js';
import { BadRequestError, validateRequest } from './validateRequest.js';
import { viewerMetrics } from './viewerMetrics.js';

const log = createLogger('signaling');

type ViewerSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** A request that fails with a code and a message for the viewer. */
class RequestError extends Error {
  constructor(
    readonly code: SignalingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Media state of one connected viewer; rebuilt when its router resets. */
interface Viewer {
  id: string;
  socket: ViewerSocket;
  slotIndex: number;
  joined: boolean;
  transport?: ms.WebRtcTransport;
  consumers: Map<string, ms.Consumer>;
}

export interface SignalingServerOptions {
  httpsServer: HttpsServer;
  token: string;
  media: MediaCluster;
  capacity: ViewerCapacity;
  /** Current broadcast status, pushed to viewers on join. */
  status: () => SignalingNotifications['status'];
}

/**
 * socket.io signaling: token check at the handshake, admission on `join`, then one
 * receive-only WebRtcTransport and paused consumers per viewer. Every payload is validated;
 * a bad one gets an error reply naming the problem.
 */
export class SignalingServer {
  readonly #io: Server<ClientToServerEvents, ServerToClientEvents>;
  readonly #options: SignalingServerOptions;
  readonly #viewers = new Map<string, Viewer>();

  static create(options: SignalingServerOptions): SignalingServer {
    return new SignalingServer(options);
  }

  private constructor(options: SignalingServerOptions) {
    this.#options = options;
    this.#io = new Server<ClientToServerEvents, ServerToClientEvents>(options.httpsServer, {
      serveClient: false,
      maxHttpBufferSize: 64 * 1024, // signaling payloads are a few kB; refuse floods
      pingInterval: 5000,
      pingTimeout: 5000,
    });
    this.#io.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      if (tokenMatches(auth?.token, options.token)) return next();
      viewerMetrics.refused.inc({ reason: 'token' });
      next(new Error(wrongTokenMessage));
    });
    this.#io.on('connection', (socket) => this.#onConnection(socket));
    options.media.on('routersReset', (slots) => this.#onRoutersReset(slots));
  }

  get viewerCount(): number {
    return [...this.#viewers.values()].filter((v) => v.joined).length;
  }

  /** Bytes sent to viewers by the transports open now. */
  async bytesSent(): Promise<number> {
    let total = 0;
    for (const viewer of this.#viewers.values()) {
      if (!viewer.transport || viewer.transport.closed) continue;
      try {
        for (const stat of await viewer.transport.getStats()) total += stat.bytesSent;
      } catch {
        // transport closed meanwhile
      }
    }
    return total;
  }

  pushStatus(status: SignalingNotifications['status']): void {
    for (const viewer of this.#viewers.values()) if (viewer.joined) viewer.socket.emit('status', status);
  }

  close(): void {
    this.#io.close();
  }

  #onConnection(socket: ViewerSocket): void {
    const viewer: Viewer = { id: randomUUID(), socket, slotIndex: 0, joined: false, consumers: new Map() };
    this.#viewers.set(viewer.id, viewer);
    log.debug(`viewer ${viewer.id} connected from ${socket.handshake.address}`);
    socket.on('request', (method, data, ack) => {
      if (typeof ack !== 'function') return; // nothing to answer to; ignore
      void this.#handle(viewer, method, data).then(ack, (err: unknown) => ack(this.#toFailure(viewer, method, err)));
    });
    socket.on('disconnect', (reason) => {
      log.debug(`viewer ${viewer.id} left (${reason})`);
      this.#closeMedia(viewer);
      this.#options.capacity.release(viewer.id);
      this.#viewers.delete(viewer.id);
      this.#updateMetrics();
    });
  }

  #toFailure(viewer: Viewer, method: unknown, err: unknown): SignalingResult<SignalingMethod> {
    if (err instanceof BadRequestError) {
      viewerMetrics.badRequests.inc();
      log.warn(`viewer ${viewer.id}: bad request: ${err.message}`);
      return { ok: false, error: { code: 'bad-request', message: err.message } };
    }
    if (err instanceof RequestError) return { ok: false, error: { code: err.code, message: err.message } };
    if (err instanceof MediaUnavailableError) return { ok: false, error: { code: 'unavailable', message: err.message } };
    log.error(`viewer ${viewer.id}: ${String(method)} failed: ${(err as Error)?.stack ?? String(err)}`);
    return { ok: false, error: { code: 'internal', message: `The server could not complete "${String(method)}": ${(err as Error)?.message ?? err}. Reload the page; if it persists, check the server log.` } };
  }

  async #handle(viewer: Viewer, rawMethod: unknown, rawData: unknown): Promise<SignalingResult<SignalingMethod>> {
    const request = validateRequest(rawMethod, rawData);
    switch (request.method) {
      case 'join':
        return { ok: true, data: this.#join(viewer) };
      case 'createTransport':
        return { ok: true, data: await this.#createTransport(viewer) };
      case 'connectTransport':
        return { ok: true, data: await this.#connectTransport(viewer, request.data) };
      case 'consume':
        return { ok: true, data: await this.#consume(viewer, request.data) };
      case 'resumeConsumer':
        return { ok: true, data: await this.#resumeConsumer(viewer, request.data) };
      default:
        return assertUnreachable(request);
    }
  }

  #join(viewer: Viewer): SignalingRequests['join']['response'] {
    const refusal = this.#options.capacity.tryAdmit(viewer.id);
    if (refusal) {
      viewerMetrics.refused.inc({ reason: refusal.reason });
      log.info(`viewer ${viewer.id} refused: ${refusal.message}`);
      throw new RequestError('full', refusal.message);
    }
    // A re-join (after a media reset) starts from a clean media state.
    this.#closeMedia(viewer);
    viewer.slotIndex = this.#leastLoadedSlot();
    const routerRtpCapabilities = this.#options.media.routerRtpCapabilities(viewer.slotIndex);
    viewer.joined = true;
    this.#updateMetrics();
    viewer.socket.emit('status', this.#options.status());
    log.info(`viewer ${viewer.id} joined on worker ${viewer.slotIndex} (${this.viewerCount} watching)`);
    return { viewerId: viewer.id, routerRtpCapabilities };
  }

  async #createTransport(viewer: Viewer): Promise<SignalingRequests['createTransport']['response']> {
    this.#requireJoined(viewer);
    viewer.transport?.close();
    const transport = await this.#options.media.createViewerTransport(viewer.slotIndex);
    viewer.transport = transport;
    return {
      transportId: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async #connectTransport(
    viewer: Viewer,
    data: SignalingRequests['connectTransport']['request'],
  ): Promise<SignalingRequests['connectTransport']['response']> {
    const transport = this.#requireTransport(viewer, data.transportId);
    try {
      await transport.connect({ dtlsParameters: data.dtlsParameters as ms.DtlsParameters });
    } catch (err) {
      throw new BadRequestError(`connectTransport: mediasoup rejected the DTLS parameters: ${(err as Error).message}`);
    }
    return {};
  }

  async #consume(viewer: Viewer, data: SignalingRequests['consume']['request']): Promise<SignalingRequests['consume']['response']> {
    const transport = this.#requireTransport(viewer, data.transportId);
    const rtpCapabilities = data.rtpCapabilities as ms.RtpCapabilities;
    const consumers: ConsumerDescription[] = [];
    for (const producerId of this.#options.media.producerIds()) {
      const alreadyConsuming = [...viewer.consumers.values()].find((c) => c.producerId === producerId && !c.closed);
      if (alreadyConsuming) continue;
      let canConsume: boolean;
      try {
        canConsume = this.#options.media.canConsume(viewer.slotIndex, producerId, rtpCapabilities);
      } catch (err) {
        throw new BadRequestError(`consume: "rtpCapabilities" is not valid: ${(err as Error).message}`);
      }
      if (!canConsume) continue;
      const consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
      viewer.consumers.set(consumer.id, consumer);
      consumer.on('transportclose', () => viewer.consumers.delete(consumer.id));
      consumer.on('producerclose', () => viewer.consumers.delete(consumer.id));
      consumers.push({ consumerId: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters });
    }
    if (consumers.length === 0 && viewer.consumers.size === 0) {
      throw new RequestError(
        'unavailable',
        'This browser cannot receive the broadcast: it offers no H.264 (Constrained Baseline) decoder for WebRTC. Try a current Chrome, Firefox or Safari.',
      );
    }
    this.#updateMetrics();
    return { consumers };
  }

  async #resumeConsumer(viewer: Viewer, data: SignalingRequests['resumeConsumer']['request']): Promise<SignalingRequests['resumeConsumer']['response']> {
    this.#requireJoined(viewer);
    const consumer = viewer.consumers.get(data.consumerId);
    if (!consumer) throw new BadRequestError(`resumeConsumer: no consumer "${data.consumerId}" for this viewer.`);
    await consumer.resume(); // resuming a video consumer also asks the producer for a keyframe
    return {};
  }

  #requireJoined(viewer: Viewer): void {
    if (!viewer.joined) throw new RequestError('not-joined', 'Send "join" first: media requests need an admitted viewer.');
  }

  #requireTransport(viewer: Viewer, transportId: string): ms.WebRtcTransport {
    this.#requireJoined(viewer);
    if (!viewer.transport || viewer.transport.id !== transportId || viewer.transport.closed) {
      throw new BadRequestError(`no transport "${transportId}" for this viewer; call createTransport first.`);
    }
    return viewer.transport;
  }

  #leastLoadedSlot(): number {
    const load = new Array<number>(this.#options.media.workerCount).fill(0);
    for (const v of this.#viewers.values()) if (v.joined) load[v.slotIndex] = (load[v.slotIndex] ?? 0) + 1;
    return load.indexOf(Math.min(...load));
  }

  #closeMedia(viewer: Viewer): void {
    viewer.transport?.close();
    viewer.transport = undefined;
    viewer.consumers.clear();
    viewer.joined = false;
  }

  #onRoutersReset(slots: number[]): void {
    for (const viewer of this.#viewers.values()) {
      if (!viewer.joined || !slots.includes(viewer.slotIndex)) continue;
      this.#closeMedia(viewer);
      viewer.socket.emit('mediaReset', { reason: 'A media worker restarted; reconnecting.' });
    }
    this.#updateMetrics();
  }

  #updateMetrics(): void {
    viewerMetrics.viewers.set(this.viewerCount);
    let consumers = 0;
    for (const v of this.#viewers.values()) consumers += v.consumers.size;
    mediaMetrics.consumers.set(consumers);
  }
}

function assertUnreachable(value: never): never {
  throw new Error(`Unhandled signaling request: ${JSON.stringify(value)}`);
}
