// The audio session's pure parts (native, through the test-only `__test` exports): the RFC 7587
// Opus RTP packetizer, the contiguous RTP timeline anchored on the media clock, and an Opus
// encode → packetize → parse → decode round trip with the production encoder settings.
import { describe, expect, it } from 'vitest';
import { loadNative } from '../helpers/native.js';
import { dominantFrequency, toMono, toneLevel } from '../helpers/pulse.js';
import { parseRtp } from '../helpers/rtp.js';

interface AudioTestBindings {
  opusPacketize(payload: Buffer, opts?: { ssrc?: number; payloadType?: number; sequenceNumber?: number; timestamp?: number; marker?: boolean }): Buffer;
  audioTimeline(chunks: { captureTimeUs: number; discontinuity: boolean }[], offset: number): { timestamp: number; reanchored: boolean; clock: number }[];
  encodeOpus(pcm: Buffer, bitrateKbps?: number): Buffer[];
  decodeOpus(packets: (Buffer | null)[]): Buffer;
  mediaClock(monoNs?: bigint): { monoNs: bigint; epochMonoNs: bigint; ntp: bigint; rtp90k: number; rtp48k: number };
}
const native = (loadNative() as unknown as { __test: AudioTestBindings }).__test;

function sine(hz: number, seconds: number, amplitude = 0.5): Buffer {
  const frames = Math.round(48000 * seconds);
  const b = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / 48000));
    b.writeInt16LE(v, i * 4);
    b.writeInt16LE(v, i * 4 + 2);
  }
  return b;
}

describe('RFC 7587 Opus RTP packetizer (native)', () => {
  it('writes a plain 12-byte RTP header in front of the Opus packet', () => {
    const payload = Buffer.from([0xfc, 1, 2, 3, 4, 5]);
    const packet = native.opusPacketize(payload, { ssrc: 0xdeadbeef, payloadType: 111, sequenceNumber: 65535, timestamp: 0xfffffc40, marker: true });
    expect(packet.length).toBe(12 + payload.length);
    expect(packet[0]).toBe(0x80); // V=2, no padding, extension or CSRC
    const rtp = parseRtp(packet);
    expect(rtp).toMatchObject({ marker: true, payloadType: 111, sequenceNumber: 65535, timestamp: 0xfffffc40, ssrc: 0xdeadbeef });
    expect(rtp.payload.equals(payload)).toBe(true);
    expect(parseRtp(native.opusPacketize(payload, { payloadType: 96 })).marker).toBe(false);
  });

  it('rejects payloads larger than one Opus packet can be', () => {
    expect(() => native.opusPacketize(Buffer.alloc(1276))).toThrow(/too large/);
    expect(native.opusPacketize(Buffer.alloc(1275)).length).toBe(1287);
  });
});

describe('audio RTP timeline (native)', () => {
  const base = Number(native.mediaClock().monoNs / 1000n);

  it('anchors on the media clock, then advances exactly 960 per chunk whatever the capture-time jitter', () => {
    const jitter = [0, 300, -250, 800, -900, 100, 0, 1200, -40, 0];
    const chunks = jitter.map((j, i) => ({ captureTimeUs: base + i * 20_000 + j, discontinuity: i === 0 }));
    const out = native.audioTimeline(chunks, 12345);
    expect(out[0]!.timestamp).toBe(out[0]!.clock); // the shared MediaClock mapping, same offset
    expect(out[0]!.reanchored).toBe(true);
    for (let i = 1; i < out.length; i++) {
      expect((out[i]!.timestamp - out[i - 1]!.timestamp) >>> 0).toBe(960);
      expect(out[i]!.reanchored).toBe(false);
    }
  });

  it('re-anchors only on a discontinuity, forward by the gap; never backwards', () => {
    const out = native.audioTimeline(
      [
        { captureTimeUs: base, discontinuity: true },
        { captureTimeUs: base + 20_000, discontinuity: false },
        { captureTimeUs: base + 90_000, discontinuity: false }, // smoothing jump: ignored
        { captureTimeUs: base + 3_000_000, discontinuity: true }, // reconnect after ~3 s
        { captureTimeUs: base + 3_020_000, discontinuity: false },
        { captureTimeUs: base + 3_030_000, discontinuity: true }, // would overlap what was sent
      ],
      0xfffff000, // wraps around 2^32 on the way
    );
    expect((out[2]!.timestamp - out[1]!.timestamp) >>> 0).toBe(960);
    expect(out[3]!.reanchored).toBe(true);
    expect(out[3]!.timestamp).toBe(out[3]!.clock);
    expect((out[3]!.timestamp - out[0]!.timestamp) >>> 0).toBe(3_000_000 * 0.048);
    expect((out[4]!.timestamp - out[3]!.timestamp) >>> 0).toBe(960);
    expect(out[5]!.reanchored).toBe(true);
    expect((out[5]!.timestamp - out[4]!.timestamp) >>> 0).toBe(960); // continued, not stepped back
  });
});

describe('Opus encode → RTP → decode round trip (native)', () => {
  it('a 440 Hz sine comes back as 440 Hz at the same level', () => {
    const pcm = sine(440, 1.0);
    const packets = native.encodeOpus(pcm, 128);
    expect(packets.length).toBe(50);
    const rtp = packets.map((p, i) => parseRtp(native.opusPacketize(p, { sequenceNumber: i, timestamp: i * 960 })));
    for (const p of rtp) expect(p.payload.length).toBeGreaterThan(20);
    const decoded = toMono(native.decodeOpus(rtp.map((p) => p.payload))).subarray(4800);
    expect(Math.abs(dominantFrequency(decoded).hz - 440)).toBeLessThanOrEqual(2);
    expect(toneLevel(decoded, 440)).toBeGreaterThan(0.45);
    // A lost packet is concealed (FEC/PLC) rather than breaking the decoder.
    const withLoss = native.decodeOpus(rtp.map((p, i) => (i === 25 ? null : p.payload)));
    expect(withLoss.length).toBe(50 * 960 * 4);
  });
});
