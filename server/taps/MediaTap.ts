import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { types as ms } from 'mediasoup';
import type { MediaCluster } from '../media/MediaCluster.js';
import { createLogger } from '../util/logger.js';
import type { VideoBridge } from '../video/VideoBridge.js';
import type { CaptureDemand } from './CaptureDemand.js';
import { H264Depacketizer, type AccessUnit } from './h264Depacketizer.js';
import { MediaClock, parseRtp } from './rtpPacket.js';

const log = createLogger('taps');

/** An access unit of the broadcast, with its time on the shared media timeline (ms). */
export interface TapAccessUnit extends AccessUnit {
  ms: number;
}

/** One Opus packet of the broadcast (20 ms), with its time on the same timeline. */
export interface TapAudioPacket {
  payload: Buffer;
  ms: number;
}

export interface MediaTapEvents {
  accessUnit: [TapAccessUnit];
  audio: [TapAudioPacket];
}

/** Keyframe requests closer together than this share one IDR (a burst of clients costs one). */
const KEYFRAME_REQUEST_GAP_MS = 250;
/** How often the tap checks that it still consumes the current producers (worker replaced, audio added). */
const RECHECK_MS = 1000;

/**
 * The taps' view of the broadcast: a DirectTransport on router 0 consuming the very producers
 * viewers consume, so screenshots, the raw stream and recordings ride on the one capture session
 * and never open a second one. Attached only while someone holds it (`acquire`); every holder
 * also holds the capture demand (a paused capture resumes for a tap).
 */
export class MediaTap extends EventEmitter<MediaTapEvents> {
  readonly #media: MediaCluster;
  readonly #demand: CaptureDemand;
  readonly #capture: Pick<VideoBridge, 'whenStarted'>;
  #holders = 0;
  #transport: ms.DirectTransport | undefined;
  #consumers = new Map<'video' | 'audio', ms.Consumer>();
  #attaching: Promise<void> | undefined;
  #recheck: NodeJS.Timeout | undefined;
  #lastKeyframeRequest = -Infinity;
  #deferredKeyframe: NodeJS.Timeout | undefined;
  #videoClock = new MediaClock(90_000);
  #audioClock = new MediaClock(48_000);
  #accessUnits = 0;
  #closed = false;

  constructor(media: MediaCluster, demand: CaptureDemand, capture: Pick<VideoBridge, 'whenStarted'>) {
    super();
    this.#media = media;
    this.#demand = demand;
    this.#capture = capture;
    this.setMaxListeners(0); // one listener per stream client
  }

  /** Access units delivered since start-up (all holders together). */
  get accessUnits(): number {
    return this.#accessUnits;
  }

  get holders(): number {
    return this.#holders;
  }

  /** Starts consuming (if not yet); the returned function lets go (once). */
  acquire(): () => void {
    if (this.#closed) throw new Error('deskcast is shutting down');
    const releaseDemand = this.#demand.acquire();
    if (this.#holders++ === 0) {
      this.#recheck = setInterval(() => void this.#ensureAttached(), RECHECK_MS);
      void this.#ensureAttached();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      releaseDemand();
      if (--this.#holders === 0) this.#detach();
    };
  }

  /**
   * Asks the encoder for an IDR (as a late-joining viewer does). A burst of requests costs one
   * more IDR at the end of the gap, not one each: a request made just after another may come
   * after that IDR went out, and there are no periodic keyframes to wait for.
   */
  requestKeyframe(): void {
    const now = performance.now();
    const wait = this.#lastKeyframeRequest + KEYFRAME_REQUEST_GAP_MS - now;
    if (wait > 0) {
      this.#deferredKeyframe ??= setTimeout(() => {
        this.#deferredKeyframe = undefined;
        if (!this.#closed && this.#holders > 0) this.requestKeyframe();
      }, wait);
      return;
    }
    this.#lastKeyframeRequest = now;
    const video = this.#consumers.get('video');
    if (video && !video.closed) video.requestKeyFrame().catch(() => undefined);
    else this.#lastKeyframeRequest = -Infinity; // not attached yet: ask again once attached
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#deferredKeyframe);
    this.#holders = 0;
    this.#detach();
  }

  #ensureAttached(): Promise<void> {
    this.#attaching ??= this.#attach()
      .catch((err: unknown) => log.warn(`cannot tap the broadcast yet: ${(err as Error).message}; retrying`))
      .finally(() => (this.#attaching = undefined));
    return this.#attaching;
  }

  async #attach(): Promise<void> {
    if (this.#holders === 0 || this.#closed) return;
    // A capture resuming for this tap gets a fresh ingest: consume that one, not the old.
    await this.#capture.whenStarted();
    if (this.#holders === 0 || this.#closed) return;
    const source = this.#media.tapSource();
    if (!source) return; // worker 0 is being replaced; the next recheck attaches
    const current = this.#consumers;
    const upToDate =
      this.#transport && !this.#transport.closed &&
      (['video', 'audio'] as const).every((k) => (source.producerIds[k] ?? '') === (current.get(k)?.producerId ?? '') && !current.get(k)?.closed);
    if (upToDate) return;
    this.#detachTransport();
    const transport = await source.router.createDirectTransport();
    this.#transport = transport;
    for (const kind of ['video', 'audio'] as const) {
      const producerId = source.producerIds[kind];
      if (!producerId) continue;
      const consumer = await transport.consume({ producerId, rtpCapabilities: source.router.rtpCapabilities });
      this.#consumers.set(kind, consumer);
      // The capture restarted (fresh ingest) or its worker died: follow the new producer now.
      consumer.on('producerclose', () => setImmediate(() => void this.#ensureAttached()));
      if (kind === 'video') this.#wireVideo(consumer);
      else this.#wireAudio(consumer);
    }
    if (this.#holders === 0 || this.#closed || this.#transport !== transport) {
      if (this.#transport === transport) this.#detachTransport();
      return;
    }
    this.#lastKeyframeRequest = -Infinity;
    this.requestKeyframe();
  }

  #wireVideo(consumer: ms.Consumer): void {
    const depacketizer = new H264Depacketizer(
      (au) => {
        this.#accessUnits++;
        this.emit('accessUnit', { ...au, ms: this.#videoClock.toMs(au.rtpTimestamp, performance.now()) });
      },
      () => this.requestKeyframe(),
    );
    consumer.on('rtp', (packet) => {
      const rtp = parseRtp(packet);
      if (rtp) depacketizer.push(rtp.payload, rtp.timestamp, rtp.sequenceNumber, rtp.marker);
    });
  }

  #wireAudio(consumer: ms.Consumer): void {
    consumer.on('rtp', (packet) => {
      const rtp = parseRtp(packet);
      if (rtp && rtp.payload.length > 0) this.emit('audio', { payload: Buffer.from(rtp.payload), ms: this.#audioClock.toMs(rtp.timestamp, performance.now()) });
    });
  }

  #detach(): void {
    clearInterval(this.#recheck);
    this.#recheck = undefined;
    this.#detachTransport();
  }

  #detachTransport(): void {
    if (this.#transport && !this.#transport.closed) this.#transport.close();
    this.#transport = undefined;
    this.#consumers = new Map();
  }
}
