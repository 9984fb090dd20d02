// Test-side RTP/RTCP tooling, written independently of the native code: RTP parsing, an
// RFC 6184 H.264 depacketizer, RTCP feedback builders (RFC 4585 PLI, RFC 5104 FIR), an SR
// parser, and a UDP receiver that plays the part of a mediasoup PlainTransport.
import { createSocket, type Socket } from 'node:dgram';
import { nalType, NalType } from './h264.js';

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
  /** RFC 8285 one-byte header extensions by id (empty when the packet has none). */
  extensions: Map<number, Buffer>;
}

/** SSRC of the padding-only probation packets a mediasoup consumer sends to probe bandwidth. */
const MEDIASOUP_PROBATION_SSRC = 1234;

/** RFC 5761 §4: RTCP packet types 192..223 occupy the second byte on a muxed port. */
export function isRtcp(datagram: Buffer): boolean {
  return datagram.length >= 2 && datagram[0]! >> 6 === 2 && datagram[1]! >= 192 && datagram[1]! <= 223;
}

export function parseRtp(datagram: Buffer): RtpPacket {
  if (datagram.length < 12 || datagram[0]! >> 6 !== 2) throw new Error('not an RTP packet');
  const b0 = datagram[0]!;
  const csrcCount = b0 & 0x0f;
  let offset = 12 + 4 * csrcCount;
  const extensions = new Map<number, Buffer>();
  if (b0 & 0x10) {
    if (datagram.length < offset + 4) throw new Error('truncated RTP header extension');
    const end = offset + 4 + 4 * datagram.readUInt16BE(offset + 2);
    if (datagram.readUInt16BE(offset) === 0xbede) {
      for (let p = offset + 4; p < end; ) {
        const id = datagram[p]! >> 4;
        const len = (datagram[p]! & 0x0f) + 1;
        if (id === 0) {
          p++; // padding
          continue;
        }
        if (id === 15) break;
        extensions.set(id, datagram.subarray(p + 1, p + 1 + len));
        p += 1 + len;
      }
    }
    offset = end;
  }
  let end = datagram.length;
  if (b0 & 0x20) end -= datagram[datagram.length - 1]!;
  if (end < offset) throw new Error('bad RTP padding');
  return {
    marker: (datagram[1]! & 0x80) !== 0,
    payloadType: datagram[1]! & 0x7f,
    sequenceNumber: datagram.readUInt16BE(2),
    timestamp: datagram.readUInt32BE(4),
    ssrc: datagram.readUInt32BE(8),
    payload: datagram.subarray(offset, end),
    extensions,
  };
}

export interface AccessUnit {
  timestamp: number;
  ssrc: number;
  payloadType: number;
  nals: Buffer[];
  packets: number;
  firstSequenceNumber: number;
  /** false if a packet of this frame was lost or a fragment was out of order */
  complete: boolean;
  /** performance.now() when the marker packet arrived */
  receivedAt: number;
}

export function hasIdr(au: AccessUnit): boolean {
  return au.nals.some((n) => nalType(n) === NalType.idr);
}

/** RFC 6184 depacketizer: single NAL unit packets, STAP-A and FU-A. */
export class H264Depacketizer {
  #nals: Buffer[] = [];
  #fragments: Buffer[] | undefined;
  #timestamp: number | undefined;
  #expectedSeq: number | undefined;
  #firstSeq = 0;
  #packets = 0;
  #complete = true;

  /** Returns the access unit this packet completes (marker bit), if any. */
  push(packet: RtpPacket): AccessUnit | undefined {
    if (this.#timestamp !== undefined && packet.timestamp !== this.#timestamp) {
      this.#reset(); // a frame whose marker packet got lost: drop it
    }
    if (this.#timestamp === undefined) {
      this.#timestamp = packet.timestamp;
      this.#firstSeq = packet.sequenceNumber;
    } else if (packet.sequenceNumber !== this.#expectedSeq) {
      this.#complete = false;
    }
    this.#expectedSeq = (packet.sequenceNumber + 1) & 0xffff;
    this.#packets++;

    const p = packet.payload;
    const type = (p[0] ?? 0) & 0x1f;
    if (type >= 1 && type <= 23) {
      this.#nals.push(Buffer.from(p));
    } else if (type === 24) {
      let o = 1;
      while (o + 2 <= p.length) {
        const size = p.readUInt16BE(o);
        this.#nals.push(Buffer.from(p.subarray(o + 2, o + 2 + size)));
        o += 2 + size;
      }
    } else if (type === 28) {
      const indicator = p[0]!;
      const header = p[1]!;
      const start = (header & 0x80) !== 0;
      const end = (header & 0x40) !== 0;
      if (start) {
        // Rebuild the NAL header: F and NRI from the FU indicator, type from the FU header.
        this.#fragments = [Buffer.from([(indicator & 0xe0) | (header & 0x1f)])];
      }
      if (this.#fragments === undefined) {
        this.#complete = false;
      } else {
        this.#fragments.push(Buffer.from(p.subarray(2)));
        if (end) {
          this.#nals.push(Buffer.concat(this.#fragments));
          this.#fragments = undefined;
        }
      }
    } else {
      throw new Error(`unsupported H.264 RTP payload type ${type}`);
    }

    if (!packet.marker) return undefined;
    const au: AccessUnit = {
      timestamp: packet.timestamp,
      ssrc: packet.ssrc,
      payloadType: packet.payloadType,
      nals: this.#nals,
      packets: this.#packets,
      firstSequenceNumber: this.#firstSeq,
      complete: this.#complete && this.#fragments === undefined,
      receivedAt: performance.now(),
    };
    this.#reset();
    return au;
  }

  #reset(): void {
    this.#nals = [];
    this.#fragments = undefined;
    this.#timestamp = undefined;
    this.#packets = 0;
    this.#complete = true;
  }
}

/** RFC 4585 §6.3.1 Picture Loss Indication: PSFB (206), FMT 1, no FCI. */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x80 | 1;
  b[1] = 206;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  return b;
}

/** RFC 5104 §4.3.1 Full Intra Request: PSFB (206), FMT 4, one FCI entry per target SSRC. */
export function buildFir(senderSsrc: number, entries: { ssrc: number; seq: number }[]): Buffer {
  const b = Buffer.alloc(12 + 8 * entries.length);
  b[0] = 0x80 | 4;
  b[1] = 206;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(0, 8); // media source SSRC: unused for FIR
  entries.forEach((e, i) => {
    b.writeUInt32BE(e.ssrc >>> 0, 12 + 8 * i);
    b[16 + 8 * i] = e.seq & 0xff;
  });
  return b;
}

/** An empty receiver report (RC = 0): the usual first packet of a compound RTCP packet. */
export function buildReceiverReport(senderSsrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x80;
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  return b;
}

/** SDES with one CNAME chunk. */
export function buildSdes(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname);
  const chunk = Math.ceil((4 + 2 + text.length + 1) / 4) * 4;
  const b = Buffer.alloc(4 + chunk);
  b[0] = 0x81;
  b[1] = 202;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = 1;
  b[9] = text.length;
  text.copy(b, 10);
  return b;
}

export interface SenderReport {
  ssrc: number;
  /** 64-bit NTP timestamp (seconds since 1900 in the high 32 bits) */
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  cname: string | undefined;
}

/** Parses a compound RTCP packet that starts with an SR (+ optional SDES CNAME). */
export function parseSenderReport(datagram: Buffer): SenderReport | undefined {
  if (datagram.length < 28 || datagram[1] !== 200) return undefined;
  const srLength = (datagram.readUInt16BE(2) + 1) * 4;
  const sr: SenderReport = {
    ssrc: datagram.readUInt32BE(4),
    ntpTimestamp: datagram.readBigUInt64BE(8),
    rtpTimestamp: datagram.readUInt32BE(16),
    packetCount: datagram.readUInt32BE(20),
    octetCount: datagram.readUInt32BE(24),
    cname: undefined,
  };
  let o = srLength;
  while (o + 4 <= datagram.length) {
    const pt = datagram[o + 1];
    const length = (datagram.readUInt16BE(o + 2) + 1) * 4;
    if (pt === 202 && o + 10 <= datagram.length && datagram[o + 8] === 1) {
      sr.cname = datagram.subarray(o + 10, o + 10 + datagram[o + 9]!).toString();
    }
    o += length;
  }
  return sr;
}

/** NTP (RFC 5905) 64-bit timestamp → milliseconds since the Unix epoch. */
export function ntpToUnixMs(ntp: bigint): number {
  const seconds = Number(ntp >> 32n) - 2208988800;
  const fraction = Number(ntp & 0xffffffffn) / 2 ** 32;
  return (seconds + fraction) * 1000;
}

interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
}

/**
 * A UDP endpoint standing in for a mediasoup PlainTransport (rtcpMux): collects RTP access
 * units and RTCP sender reports, and sends RTCP feedback back to the media sender.
 */
export class RtpReceiver {
  readonly accessUnits: AccessUnit[] = [];
  readonly senderReports: SenderReport[] = [];
  readonly rtpPackets: RtpPacket[] = [];
  /** Keep raw packets (for sequence/timestamp checks); bounded to the most recent 20000. */
  keepPackets = true;
  #depacketizer = new H264Depacketizer();
  #auWaiters: Waiter<AccessUnit>[] = [];
  #srWaiters: Waiter<SenderReport>[] = [];

  private constructor(readonly socket: Socket, readonly port: number) {
    socket.on('message', (msg) => this.#onMessage(msg));
  }

  static async open(host = '127.0.0.1'): Promise<RtpReceiver> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    return new RtpReceiver(socket, socket.address().port);
  }

  #onMessage(msg: Buffer): void {
    if (isRtcp(msg)) {
      const sr = parseSenderReport(msg);
      if (sr) {
        this.senderReports.push(sr);
        this.#notify(this.#srWaiters, sr);
      }
      return;
    }
    const packet = parseRtp(msg);
    // mediasoup's bandwidth probation packets (SSRC 1234, padding only) carry no media.
    if (packet.payload.length === 0 || packet.ssrc === MEDIASOUP_PROBATION_SSRC) return;
    if (this.keepPackets) {
      this.rtpPackets.push(packet);
      if (this.rtpPackets.length > 20000) this.rtpPackets.splice(0, 10000);
    }
    const au = this.#depacketizer.push(packet);
    if (au) {
      this.accessUnits.push(au);
      this.#notify(this.#auWaiters, au);
    }
  }

  #notify<T>(waiters: Waiter<T>[], item: T): void {
    for (const w of [...waiters]) {
      if (w.predicate(item)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(item);
      }
    }
  }

  #wait<T>(waiters: Waiter<T>[], predicate: (item: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      waiters.push(waiter);
    });
  }

  /** The next access unit (arriving after this call) that satisfies `predicate`. */
  nextAccessUnit(predicate: (au: AccessUnit) => boolean = () => true, timeoutMs = 5000): Promise<AccessUnit> {
    return this.#wait(this.#auWaiters, predicate, timeoutMs, 'an RTP access unit');
  }

  /** The first access unit received so far, or the next one. */
  firstAccessUnit(timeoutMs = 5000): Promise<AccessUnit> {
    const first = this.accessUnits[0];
    return first ? Promise.resolve(first) : this.nextAccessUnit(() => true, timeoutMs);
  }

  nextSenderReport(predicate: (sr: SenderReport) => boolean = () => true, timeoutMs = 5000): Promise<SenderReport> {
    return this.#wait(this.#srWaiters, predicate, timeoutMs, 'an RTCP sender report');
  }

  /** Sends a datagram (e.g. RTCP feedback) from this socket. */
  send(datagram: Buffer, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(datagram, port, host, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
