import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { ConsumerDescription, Notifications, RequestIn, RequestMethod, ResponseData, Role } from '../../shared/protocol.js';
import type { MediaCluster } from '../media/MediaCluster.js';
import { mediaMetrics } from '../media/mediaMetrics.js';
import { createLogger } from '../util/logger.js';
import type { SentCounter } from '../capacity/EgressMeter.js';
import type { AdmissionPolicy } from './AdmissionPolicy.js';
import { RequestError } from './RequestError.js';
import { Viewer, type ViewerConnection } from './Viewer.js';
import { ViewerRegistry } from './ViewerRegistry.js';
import { viewerMetrics } from './viewerMetrics.js';

const log = createLogger('viewers');

export interface AudienceEvents {
  /** A connection was authenticated (not yet admitted). */
  viewerConnected: [Viewer];
  /** Someone joined, left or moved: lists (the admin's) should refresh. */
  viewersChanged: [];
  /** How many viewers receive the VP8 video now (the VP8 encoder runs only while > 0). */
  vp8ViewersChanged: [number];
  /** A viewer's video can flow now (transport connected, consumer resumed): send a keyframe. */
  keyframeNeeded: [];
}

export interface AudienceOptions {
  media: MediaCluster;
  admission: AdmissionPolicy;
  /** The broadcast status a viewer is sent when it joins. */
  status: () => Notifications['broadcast.status'];
  /** Waited for before consumers are made (capture starting for the first viewer replaces the stream). */
  beforeConsume?: () => Promise<void>;
}

/**
 * Everyone watching: admits viewers through the admission policy, gives each its media
 * (one receive transport, paused consumers) on the worker the policy chose, and rebuilds a
 * viewer's media when mediasoup says it broke. Transport-agnostic: the signaling server hands
 * it connections and validated requests.
 */
export class Audience extends EventEmitter<AudienceEvents> {
  readonly #options: AudienceOptions;
  readonly #registry = new ViewerRegistry();
  #vp8Viewers = 0;

  constructor(options: AudienceOptions) {
    super();
    this.#options = options;
  }

  get viewerCount(): number {
    return this.#registry.admittedCount;
  }

  /** A connection authenticated with `role`; it is admitted only on `media.join`. */
  connect(connection: ViewerConnection, role: Role): Viewer {
    const viewer = new Viewer(role, connection);
    this.#registry.add(viewer);
    viewer.on('mediaLost', (reason) => void this.#onMediaLost(viewer, reason));
    viewer.on('videoReady', () => this.emit('keyframeNeeded'));
    viewer.once('close', () => {
      log.debug(`viewer ${viewer.id} left`);
      this.#updateMetrics();
      this.emit('viewersChanged');
    });
    log.debug(`viewer ${viewer.id} (${role}) connected from ${connection.address}`);
    this.emit('viewerConnected', viewer);
    this.emit('viewersChanged');
    return viewer;
  }

  /** Every connection, connecting and admitted. */
  connections(): Viewer[] {
    return this.#registry.all();
  }

  viewer(viewerId: string): Viewer | undefined {
    return this.#registry.all().find((v) => v.id === viewerId);
  }

  /** Tells the viewer why, then disconnects it. False when there is no such viewer. */
  kick(viewerId: string, reason: string): boolean {
    const viewer = this.viewer(viewerId);
    if (!viewer) return false;
    log.info(`viewer ${viewer.id} kicked: ${reason}`);
    viewer.connection.notify('session.kicked', { reason });
    viewer.connection.disconnect();
    viewer.close();
    return true;
  }

  async handle(viewer: Viewer, request: RequestIn<'media'>): Promise<ResponseData<RequestMethod>> {
    switch (request.method) {
      case 'media.join':
        if (request.data.clientName !== undefined) viewer.clientName = request.data.clientName;
        return this.#join(viewer);
      case 'media.createTransport':
        return this.#createTransport(viewer);
      case 'media.connectTransport':
        return this.#connectTransport(viewer, request.data.transportId, request.data.dtlsParameters as ms.DtlsParameters);
      case 'media.consume':
        return this.#consume(viewer, request.data.transportId, request.data.rtpCapabilities as ms.RtpCapabilities);
      case 'media.resumeConsumer':
        return this.#resumeConsumer(viewer, request.data.consumerId);
      default:
        return assertUnreachable(request);
    }
  }

  pushStatus(status: Notifications['broadcast.status']): void {
    for (const viewer of this.#registry.admitted()) viewer.connection.notify('broadcast.status', status);
  }

  /** Bytes sent to viewers by the transports open now. */
  async bytesSent(): Promise<number> {
    const counters = await Promise.all([...this.#registry.admitted()].map((v) => v.bytesSent()));
    return counters.reduce((a, c) => a + (c?.bytes ?? 0), 0);
  }

  /** For the capacity module: each admitted viewer's transport byte counter and receiver-reported video loss. */
  async viewerStats(): Promise<{ sent: SentCounter[]; losses: number[] }> {
    const samples = await Promise.all([...this.#registry.admitted()].map(async (v) => ({ sent: await v.bytesSent(), loss: await v.videoLoss() })));
    return {
      sent: samples.flatMap((s) => (s.sent ? [s.sent] : [])),
      losses: samples.flatMap((s) => (s.loss === undefined ? [] : [s.loss])),
    };
  }

  close(): void {
    for (const viewer of this.#registry.all()) viewer.close();
  }

  #join(viewer: Viewer): ResponseData<'media.join'> {
    const media = this.#options.media;
    const decision = this.#options.admission.decide({
      admitted: this.#registry.admittedCount - (this.#registry.isAdmitted(viewer) ? 1 : 0),
      workerLoads: this.#registry.workerLoads(media.availableWorkers(), viewer),
    });
    if (!decision.admit) {
      viewerMetrics.refused.inc({ reason: decision.binding ?? decision.reason });
      log.info(`viewer ${viewer.id} waits: ${decision.message}${decision.binding ? ` (limit: ${decision.binding})` : ''}`);
      throw new RequestError(decision.reason === 'no-worker' ? 'unavailable' : 'full', decision.message);
    }
    const routerRtpCapabilities = media.routerRtpCapabilities(decision.workerIndex);
    viewer.admit(decision.workerIndex);
    this.#registry.markAdmitted(viewer);
    this.#updateMetrics();
    this.emit('viewersChanged');
    viewer.connection.notify('broadcast.status', this.#options.status());
    log.info(`viewer ${viewer.id} joined on worker ${decision.workerIndex} (${this.viewerCount} watching)`);
    return { viewerId: viewer.id, role: viewer.role, routerRtpCapabilities };
  }

  async #createTransport(viewer: Viewer): Promise<ResponseData<'media.createTransport'>> {
    const transport = await this.#options.media.createViewerTransport(this.#requireWorker(viewer));
    viewer.setTransport(transport);
    return {
      transportId: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async #connectTransport(viewer: Viewer, transportId: string, dtlsParameters: ms.DtlsParameters): Promise<ResponseData<'media.connectTransport'>> {
    const transport = this.#requireTransport(viewer, transportId);
    try {
      await transport.connect({ dtlsParameters });
    } catch (err) {
      throw new RequestError('bad-request', `media.connectTransport: mediasoup rejected the DTLS parameters: ${(err as Error).message}`);
    }
    return {};
  }

  async #consume(viewer: Viewer, transportId: string, rtpCapabilities: ms.RtpCapabilities): Promise<ResponseData<'media.consume'>> {
    const transport = this.#requireTransport(viewer, transportId);
    const workerIndex = this.#requireWorker(viewer);
    const media = this.#options.media;
    await this.#options.beforeConsume?.();
    const producers = media.producers();
    // While a worker is replaced, a producer may not be piped to this viewer's router yet:
    // canConsume() would say no and the page would wrongly be told its browser is unsupported.
    if (producers.length === 0 || !media.ready) throw new RequestError('unavailable', 'The broadcast stream is restarting. The page retries by itself in a moment.');
    const consumers: ConsumerDescription[] = [];
    // One producer per kind and viewer, in preference order (H.264 before VP8: producers()
    // lists it first), never both video codecs to one viewer.
    for (const kind of ['video', 'audio'] as const) {
      const ofKind = producers.filter((p) => p.kind === kind);
      if (ofKind.some((p) => viewer.consumes(p.id))) continue;
      for (const { id: producerId } of ofKind) {
        let canConsume: boolean;
        try {
          canConsume = media.canConsume(workerIndex, producerId, rtpCapabilities);
        } catch (err) {
          throw new RequestError('bad-request', `media.consume: "rtpCapabilities" is not valid: ${(err as Error).message}`);
        }
        if (!canConsume) continue;
        const consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
        viewer.addConsumer(consumer);
        consumers.push({ consumerId: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters });
        break;
      }
    }
    if (consumers.length === 0 && viewer.consumerCount === 0) {
      throw new RequestError('unsupported', unsupportedMessage(producers.filter((p) => p.kind === 'video').map((p) => p.codec)));
    }
    this.#updateMetrics();
    return { consumers };
  }

  async #resumeConsumer(viewer: Viewer, consumerId: string): Promise<ResponseData<'media.resumeConsumer'>> {
    this.#requireWorker(viewer);
    const consumer = viewer.consumer(consumerId);
    if (!consumer) throw new RequestError('bad-request', `media.resumeConsumer: no consumer "${consumerId}" for this viewer.`);
    await consumer.resume();
    viewer.consumerResumed(consumer);
    return {};
  }

  #requireWorker(viewer: Viewer): number {
    if (!this.#registry.isAdmitted(viewer) || viewer.workerIndex === undefined) {
      throw new RequestError('not-joined', 'Send "media.join" first: media requests need an admitted viewer.');
    }
    return viewer.workerIndex;
  }

  #requireTransport(viewer: Viewer, transportId: string): ms.WebRtcTransport {
    this.#requireWorker(viewer);
    const transport = viewer.transport(transportId);
    if (!transport) throw new RequestError('bad-request', `No transport "${transportId}" for this viewer; call media.createTransport first.`);
    return transport;
  }

  async #onMediaLost(viewer: Viewer, reason: string): Promise<void> {
    viewer.closeMedia();
    this.#updateMetrics();
    // Tell the page to join again once the cluster has its workers and streams back.
    await this.#options.media.whenReady();
    if (viewer.closed) return;
    log.info(`viewer ${viewer.id}: ${reason}`);
    viewer.connection.notify('media.reset', { reason });
  }

  #updateMetrics(): void {
    viewerMetrics.viewers.set(this.viewerCount);
    let consumers = 0;
    for (const v of this.#registry.admitted()) consumers += v.consumerCount;
    mediaMetrics.consumers.set(consumers);
    const vp8 = this.#options.media.producers().find((p) => p.codec === 'vp8');
    let vp8Viewers = 0;
    if (vp8) for (const v of this.#registry.admitted()) if (v.consumes(vp8.id)) vp8Viewers++;
    if (vp8Viewers !== this.#vp8Viewers) {
      this.#vp8Viewers = vp8Viewers;
      this.emit('vp8ViewersChanged', vp8Viewers);
    }
  }
}

/** What the browser lacks, in the words of its WebRTC receive capabilities. */
function unsupportedMessage(videoCodecs: string[]): string {
  const offered = videoCodecs.includes('vp8')
    ? 'it offers neither H.264 Constrained Baseline nor VP8 for WebRTC receive'
    : 'it offers no H.264 Constrained Baseline for WebRTC receive (this broadcast sends H.264 only: --codecs h264)';
  return `This browser cannot receive the broadcast: ${offered}. Try a current Chrome, Edge, Safari or Firefox with WebRTC enabled.`;
}

function assertUnreachable(value: never): never {
  throw new Error(`Unhandled signaling request: ${JSON.stringify(value)}`);
}
