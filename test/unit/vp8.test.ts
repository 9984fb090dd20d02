import { describe, expect, it } from 'vitest';
import { loadNative } from '../helpers/native.js';

const { __test: native } = loadNative();

/** RFC 7741 §4.2 payload descriptor as deskcast writes it (X, I, 15-bit picture id). */
function descriptor(packet: Buffer): { start: boolean; pid: number; pictureId: number; nonReference: boolean; size: number } {
  const p = packet.subarray(12);
  expect(p[0]! & 0x80).toBe(0x80); // X
  expect(p[1]).toBe(0x80); // I only: no TL0PICIDX, no TID/KEYIDX
  expect(p[2]! & 0x80).toBe(0x80); // M: 15-bit picture id
  return { start: (p[0]! & 0x10) !== 0, pid: p[0]! & 0x07, nonReference: (p[0]! & 0x20) !== 0, pictureId: ((p[2]! & 0x7f) << 8) | p[3]!, size: 4 };
}

describe('VP8 RTP packetizer (RFC 7741)', () => {
  it('splits a frame into even packets within the MTU, S on the first, marker on the last, one picture id per frame', () => {
    const frame = Buffer.alloc(5000, 0);
    for (let i = 0; i < frame.length; i++) frame[i] = (i * 7) & 0xff;
    const packets = native.vp8Packetize([frame, Buffer.from([1, 2, 3])], 1200, { ssrc: 0xabcdef01, payloadType: 103, sequenceNumber: 65534, pictureId: 0x7fff, timestamp: 1000 });
    expect(packets.length).toBe(6); // 5000 bytes / 1196 → 5 packets, then a 1-packet frame
    const first = packets.slice(0, 5);
    const sizes = first.map((p) => p.length - 16);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(first.every((p) => p.length <= 12 + 1200)).toBe(true);
    expect(first.map((p) => descriptor(p).start)).toEqual([true, false, false, false, false]);
    expect(first.map((p) => (p[1]! & 0x80) !== 0)).toEqual([false, false, false, false, true]);
    expect(first.every((p) => (p[1]! & 0x7f) === 103 && p.readUInt32BE(8) === 0xabcdef01 && p.readUInt32BE(4) === 1000)).toBe(true);
    expect(first.map((p) => p.readUInt16BE(2))).toEqual([65534, 65535, 0, 1, 2]);
    expect(Buffer.concat(first.map((p) => p.subarray(16)))).toEqual(frame);
    expect(first.every((p) => descriptor(p).pictureId === 0x7fff && descriptor(p).pid === 0)).toBe(true);
    // The second frame: next picture id (15-bit wrap), next timestamp, start + marker.
    const second = descriptor(packets[5]!);
    expect(second.pictureId).toBe(0);
    expect(second.start).toBe(true);
    expect(packets[5]!.readUInt32BE(4)).toBe(4000);
    expect(packets[5]![1]! & 0x80).toBe(0x80);
  });

  it('sends nothing for an empty frame', () => {
    expect(native.vp8Packetize([Buffer.alloc(0)])).toEqual([]);
  });
});

describe('VP8 encoder (libvpx, realtime)', () => {
  it('starts with a keyframe, then inter frames, and a forced keyframe where asked', () => {
    const frames = native.vp8Encode({ width: 320, height: 240, frames: 12, forceKeyframeAt: [7], bitrateKbps: 800 });
    expect(frames.length).toBe(12); // lag 0, no frame dropping: one output per input
    expect(frames.map((f) => f.keyframe)).toEqual(frames.map((_, i) => i === 0 || i === 7));
    for (const f of frames) {
      // VP8 frame tag (RFC 6386 §9.1): bit 0 is 0 for a keyframe, then the 3-byte start code.
      expect((f.data[0]! & 1) === 0).toBe(f.keyframe);
      if (f.keyframe) {
        expect(f.data.subarray(3, 6)).toEqual(Buffer.from([0x9d, 0x01, 0x2a]));
        expect(f.data.readUInt16LE(6) & 0x3fff).toBe(320);
        expect(f.data.readUInt16LE(8) & 0x3fff).toBe(240);
      }
    }
  });

  it('rejects a picture it cannot encode with a clear error', () => {
    expect(() => native.vp8Encode({ width: 1, height: 240, frames: 1 })).toThrow(/bad size/);
  });
});
