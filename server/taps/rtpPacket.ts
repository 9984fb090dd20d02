/** The parts of an RTP packet (RFC 3550) the taps need. */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** Parses an RTP packet (CSRCs, header extension and padding skipped); undefined when malformed. */
export function parseRtp(packet: Buffer): RtpPacket | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const csrcCount = packet[0]! & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[packet.length - 1]!;
  if (end < offset) return undefined;
  return {
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/**
 * Maps a stream's 32-bit RTP timestamps onto one millisecond timeline shared by every stream:
 * the first packet is anchored at its arrival time, later ones follow the media clock (the RTP
 * timestamps), so the spacing is the sender's, not the network's. A jump of more than
 * `resyncMs` between the two (the sender restarted with a new offset) anchors again.
 */
export class MediaClock {
  readonly #clockRate: number;
  readonly #resyncMs: number;
  #anchorArrivalMs = 0;
  #anchorTicks = 0;
  #lastRaw = 0;
  #unwrapped = 0;
  #started = false;

  constructor(clockRate: number, resyncMs = 2000) {
    this.#clockRate = clockRate;
    this.#resyncMs = resyncMs;
  }

  /** The packet's time on the shared timeline (ms, same origin as `arrivalMs`). */
  toMs(rtpTimestamp: number, arrivalMs: number): number {
    if (!this.#started) return this.#anchor(rtpTimestamp, arrivalMs);
    const delta = ((rtpTimestamp - this.#lastRaw) << 0) | 0; // signed 32-bit difference
    this.#lastRaw = rtpTimestamp >>> 0;
    this.#unwrapped += delta;
    const ms = this.#anchorArrivalMs + ((this.#unwrapped - this.#anchorTicks) * 1000) / this.#clockRate;
    if (Math.abs(ms - arrivalMs) > this.#resyncMs) return this.#anchor(rtpTimestamp, arrivalMs);
    return ms;
  }

  #anchor(rtpTimestamp: number, arrivalMs: number): number {
    this.#started = true;
    this.#lastRaw = rtpTimestamp >>> 0;
    this.#unwrapped = 0;
    this.#anchorTicks = 0;
    this.#anchorArrivalMs = arrivalMs;
    return arrivalMs;
  }
}
