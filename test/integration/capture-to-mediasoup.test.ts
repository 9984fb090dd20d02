import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { NativeVideoStats } from '../../server/native/nativeAddon.js';
import { MediaCluster } from '../../server/media/MediaCluster.js';
import { resolveWorkerBinary } from '../../server/media/workerBinary.js';
import { setLogLevel } from '../../server/util/logger.js';
import { VideoBridge } from '../../server/video/VideoBridge.js';
import { hasIdr, RtpReceiver } from '../helpers/rtp.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

/**
 * The real native addon on a real Xvfb, sending into the real mediasoup worker's
 * PlainTransport. A second PlainTransport consumes the stream back out to a UDP socket of
 * the test, standing in for a viewer.
 */
describe('native capture → mediasoup worker', () => {
  let xvfb: XvfbServer;
  let media: MediaCluster;
  let capture: VideoBridge;
  const stats: NativeVideoStats[] = [];

  beforeAll(async () => {
    setLogLevel('warn');
    xvfb = await startXvfb({ width: 800, height: 600 });
    await xvfb.paint('#00aa00');
    media = await MediaCluster.create({ workerCount: 1, workerBin: await resolveWorkerBinary(), announcedAddress: '127.0.0.1', rtcPort: 47100 });
    const spec = { kind: 'video' as const, ssrc: 0x1234567, payloadType: 102, cname: 'it-test' };
    const endpoint = await media.addIngest(spec);
    capture = await VideoBridge.start({
      display: xvfb.display,
      fps: 30,
      bitrateKbps: 2000,
      keyframeIntervalSec: 60,
      encoder: 'x264',
      cname: spec.cname,
      ssrc: spec.ssrc,
      payloadType: spec.payloadType,
      destination: endpoint,
    });
    capture.on('stats', (s) => stats.push(s));
  });

  afterAll(async () => {
    capture?.close();
    media?.close();
    await xvfb?.stop();
  });

  it('the producer receives the stream: its stats grow', async () => {
    const ticker = xvfb.animate(); // capture is change-driven: keep frames flowing (the next test wants a still screen)
    onTestFinished(() => ticker.stop());
    await new Promise((r) => setTimeout(r, 1500));
    const first = (await media.producerStats('video'))[0];
    await new Promise((r) => setTimeout(r, 1000));
    const second = (await media.producerStats('video'))[0];
    expect(first?.mimeType).toBe('video/H264');
    expect(second!.packetCount).toBeGreaterThan(first!.packetCount);
    expect(second!.byteCount).toBeGreaterThan(first!.byteCount);
    expect(capture.status).toMatchObject({ state: 'running', encoder: 'libx264', width: 800, height: 600 });
  });

  it('a viewer resuming on a static screen makes mediasoup send a PLI, answered with an IDR', async () => {
    const receiver = await RtpReceiver.open();
    // A consuming PlainTransport plays the viewer: mediasoup sends it RTP like to a browser.
    const router = media.routerForTests(0);
    const out = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    await out.connect({ ip: '127.0.0.1', port: receiver.port });
    const consumer = await out.consume({ producerId: media.producerIds()[0]!, rtpCapabilities: router.rtpCapabilities, paused: true });
    await new Promise((r) => setTimeout(r, 2500)); // static screen, keyframe interval 60 s
    const pliBefore = stats.at(-1)?.pliReceived ?? 0;
    const keyframesBefore = stats.at(-1)?.keyframesSent ?? 0;
    const resumedAt = performance.now();
    await consumer.resume();
    const idr = await receiver.nextAccessUnit(hasIdr, 3000);
    expect(idr.receivedAt - resumedAt).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 1200)); // the next stats event
    expect(stats.at(-1)!.pliReceived).toBeGreaterThan(pliBefore);
    expect(stats.at(-1)!.keyframesSent).toBeGreaterThan(keyframesBefore);
    out.close();
    receiver.socket.close();
  });
});
