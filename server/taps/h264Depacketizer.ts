// RFC 6184 (packetization-mode 1) → H.264 access units in Annex B form.

const START_CODE = Buffer.from([0, 0, 0, 1]);
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const STAP_A = 24;
const FU_A = 28;

export interface AccessUnit {
  /** Annex B: each NAL unit after a 4-byte start code; keyframes start with SPS and PPS. */
  data: Buffer;
  keyframe: boolean;
  /** RTP timestamp (90 kHz) of the access unit. */
  rtpTimestamp: number;
  /** The NAL units, without start codes (for containers that want length prefixes). */
  nals: Buffer[];
}

/**
 * Rebuilds access units from RTP payloads: single NAL units, STAP-A and FU-A. An access unit
 * ends at the marker bit or when the timestamp changes. A lost packet (sequence gap) drops the
 * damaged access unit and everything up to the next keyframe; `onLoss` is told so that it can
 * ask for one.
 */
export class H264Depacketizer {
  #nals: Buffer[] = [];
  #fu: Buffer[] | undefined;
  #timestamp: number | undefined;
  #lastSeq: number | undefined;
  #damaged = false;
  #needKeyframe = false;
  #sps: Buffer | undefined;
  #pps: Buffer | undefined;

  constructor(
    private readonly onAccessUnit: (au: AccessUnit) => void,
    private readonly onLoss: () => void = () => undefined,
  ) {}

  /** The latest SPS and PPS seen (for a container's codec header). */
  get parameterSets(): { sps: Buffer; pps: Buffer } | undefined {
    return this.#sps && this.#pps ? { sps: this.#sps, pps: this.#pps } : undefined;
  }

  push(payload: Buffer, timestamp: number, sequenceNumber: number, marker: boolean): void {
    if (this.#lastSeq !== undefined && ((this.#lastSeq + 1) & 0xffff) !== sequenceNumber) {
      if (((sequenceNumber - this.#lastSeq) & 0xffff) > 0x8000) return; // old or duplicate packet
      this.#damaged = true;
    }
    this.#lastSeq = sequenceNumber;
    if (this.#timestamp !== undefined && timestamp !== this.#timestamp) this.#flush();
    this.#timestamp = timestamp;
    if (payload.length === 0) return;
    const type = payload[0]! & 0x1f;
    if (type === STAP_A) {
      for (let off = 1; off + 2 <= payload.length; ) {
        const size = payload.readUInt16BE(off);
        off += 2;
        if (size === 0 || off + size > payload.length) {
          this.#damaged = true;
          break;
        }
        this.#nals.push(payload.subarray(off, off + size));
        off += size;
      }
    } else if (type === FU_A) {
      if (payload.length < 2) return;
      const header = payload[1]!;
      if (header & 0x80) this.#fu = [Buffer.from([(payload[0]! & 0xe0) | (header & 0x1f)])];
      if (!this.#fu) this.#damaged = true;
      else {
        this.#fu.push(payload.subarray(2));
        if (header & 0x40) {
          this.#nals.push(Buffer.concat(this.#fu));
          this.#fu = undefined;
        }
      }
    } else if (type >= 1 && type <= 23) {
      this.#nals.push(payload);
    }
    if (marker) this.#flush();
  }

  #flush(): void {
    const nals = this.#nals;
    const timestamp = this.#timestamp;
    const damaged = this.#damaged || this.#fu !== undefined;
    this.#nals = [];
    this.#fu = undefined;
    this.#damaged = false;
    this.#timestamp = undefined;
    if (nals.length === 0 || timestamp === undefined) return;
    const keyframe = nals.some((n) => (n[0]! & 0x1f) === NAL_IDR);
    if (damaged) {
      this.#needKeyframe = true;
      this.onLoss();
      return;
    }
    if (this.#needKeyframe && !keyframe) return;
    this.#needKeyframe = false;
    for (const n of nals) {
      const t = n[0]! & 0x1f;
      if (t === NAL_SPS) this.#sps = Buffer.from(n);
      else if (t === NAL_PPS) this.#pps = Buffer.from(n);
    }
    let out = nals;
    if (keyframe && this.#sps && this.#pps && !nals.some((n) => (n[0]! & 0x1f) === NAL_SPS)) out = [this.#sps, this.#pps, ...nals];
    out = out.map((n) => Buffer.from(n)); // own the bytes: the RTP packet buffers are reused
    this.onAccessUnit({ data: Buffer.concat(out.flatMap((n) => [START_CODE, n])), keyframe, rtpTimestamp: timestamp, nals: out });
  }
}
