import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import type { Notifications, Role } from '../../shared/protocol.js';
import type { SentCounter } from '../capacity/EgressMeter.js';

/** How a viewer is reached: the signaling transport implements this (socket.io today). */
export interface ViewerConnection {
  /** Remote address, for logs. */
  readonly address: string;
  notify<N extends keyof Notifications>(name: N, data: Notifications[N]): void;
  /** Ends the connection from the server side. */
  disconnect(): void;
}

export interface ViewerEvents {
  /** The media path behind this viewer broke (its worker died, the broadcast's producer closed). */
  mediaLost: [reason: string];
  /** The viewer left; its media is closed. Emitted once. */
  close: [];
  /** Its transport is connected and a video consumer resumed: it needs a keyframe now. */
  videoReady: [];
}

/**
 * One connection to the broadcast: its role, the worker it was admitted to, and the media it
 * owns (one receive-only WebRtcTransport and its consumers), which it closes when it leaves.
 * It learns that its media broke from mediasoup's own close events and tells its owner.
 */
export class Viewer extends EventEmitter<ViewerEvents> {
  readonly id = randomUUID();
  readonly role: Role;
  readonly connection: ViewerConnection;
  /** What the page calls itself (`media.join`'s clientName), for the admin's list. */
  clientName = '';
  #workerIndex: number | undefined;
  #transport: ms.WebRtcTransport | undefined;
  readonly #consumers = new Map<string, ms.Consumer>();
  #mediaLost = false;
  #closed = false;

  constructor(role: Role, connection: ViewerConnection) {
    super();
    this.role = role;
    this.connection = connection;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The worker this viewer was admitted to; undefined while it is only connected. */
  get workerIndex(): number | undefined {
    return this.#workerIndex;
  }

  get consumerCount(): number {
    return this.#consumers.size;
  }

  /** Admitted to `workerIndex`; any earlier media state is dropped (a re-join starts clean). */
  admit(workerIndex: number): void {
    this.closeMedia();
    this.#workerIndex = workerIndex;
  }

  setTransport(transport: ms.WebRtcTransport): void {
    this.#transport?.close();
    this.#consumers.clear();
    this.#mediaLost = false;
    this.#transport = transport;
    transport.on('dtlsstatechange', (state) => {
      if (state === 'connected') this.#checkVideoReady();
    });
    transport.on('routerclose', () => this.#loseMedia('A media worker restarted; reconnecting.'));
    transport.on('listenserverclose', () => this.#loseMedia('A media worker restarted; reconnecting.'));
  }

  /** This viewer's open transport with that id, or undefined. */
  transport(transportId: string): ms.WebRtcTransport | undefined {
    const t = this.#transport;
    return t && !t.closed && t.id === transportId ? t : undefined;
  }

  addConsumer(consumer: ms.Consumer): void {
    this.#consumers.set(consumer.id, consumer);
    consumer.on('transportclose', () => this.#consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      this.#consumers.delete(consumer.id);
      this.#loseMedia('The broadcast stream restarted; reconnecting.');
    });
  }

  /** A consumer of this viewer was resumed (the page asked for its media). */
  consumerResumed(consumer: ms.Consumer): void {
    if (consumer.kind === 'video') this.#checkVideoReady();
  }

  /**
   * mediasoup asks for a joiner's keyframe itself only while the producer's stream counts as
   * active, and a still screen sends no RTP, so after 1.5 s it does not: a joiner on a still
   * screen would get nothing until the browser's own keyframe timer (3 s). Whichever comes last
   * of "transport connected" and "video consumer resumed" tells the owner to get one.
   */
  #checkVideoReady(): void {
    const t = this.#transport;
    if (!t || t.closed || t.dtlsState !== 'connected') return;
    for (const c of this.#consumers.values()) {
      if (c.kind === 'video' && !c.closed && !c.paused) {
        this.emit('videoReady');
        return;
      }
    }
  }

  consumer(consumerId: string): ms.Consumer | undefined {
    return this.#consumers.get(consumerId);
  }

  consumes(producerId: string): boolean {
    for (const c of this.#consumers.values()) if (c.producerId === producerId && !c.closed) return true;
    return false;
  }

  /** Bytes this viewer's transport has sent, with the transport's id; undefined without an open transport. */
  async bytesSent(): Promise<SentCounter | undefined> {
    const t = this.#transport;
    if (!t || t.closed) return undefined;
    try {
      return { transportId: t.id, bytes: (await t.getStats()).reduce((sum, stat) => sum + stat.bytesSent, 0) };
    } catch {
      return undefined; // closed meanwhile
    }
  }

  /** The fraction (0–1) of video packets this viewer's receiver last reported lost (RTCP RR); undefined before any report. */
  async videoLoss(): Promise<number | undefined> {
    const consumer = [...this.#consumers.values()].find((c) => c.kind === 'video' && !c.closed);
    if (!consumer) return undefined;
    try {
      const stat = (await consumer.getStats()).find((st) => st.type === 'outbound-rtp');
      return stat && stat.packetCount > 0 ? stat.fractionLost / 256 : undefined;
    } catch {
      return undefined; // closed meanwhile
    }
  }

  /** Closes the transport (and with it every consumer); the viewer stays connected. */
  closeMedia(): void {
    this.#transport?.close();
    this.#transport = undefined;
    this.#consumers.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeMedia();
    this.#workerIndex = undefined;
    this.emit('close');
  }

  #loseMedia(reason: string): void {
    if (this.#mediaLost || this.#closed) return; // one notice per media path
    this.#mediaLost = true;
    this.emit('mediaLost', reason);
  }
}
