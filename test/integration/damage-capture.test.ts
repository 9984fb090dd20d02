// Change-driven capture (X DAMAGE) against a real Xvfb: a still screen encodes nothing but keeps
// sending RTCP sender reports, a change is sent within one frame interval and followed by one
// tiny repeat when the screen goes still, a PLI on a still
// screen yields an IDR of the current picture, cursor-only motion is a small frame, and the
// abs-capture-time / playout-delay header extensions ride on each frame's first packet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, videoStatsCollector } from '../helpers/native.js';
import { buildPli, buildReceiverReport, hasIdr, ntpToUnixMs, RtpReceiver } from '../helpers/rtp.js';
import { toAnnexB } from '../helpers/h264.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const SSRC = 0x0d4a6e01;
const PEER_SSRC = 0x11112222;
const FPS = 30;
const ABS_CAPTURE_TIME_ID = 10;
const PLAYOUT_DELAY_ID = 11;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
type VideoSession = InstanceType<ReturnType<typeof loadNative>['VideoSession']>;

describe('change-driven capture (X DAMAGE)', () => {
  const native = loadNative();
  let xvfb: XvfbServer;
  let receiver: RtpReceiver;
  let session: VideoSession;
  const stats = videoStatsCollector();
  const nextStats = (): ReturnType<typeof stats.next> => stats.next(2000);
  /** Lets the screen (and our last frames) settle. */
  const settle = async (): Promise<void> => {
    await sleep(500);
  };

  beforeAll(async () => {
    xvfb = await startXvfb({ width: 1280, height: 720 });
    await xvfb.paint('#204060');
    await xvfb.run('xdotool', ['mousemove', '5', '5']);
    receiver = await RtpReceiver.open();
    session = new native.VideoSession({
      display: xvfb.display,
      fps: FPS,
      bitrateKbps: 2000,
      keyframeIntervalSec: 0,
      encoder: 'auto',
      destinationHost: '127.0.0.1',
      destinationPort: receiver.port,
      ssrc: SSRC,
      payloadType: 102,
      cname: 'damage-test',
      absCaptureTimeExtensionId: ABS_CAPTURE_TIME_ID,
      playoutDelayExtensionId: PLAYOUT_DELAY_ID,
      onEvent: stats.onEvent,
    });
    await session.start();
    await receiver.firstAccessUnit(5000);
  });

  afterAll(async () => {
    session?.stop();
    await receiver?.close();
    await xvfb?.stop();
  });

  it('encodes nothing while the screen is still, and keeps sending sender reports', async () => {
    await settle();
    const before = await nextStats();
    const srsBefore = receiver.senderReports.length;
    const ausBefore = receiver.accessUnits.length;
    await sleep(2200);
    const after = await nextStats();
    expect(after.framesEncoded).toBe(before.framesEncoded);
    expect(after.framesCaptured).toBe(before.framesCaptured);
    expect(after.captureFps).toBe(0);
    expect(receiver.accessUnits.length).toBe(ausBefore);
    expect(receiver.senderReports.length - srsBefore).toBeGreaterThanOrEqual(2); // ~1 per second
  });

  it('grabs a change within one frame interval of noticing it, and sends it', async () => {
    const waits: number[] = [];
    for (const color of ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#00ffff']) {
      await settle();
      const next = receiver.nextAccessUnit(() => true, 2000);
      await xvfb.paint(color);
      await next; // sent without any frame tick of its own (the screen was still for 400 ms)
      const withChange = await nextStats();
      waits.push(...withChange.stageMs.changeToGrab);
    }
    expect(waits.length).toBeGreaterThanOrEqual(5);
    // The last frame was long ago, so the grab happens at once, not at the next 1/fps tick.
    waits.sort((a, b) => a - b);
    expect(waits[Math.floor(waits.length / 2)]!).toBeLessThan(1000 / FPS);
    expect(waits.at(-1)!).toBeLessThan(1000 / FPS + 20); // the CI machine may be busy
  });

  it('answers a PLI on a still screen with an IDR of the current picture', async () => {
    await settle();
    const idr = receiver.nextAccessUnit(hasIdr, 500);
    await receiver.send(Buffer.concat([buildReceiverReport(PEER_SSRC), buildPli(PEER_SSRC, SSRC)]), session.localPort);
    const au = await idr;
    const [picture] = native.__test.decodeH264([toAnnexB(au.nals)]);
    // The last paint was #00ffff: Y ≈ 170 in BT.601 limited range.
    expect(Math.abs(picture!.y - 170)).toBeLessThanOrEqual(6);

    // A viewer joining asks for that IDR before its own SRTP may be ready to take it; tiny
    // repeats follow at doubling gaps (40 ms … 1.28 s after it) so it notices what it missed,
    // and asks again, soon after its SRTP became ready. Then nothing.
    const from = receiver.accessUnits.indexOf(au);
    await sleep(1700);
    const repeats = receiver.accessUnits.slice(from + 1);
    expect(repeats).toHaveLength(6);
    const after = repeats.map((r) => r.receivedAt - au.receivedAt);
    expect(after[0]!).toBeLessThan(100);
    expect(after.at(-1)!).toBeGreaterThan(1100);
    expect(after.at(-1)!).toBeLessThan(1600);
    for (const r of repeats) {
      expect(hasIdr(r)).toBe(false);
      expect(r.nals.reduce((n, b) => n + b.length, 0)).toBeLessThan(600);
    }
  });

  it('follows the last frame before a still screen with one small repeat, so a receiver that missed it notices', async () => {
    await settle();
    const ausBefore = receiver.accessUnits.length;
    await xvfb.paint('#336699');
    await sleep(600);
    const sent = receiver.accessUnits.slice(ausBefore);
    expect(sent.length).toBe(2); // the change, then one repeat ~150 ms later; then nothing
    const [change, repeat] = sent as [(typeof sent)[0], (typeof sent)[0]];
    expect(repeat.receivedAt - change.receivedAt).toBeGreaterThan(100);
    expect(repeat.receivedAt - change.receivedAt).toBeLessThan(400);
    expect(repeat.nals.some((n) => (n[0]! & 0x1f) === 5)).toBe(false); // a P-frame
    const bytes = (au: (typeof sent)[0]): number => au.nals.reduce((a, n) => a + n.length, 0);
    expect(bytes(repeat)).toBeLessThan(Math.max(600, bytes(change) / 10)); // all-skip: tiny
    await sleep(400);
    expect(receiver.accessUnits.length - ausBefore).toBe(2);
  });

  it('sends cursor-only motion as a small frame, not a whole-screen update', async () => {
    await settle();
    const next = receiver.nextAccessUnit(() => true, 1000);
    await xvfb.run('xdotool', ['mousemove', '300', '200']);
    const au = await next;
    expect(hasIdr(au)).toBe(false);
    const bytes = au.nals.reduce((n, b) => n + b.length, 0);
    expect(bytes).toBeLessThan(3000);
  });

  it('puts abs-capture-time and playout-delay (0, 0) on the first packet of each frame', async () => {
    await settle();
    receiver.rtpPackets.length = 0;
    const next = receiver.nextAccessUnit(() => true, 1000);
    const before = Date.now();
    await xvfb.paint('#808080');
    await next;
    const first = receiver.rtpPackets[0]!;
    const capture = first.extensions.get(ABS_CAPTURE_TIME_ID);
    expect(capture?.length).toBe(8);
    const captureUnixMs = ntpToUnixMs(capture!.readBigUInt64BE(0));
    expect(captureUnixMs).toBeGreaterThan(before - 5);
    expect(captureUnixMs).toBeLessThan(Date.now() + 5);
    expect([...(first.extensions.get(PLAYOUT_DELAY_ID) ?? [])]).toEqual([0, 0, 0]);
    for (const p of receiver.rtpPackets.slice(1)) {
      if (p.timestamp === first.timestamp) expect(p.extensions.size).toBe(0);
    }
  });
});
