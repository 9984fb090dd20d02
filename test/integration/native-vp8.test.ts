import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/browser.js';
import { loadNative, type NativeVideoEvent, type NativeVideoStats } from '../helpers/native.js';
import { buildPli } from '../helpers/rtp.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const SSRC = 0x1111;
const VP8_SSRC = 0x2222;
const PEER_SSRC = 0x9999;

interface Packet {
  ssrc: number;
  pt: number;
  marker: boolean;
  payload: Buffer;
  at: number;
}

/** The VP8 frames' first packets (S=1, PID 0) and whether each starts a keyframe (RFC 6386 §9.1). */
function vp8FrameStarts(packets: Packet[]): { keyframe: boolean; pictureId: number; at: number }[] {
  return packets
    .filter((p) => p.ssrc === VP8_SSRC && (p.payload[0]! & 0x17) === 0x10)
    .map((p) => ({ keyframe: (p.payload[4]! & 1) === 0, pictureId: ((p.payload[2]! & 0x7f) << 8) | p.payload[3]!, at: p.at }));
}

describe('VideoSession VP8 stream (same capture, own SSRC, on demand)', () => {
  const native = loadNative();
  let xvfb: XvfbServer;
  let socket: Socket;
  let port = 0;
  const packets: Packet[] = [];
  let animation: { stop(): void } | undefined;

  beforeAll(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    await xvfb.paint('#336699');
    // Capture is change-driven: a ticking corner keeps frames flowing (a still screen sends none).
    animation = xvfb.animate();
    socket = createSocket('udp4');
    socket.on('message', (d) => {
      if (d.length < 12 || (d[1]! >= 200 && d[1]! <= 206)) return; // RTCP (the SRs)
      packets.push({ ssrc: d.readUInt32BE(8), pt: d[1]! & 0x7f, marker: (d[1]! & 0x80) !== 0, payload: d.subarray(12), at: performance.now() });
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    port = socket.address().port;
  });

  afterAll(async () => {
    animation?.stop();
    socket?.close();
    await xvfb?.stop();
  });

  it('sends nothing on the VP8 SSRC until enabled; then VP8 from a keyframe; a PLI for it gets a VP8 keyframe only; disabled: VP8 stops, H.264 goes on', async () => {
    const stats: NativeVideoStats[] = [];
    const keyframes: string[] = [];
    const session = new native.VideoSession({
      display: xvfb.display, fps: 30, bitrateKbps: 1000, keyframeIntervalSec: 60, encoder: 'x264',
      destinationHost: '127.0.0.1', destinationPort: port, ssrc: SSRC, payloadType: 102, vp8Ssrc: VP8_SSRC, vp8PayloadType: 103, cname: 'vp8-test',
      onEvent: (e: NativeVideoEvent) => {
        if (e.type === 'stats') stats.push(e);
        if (e.type === 'keyframe') keyframes.push(e.reason);
      },
    });
    try {
      await session.start();
      expect(await waitFor(async () => stats.length >= 1, 3000)).toBe(true);
      expect(packets.some((p) => p.ssrc === SSRC && p.pt === 102)).toBe(true);
      expect(packets.some((p) => p.ssrc === VP8_SSRC)).toBe(false);
      expect(stats.at(-1)!.vp8Active).toBe(false);

      session.setVp8Enabled(true);
      expect(await waitFor(async () => vp8FrameStarts(packets).length >= 10, 5000)).toBe(true);
      const frames = vp8FrameStarts(packets);
      expect(frames[0]!.keyframe).toBe(true);
      expect(frames.slice(1, 10).every((f) => !f.keyframe)).toBe(true); // a ticking corner: inter frames
      expect(frames.slice(1, 10).every((f, i) => f.pictureId === ((frames[i]!.pictureId + 1) & 0x7fff))).toBe(true);
      expect(packets.filter((p) => p.ssrc === VP8_SSRC).every((p) => p.pt === 103)).toBe(true);
      expect(await waitFor(async () => stats.at(-1)!.vp8Active && stats.at(-1)!.vp8FramesSent > 0, 3000)).toBe(true);

      // PLI for the VP8 SSRC → a VP8 keyframe; the H.264 stream is not disturbed.
      const h264KeyframesBefore = keyframes.length;
      const sent = performance.now();
      await new Promise<void>((resolve, reject) => socket.send(buildPli(PEER_SSRC, VP8_SSRC), session.localPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      const answered = await waitFor(async () => vp8FrameStarts(packets).some((f) => f.keyframe && f.at > sent), 2000, 20);
      expect(answered, 'a VP8 keyframe should follow the PLI').toBe(true);
      expect(await waitFor(async () => stats.at(-1)!.vp8PliReceived >= 1, 3000)).toBe(true);
      expect(keyframes.length).toBe(h264KeyframesBefore);

      session.setVp8Enabled(false);
      expect(await waitFor(async () => !stats.at(-1)!.vp8Active, 3000)).toBe(true);
      const stoppedAt = performance.now();
      await new Promise((r) => setTimeout(r, 500));
      expect(packets.filter((p) => p.ssrc === VP8_SSRC && p.at > stoppedAt).length).toBe(0);
      expect(packets.filter((p) => p.ssrc === SSRC && p.at > stoppedAt).length).toBeGreaterThan(0);
    } finally {
      session.stop();
    }
  });

  it('rejects a VP8 SSRC equal to the H.264 one, and setVp8Enabled on a session created without VP8', () => {
    const base = {
      display: xvfb.display, fps: 30, bitrateKbps: 1000, keyframeIntervalSec: 2, encoder: 'x264' as const,
      destinationHost: '127.0.0.1', destinationPort: port, ssrc: SSRC, payloadType: 102, cname: 'vp8-test', onEvent: () => undefined,
    };
    expect(() => new native.VideoSession({ ...base, vp8Ssrc: SSRC, vp8PayloadType: 103 })).toThrow(/vp8Ssrc must differ from ssrc/);
    const session = new native.VideoSession(base);
    try {
      expect(() => session.setVp8Enabled(true)).toThrow(/no VP8 stream: create it with vp8Ssrc and vp8PayloadType/);
    } finally {
      session.stop();
    }
  });
});
