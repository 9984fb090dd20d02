import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { createLogger } from '../util/logger.js';
import { ingestRtpParameters, routerMediaCodecs, vp8IngestRtpParameters, type IngestStreamSpec } from './mediaCodecs.js';
import { mediaMetrics } from './mediaMetrics.js';

const log = createLogger('media');

export interface MediaClusterOptions {
  workerCount: number;
  workerBin: string;
  /** Address browsers use to reach the WebRtcServer ports. */
  announcedAddress: string;
  /** Worker N listens on rtcPort + N (UDP and TCP). */
  rtcPort: number;
}

/** Where the native addon must send a stream's RTP (and receive RTCP from). */
export interface IngestEndpoint {
  kind: IngestStreamSpec['kind'];
  host: string;
  port: number;
}

export interface MediaClusterEvents {
  /** An ingest PlainTransport was re-created (its worker died): point the sender here. */
  ingestMoved: [IngestEndpoint];
}

/** One worker with its router (carrying the broadcast) and its WebRtcServer (one port). */
interface WorkerSlot {
  index: number;
  worker: ms.Worker;
  router: ms.Router;
  webRtcServer: ms.WebRtcServer;
}

interface Ingest {
  spec: IngestStreamSpec;
  transport: ms.PlainTransport;
  producer: ms.Producer;
  /** The VP8 producer on the same transport (video with `spec.vp8` only). */
  vp8Producer?: ms.Producer;
}

/** A producer viewers can consume, with the codec it carries. */
export interface BroadcastProducer {
  id: string;
  kind: IngestStreamSpec['kind'];
  codec: 'h264' | 'vp8' | 'opus';
}

/** Thrown while a worker is being replaced; the caller should retry shortly. */
export class MediaUnavailableError extends Error {
  override name = 'MediaUnavailableError';
}

/**
 * The mediasoup side of a broadcast: one worker per core, each with a router and a
 * WebRtcServer. The native addon's streams enter router 0 through PlainTransports and are
 * piped to the other routers, so viewers spread over all workers. A worker that dies is
 * replaced in place; viewers learn of it from their own transports' and consumers' close
 * events, and join again once whenReady() resolves.
 */
export class MediaCluster extends EventEmitter<MediaClusterEvents> {
  readonly #options: MediaClusterOptions;
  readonly #slots: (WorkerSlot | undefined)[];
  readonly #ingests = new Map<IngestStreamSpec['kind'], Ingest>();
  readonly #specs = new Map<IngestStreamSpec['kind'], IngestStreamSpec>();
  /** Settles when no worker replacement is in progress. */
  #ready: Promise<void> = Promise.resolve();
  /** Worker replacements in progress. */
  #replacing = 0;
  #closed = false;

  static async create(options: MediaClusterOptions): Promise<MediaCluster> {
    const cluster = new MediaCluster(options);
    for (let i = 0; i < options.workerCount; i++) await cluster.#startSlot(i);
    return cluster;
  }

  private constructor(options: MediaClusterOptions) {
    super();
    this.#options = options;
    this.#slots = new Array<WorkerSlot | undefined>(options.workerCount).fill(undefined);
  }

  get workerPids(): number[] {
    return this.#slots.flatMap((s) => (s ? [s.worker.pid] : []));
  }

  /** Test-only: the router of worker `workerIndex`, for tests that attach their own transports. */
  routerForTests(workerIndex: number): ms.Router {
    return this.#slot(workerIndex).router;
  }

  /** Indexes of the workers that can take viewers now (all but one being replaced). */
  availableWorkers(): number[] {
    return this.#slots.flatMap((s) => (s ? [s.index] : []));
  }

  /**
   * False while a worker is dead or being replaced (its streams not yet re-created and piped).
   * mediasoup closes a dead worker's routers, and so viewers' consumers, before it emits
   * 'died'; a caller reacting to those closes sees `worker.closed` here already.
   */
  get ready(): boolean {
    return this.#replacing === 0 && this.#slots.every((s) => s !== undefined && !s.worker.closed);
  }

  /** Resolves once every worker is up and every stream is piped to it again. */
  async whenReady(): Promise<void> {
    // A dead worker's consumers close in the same tick as, but before, its 'died' event,
    // which starts the replacement: let that event run before looking.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const ready = this.#ready;
      await ready;
      if (ready === this.#ready) return; // no newer replacement started meanwhile
    }
  }

  routerRtpCapabilities(slotIndex: number): ms.RtpCapabilities {
    return this.#slot(slotIndex).router.rtpCapabilities;
  }

  /** Producer ids viewers can consume (the same ids on every router, thanks to pipes). */
  producerIds(): string[] {
    return this.producers().map((p) => p.id);
  }

  /** The producers with their codecs: a viewer gets one per kind (H.264 first, else VP8). */
  producers(): BroadcastProducer[] {
    return [...this.#ingests.values()].flatMap((i): BroadcastProducer[] => [
      { id: i.producer.id, kind: i.spec.kind, codec: i.spec.kind === 'audio' ? 'opus' : 'h264' },
      ...(i.vp8Producer ? [{ id: i.vp8Producer.id, kind: 'video' as const, codec: 'vp8' as const }] : []),
    ]);
  }

  /**
   * For in-process taps (raw stream, recording, screenshots) that consume the broadcast itself:
   * router 0 and its ingest producers. Undefined while worker 0 is being replaced.
   */
  tapSource(): { router: ms.Router; producerIds: Partial<Record<IngestStreamSpec['kind'], string>> } | undefined {
    const slot = this.#slots[0];
    if (!slot) return undefined;
    const producerIds: Partial<Record<IngestStreamSpec['kind'], string>> = {};
    for (const [kind, ingest] of this.#ingests) producerIds[kind] = ingest.producer.id;
    return { router: slot.router, producerIds };
  }

  /** Adds a stream from the native addon; returns where to send it. */
  async addIngest(spec: IngestStreamSpec): Promise<IngestEndpoint> {
    this.#specs.set(spec.kind, spec);
    const endpoint = await this.#createIngest(spec);
    for (const slot of this.#slots.slice(1)) if (slot) await this.#pipe(spec.kind, slot);
    return endpoint;
  }

  /**
   * A fresh ingest for a sender that restarted: a PlainTransport in comedia mode locks onto the
   * first sender's address and port, so a new native session (new socket) needs a new one. The
   * old producer closes; its consumers' viewers are told to join again.
   */
  async replaceIngest(kind: IngestStreamSpec['kind']): Promise<IngestEndpoint> {
    const spec = this.#specs.get(kind);
    if (!spec) throw new Error(`no ${kind} ingest to replace`);
    await this.whenReady();
    const endpoint = await this.#createIngest(spec);
    for (const slot of this.#slots.slice(1)) if (slot) await this.#pipe(kind, slot);
    return endpoint;
  }

  async removeIngest(kind: IngestStreamSpec['kind']): Promise<void> {
    this.#specs.delete(kind);
    const ingest = this.#ingests.get(kind);
    this.#ingests.delete(kind);
    ingest?.transport.close(); // closes the producer and, through the pipes, its consumers
  }

  async createViewerTransport(slotIndex: number): Promise<ms.WebRtcTransport> {
    const slot = this.#slot(slotIndex);
    return slot.router.createWebRtcTransport({
      webRtcServer: slot.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 3_000_000,
    });
  }

  canConsume(slotIndex: number, producerId: string, rtpCapabilities: ms.RtpCapabilities): boolean {
    return this.#slot(slotIndex).router.canConsume({ producerId, rtpCapabilities });
  }

  /** The ingest producer's receive stats (packets and bytes from the native addon). */
  async producerStats(kind: IngestStreamSpec['kind']): Promise<ms.ProducerStat[]> {
    const ingest = this.#ingests.get(kind);
    return ingest ? ingest.producer.getStats() : [];
  }

  /** CPU ms (user + system) each live worker has used, from mediasoup's getResourceUsage(). */
  async workerCpuMs(): Promise<number[]> {
    const usages = await Promise.all(
      this.#slots.map(async (s) => {
        if (!s || s.worker.closed) return 0;
        const u = await s.worker.getResourceUsage().catch(() => undefined);
        return u ? u.ru_utime + u.ru_stime : 0;
      }),
    );
    return usages;
  }

  /**
   * What the ingest producer of `kind` receives: average RTP payload bytes per packet since it
   * started, and its bitrate now (kb/s); undefined before any packet.
   */
  async ingestLoad(kind: IngestStreamSpec['kind']): Promise<{ payloadBytes: number; kbps: number } | undefined> {
    const stats = await this.producerStats(kind).catch(() => []);
    const packets = stats.reduce((a, st) => a + st.packetCount, 0);
    const bytes = stats.reduce((a, st) => a + st.byteCount, 0);
    const bitrate = stats.reduce((a, st) => a + st.bitrate, 0);
    // byteCount includes the 12-byte RTP header
    return packets > 0 ? { payloadBytes: Math.max(1, bytes / packets - 12), kbps: bitrate / 1000 } : undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) slot?.worker.close();
    mediaMetrics.workers.set(0);
  }

  #slot(index: number): WorkerSlot {
    const slot = this.#slots[index];
    if (!slot) throw new MediaUnavailableError('The media worker is restarting; try again in a moment.');
    return slot;
  }

  async #startSlot(index: number): Promise<void> {
    const { workerBin, announcedAddress, rtcPort } = this.#options;
    const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn' });
    const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
    const port = rtcPort + index;
    let webRtcServer: ms.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ip: '0.0.0.0', announcedAddress, port },
          { protocol: 'tcp', ip: '0.0.0.0', announcedAddress, port },
        ],
      });
    } catch (err) {
      worker.close();
      throw new Error(
        `Cannot open media port ${port} (UDP and TCP) for worker ${index}: ${(err as Error).message}. ` +
          'Another program may use it: pick another range with --rtc-port.',
      );
    }
    worker.on('died', (error) => {
      this.#replacing++;
      const replaced = this.#replaceSlot(index, error).finally(() => this.#replacing--);
      const previous = this.#ready;
      this.#ready = Promise.all([previous, replaced.catch((err: unknown) => log.error(`replacing worker ${index} failed: ${String(err)}`))]).then(() => undefined);
    });
    this.#slots[index] = { index, worker, router, webRtcServer };
    mediaMetrics.workers.set(this.workerPids.length);
    log.info(`worker ${index} (pid ${worker.pid}) ready; media port ${port} udp/tcp, announced as ${announcedAddress}`);
  }

  async #replaceSlot(index: number, error: Error): Promise<void> {
    if (this.#closed) return;
    log.error(`worker ${index} died (${error.message}); starting a replacement`);
    mediaMetrics.workerRestarts.inc();
    this.#slots[index] = undefined;
    if (index === 0) this.#ingests.clear();
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        await this.#startSlot(index);
        break;
      } catch (err) {
        log.error(`replacement for worker ${index} failed (attempt ${attempt}): ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
      }
    }
    if (this.#closed) return;
    const slot = this.#slots[index]!;
    if (index === 0) {
      for (const spec of this.#specs.values()) this.emit('ingestMoved', await this.#createIngest(spec));
      for (const other of this.#slots.slice(1)) {
        if (other) for (const kind of this.#specs.keys()) await this.#pipe(kind, other);
      }
    } else {
      for (const kind of this.#specs.keys()) await this.#pipe(kind, slot);
    }
  }

  async #createIngest(spec: IngestStreamSpec): Promise<IngestEndpoint> {
    const router = this.#slot(0).router;
    // comedia: mediasoup learns the addon's address from its first packet; rtcpMux: one
    // socket, so PLIs reach the sender from the start (with separate RTCP, mediasoup drops
    // PLIs until the sender's first RTCP packet tells it where to send them).
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: true,
    });
    const producer = await transport.produce({ kind: spec.kind, rtpParameters: ingestRtpParameters(spec) });
    const vp8 = spec.vp8;
    const vp8Producer = vp8 ? await transport.produce({ kind: 'video', rtpParameters: vp8IngestRtpParameters({ ...spec, vp8 }) }) : undefined;
    this.#ingests.get(spec.kind)?.transport.close();
    this.#ingests.set(spec.kind, { spec, transport, producer, vp8Producer });
    log.info(
      `${spec.kind} ingest on 127.0.0.1:${transport.tuple.localPort} (producer ${producer.id}${vp8Producer ? `, VP8 producer ${vp8Producer.id}` : ''})`,
    );
    return { kind: spec.kind, host: '127.0.0.1', port: transport.tuple.localPort };
  }

  async #pipe(kind: IngestStreamSpec['kind'], target: WorkerSlot): Promise<void> {
    const ingest = this.#ingests.get(kind);
    if (!ingest) return;
    await this.#slot(0).router.pipeToRouter({ producerId: ingest.producer.id, router: target.router });
    if (ingest.vp8Producer) await this.#slot(0).router.pipeToRouter({ producerId: ingest.vp8Producer.id, router: target.router });
  }
}
