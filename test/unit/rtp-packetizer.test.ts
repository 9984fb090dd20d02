import { describe, expect, it } from 'vitest';
import { escapeRbsp, nalType, toAnnexB } from '../helpers/h264.js';
import { loadNative } from '../helpers/native.js';
import { H264Depacketizer, parseRtp, type AccessUnit } from '../helpers/rtp.js';

const { __test: native } = loadNative();

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    // Plenty of zero bytes so start-code emulation prevention is exercised.
    b[i] = x % 7 === 0 ? 0 : x & 0xff;
  }
  return b;
}

/** A syntactically plausible NAL unit: header byte + escaped payload ending in a stop bit. */
function makeNal(type: number, nri: number, payloadSize: number, seed: number): Buffer {
  const rbsp = Buffer.concat([randomBytes(Math.max(0, payloadSize - 1), seed), Buffer.from([0x80])]);
  return Buffer.concat([Buffer.from([(nri << 5) | type]), escapeRbsp(rbsp)]);
}

function depacketize(packets: Buffer[]): AccessUnit[] {
  const d = new H264Depacketizer();
  const out: AccessUnit[] = [];
  for (const p of packets) {
    const au = d.push(parseRtp(p));
    if (au) out.push(au);
  }
  return out;
}

describe('RFC 6184 packetizer (native)', () => {
  const sps = makeNal(7, 3, 12, 1);
  const pps = makeNal(8, 3, 4, 2);
  const idr = makeNal(5, 3, 6000, 3);

  it('splits Annex B with 3- and 4-byte start codes and trailing zeros', () => {
    const stream = Buffer.concat([
      Buffer.from([0, 0, 0, 1]), sps,
      Buffer.from([0, 0, 1]), pps,
      Buffer.from([0, 0, 0, 0, 1]), idr, Buffer.from([0, 0]),
    ]);
    const nals = native.splitAnnexB(stream);
    expect(nals.map(nalType)).toEqual([7, 8, 5]);
    expect(nals[0]!.equals(sps)).toBe(true);
    expect(nals[1]!.equals(pps)).toBe(true);
    expect(nals[2]!.equals(idr)).toBe(true);
  });

  it('sends small NAL units as single NAL unit packets and large ones as FU-A', () => {
    const packets = native.packetize(toAnnexB([sps, pps, idr]), 1200, { ssrc: 0xdeadbeef, payloadType: 102, sequenceNumber: 65530, timestamp: 123456 });
    const rtp = packets.map(parseRtp);
    // SPS and PPS travel whole: the payload is exactly the NAL unit.
    expect(rtp[0]!.payload.equals(sps)).toBe(true);
    expect(rtp[1]!.payload.equals(pps)).toBe(true);
    const fu = rtp.slice(2);
    expect(fu.length).toBe(Math.ceil((idr.length - 1) / 1198));
    fu.forEach((p, i) => {
      const indicator = p.payload[0]!;
      const header = p.payload[1]!;
      expect(indicator & 0x1f).toBe(28); // FU-A
      expect(indicator & 0xe0).toBe(idr[0]! & 0xe0); // F + NRI of the original header
      expect(header & 0x1f).toBe(5); // original NAL type
      expect((header & 0x80) !== 0).toBe(i === 0); // S only on the first fragment
      expect((header & 0x40) !== 0).toBe(i === fu.length - 1); // E only on the last
      expect(header & 0x20).toBe(0); // R
    });
    // Header fields: PT, SSRC, one timestamp, consecutive sequence numbers across the wrap.
    for (const [i, p] of rtp.entries()) {
      expect(p.payloadType).toBe(102);
      expect(p.ssrc).toBe(0xdeadbeef);
      expect(p.timestamp).toBe(123456);
      expect(p.sequenceNumber).toBe((65530 + i) & 0xffff);
      expect(packets[i]![0]).toBe(0x80); // V=2, no padding/extension/CSRC
    }
  });

  it('sets the marker bit only on the last packet of the access unit', () => {
    for (const frame of [[sps, pps, idr], [idr], [sps, pps], [makeNal(1, 2, 40, 9)]]) {
      const rtp = native.packetize(toAnnexB(frame), 1200).map(parseRtp);
      expect(rtp.map((p) => p.marker)).toEqual(rtp.map((_, i) => i === rtp.length - 1));
    }
  });

  it('never exceeds the payload limit; the boundary sizes fragment exactly', () => {
    const exact = makeNal(1, 2, 1199, 4); // header + payload: 1200 bytes before escaping
    const nalExact = exact.subarray(0, 1200);
    nalExact[1199] = 0x80; // keep a valid tail
    const justOver = Buffer.concat([nalExact.subarray(0, 1199), Buffer.from([0x11, 0x80])]); // 1201
    const single = native.packetize(toAnnexB([nalExact]), 1200);
    expect(single).toHaveLength(1);
    expect(single[0]!.length).toBe(12 + 1200);
    const split = native.packetize(toAnnexB([justOver]), 1200).map(parseRtp);
    expect(split).toHaveLength(2);
    expect(split[0]!.payload.length).toBe(1200); // 2 FU bytes + 1198
    expect(split[1]!.payload.length).toBe(2 + (1201 - 1 - 1198));
    for (const mtu of [3, 50, 100, 576, 1200, 1400]) {
      const packets = native.packetize(toAnnexB([sps, pps, idr]), mtu);
      for (const p of packets) expect(p.length - 12).toBeLessThanOrEqual(mtu);
    }
  });

  it('reassembles to the original NAL units bit-identically (independent depacketizer)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const sizes = [5, 90, 1199, 1200, 1201, 2400, 7777, 30000].map((s, i) => (s * (seed + i)) % 40000 + 2);
      const frame = sizes.map((s, i) => makeNal(i === 0 ? 5 : 1, (seed + i) % 4, s, seed * 100 + i));
      for (const mtu of [200, 1200]) {
        const aus = depacketize(native.packetize(toAnnexB(frame), mtu, { sequenceNumber: seed * 1000 }));
        expect(aus).toHaveLength(1);
        expect(aus[0]!.complete).toBe(true);
        expect(aus[0]!.nals).toHaveLength(frame.length);
        aus[0]!.nals.forEach((nal, i) => expect(nal.equals(frame[i]!)).toBe(true));
      }
    }
  });

  it('handles empty and start-code-free input without crashing', () => {
    expect(native.packetize(Buffer.alloc(0))).toEqual([]);
    expect(native.packetize(Buffer.from([1, 2, 3, 4, 5]))).toEqual([]);
    expect(native.packetize(Buffer.from([0, 0, 0, 1]))).toEqual([]);
    expect(native.packetize(Buffer.from([0, 0, 1, 0x65]))).toHaveLength(1);
  });
});
