import { describe, expect, it } from 'vitest';
import { H264Depacketizer, type AccessUnit } from '../../server/taps/h264Depacketizer.js';
import { readDuration, durationElement, segmentSize } from '../../server/taps/matroska.js';
import { MediaClock, parseRtp } from '../../server/taps/rtpPacket.js';

const sps = Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0xaa]);
const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(3000, 7)]);

function stapA(...nals: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([0x18]), ...nals.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n])]);
}

function fuA(nal: Buffer, chunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 1; off < nal.length; off += chunk) {
    const start = off === 1 ? 0x80 : 0;
    const end = off + chunk >= nal.length ? 0x40 : 0;
    out.push(Buffer.concat([Buffer.from([(nal[0]! & 0xe0) | 28, start | end | (nal[0]! & 0x1f)]), nal.subarray(off, off + chunk)]));
  }
  return out;
}

describe('RFC 6184 depacketizer', () => {
  it('rebuilds STAP-A + FU-A into one Annex B access unit, and single NALs', () => {
    const aus: AccessUnit[] = [];
    const d = new H264Depacketizer((au) => aus.push(au));
    const fragments = fuA(idr, 1000);
    let seq = 100;
    d.push(stapA(sps, pps), 9000, seq++, false);
    fragments.forEach((f, i) => d.push(f, 9000, seq++, i === fragments.length - 1));
    d.push(Buffer.from([0x41, 1, 2, 3]), 12000, seq++, true);
    expect(aus).toHaveLength(2);
    const start = Buffer.from([0, 0, 0, 1]);
    expect(aus[0]!.data).toEqual(Buffer.concat([start, sps, start, pps, start, idr]));
    expect(aus[0]!.keyframe).toBe(true);
    expect(aus[1]).toMatchObject({ keyframe: false, rtpTimestamp: 12000 });
  });

  it('drops a damaged access unit and waits for a keyframe (asking for one); prepends SPS/PPS to a bare IDR', () => {
    const aus: AccessUnit[] = [];
    let losses = 0;
    const d = new H264Depacketizer((au) => aus.push(au), () => losses++);
    d.push(stapA(sps, pps), 0, 1, false);
    d.push(idr, 0, 2, true);
    const fragments = fuA(Buffer.concat([Buffer.from([0x41]), Buffer.alloc(3000, 1)]), 1000);
    d.push(fragments[0]!, 3000, 3, false);
    d.push(fragments[2]!, 3000, 5, true); // 4 lost
    d.push(Buffer.from([0x41, 9]), 6000, 6, true); // not a keyframe: still waiting
    d.push(idr, 9000, 7, true);
    expect(losses).toBe(1);
    expect(aus.map((a) => a.rtpTimestamp)).toEqual([0, 9000]);
    expect(aus[1]!.nals.map((n) => n[0]! & 0x1f)).toEqual([7, 8, 5]);
  });
});

describe('RTP and the media clock', () => {
  it('parses a header with CSRCs, an extension and padding', () => {
    const p = Buffer.from([0xb1, 0xe6, 0, 5, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0xaa, 0xbb, 0, 0, 3]);
    expect(parseRtp(p)).toMatchObject({ marker: true, payloadType: 102, sequenceNumber: 5, timestamp: 9, ssrc: 1, payload: Buffer.from([0xaa, 0xbb]) });
    expect(parseRtp(Buffer.alloc(5))).toBeUndefined();
  });

  it('follows RTP time across the 32-bit wrap and re-anchors after a jump', () => {
    const clock = new MediaClock(90_000);
    expect(clock.toMs(2 ** 32 - 45_000, 1000)).toBe(1000);
    expect(clock.toMs(45_000, 1900)).toBeCloseTo(2000); // one second later by the media clock
    expect(clock.toMs(123_456_789, 2950)).toBe(2950); // a sender restart: anchored again
  });
});

describe('Matroska completion', () => {
  it('writes an 8-byte segment size and a Duration the list reads back', () => {
    expect(segmentSize(1000)).toEqual(Buffer.from([0x01, 0, 0, 0, 0, 0, 0x03, 0xe8]));
    const d = durationElement(3210);
    expect(d).toHaveLength(11);
    expect(readDuration(Buffer.concat([Buffer.alloc(20), d]))).toBeCloseTo(3.21);
  });
});
