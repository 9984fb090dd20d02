import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nalType, parseSps, toAnnexB } from '../helpers/h264.js';
import { fdsAddedSince, openFds } from '../helpers/processResources.js';
import { loadNative, nativeAddonPath, type NativeVideoEvent, type VideoSessionOptions } from '../helpers/native.js';
import { spawnTsxChild } from '../helpers/tsxChild.js';
import { buildFir, buildPli, buildReceiverReport, hasIdr, ntpToUnixMs, RtpReceiver, type AccessUnit } from '../helpers/rtp.js';
import { hasXvnc, pickFreeDisplayNumber, startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const native = loadNative();
type VideoSession = InstanceType<typeof native.VideoSession>;

const SSRC = 0x2468ace0;
const PT = 102;
const CNAME = 'deskcast-test';
const PEER_SSRC = 0x13579bdf;

/** SysV shared-memory segments created by this process (/proc/sysvipc/shm: cpid column). */
const ownShmSegments = (): number =>
  readFileSync('/proc/sysvipc/shm', 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim().split(/\s+/)[4] === String(process.pid)).length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Collects a session's events and lets tests wait for specific ones. */
class Events {
  readonly all: NativeVideoEvent[] = [];
  #waiters: { pred: (e: NativeVideoEvent) => boolean; resolve: (e: NativeVideoEvent) => void }[] = [];
  readonly onEvent = (e: NativeVideoEvent): void => {
    this.all.push(e);
    for (const w of [...this.#waiters]) {
      if (w.pred(e)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  };
  next<T extends NativeVideoEvent>(pred: (e: NativeVideoEvent) => e is T, timeoutMs = 5000, what = 'an event'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${JSON.stringify(this.all.slice(-5))}`)), timeoutMs);
      this.#waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e as T)) });
    });
  }
  /** An event already received that matches, else the next one. */
  seenOrNext<T extends NativeVideoEvent>(pred: (e: NativeVideoEvent) => e is T, timeoutMs = 5000): Promise<T> {
    const seen = this.all.find(pred);
    return seen ? Promise.resolve(seen) : this.next(pred, timeoutMs);
  }
  stats(timeoutMs = 5000): Promise<Extract<NativeVideoEvent, { type: 'stats' }>> {
    return this.next((e): e is Extract<NativeVideoEvent, { type: 'stats' }> => e.type === 'stats', timeoutMs, 'stats');
  }
  /** The next keyframe event (with `reason`, if given: events of earlier frames may still be in flight). */
  keyframe(timeoutMs = 5000, reason?: string): Promise<Extract<NativeVideoEvent, { type: 'keyframe' }>> {
    return this.next(
      (e): e is Extract<NativeVideoEvent, { type: 'keyframe' }> => e.type === 'keyframe' && (reason === undefined || e.reason === reason),
      timeoutMs,
      `a keyframe event${reason ? ` (${reason})` : ''}`,
    );
  }
}

function spsOf(au: AccessUnit): ReturnType<typeof parseSps> {
  const sps = au.nals.find((n) => nalType(n) === 7);
  if (!sps) throw new Error('access unit has no SPS');
  return parseSps(sps);
}

describe('native VideoSession against a real Xvfb', () => {
  let xvfb: XvfbServer;
  let receiver: RtpReceiver;
  let session: VideoSession;
  const events = new Events();
  let baseline: { fds: Map<string, string>; shm: number };
  let animation: { stop(): void } | undefined;

  const options = (overrides: Partial<VideoSessionOptions> = {}): VideoSessionOptions => ({
    display: xvfb.display,
    fps: 30,
    bitrateKbps: 2000,
    keyframeIntervalSec: 20, // long: keyframes in these tests come from requests
    encoder: 'auto',
    destinationHost: '127.0.0.1',
    destinationPort: receiver.port,
    ssrc: SSRC,
    payloadType: PT,
    cname: CNAME,
    onEvent: events.onEvent,
    ...overrides,
  });

  beforeAll(async () => {
    xvfb = await startXvfb({ width: 1280, height: 720 });
    await xvfb.paint('#ff0000');
    await xvfb.run('xdotool', ['mousemove', '5', '5']); // keep the cursor off the sampled center
    // Capture is change-driven: a ticking corner keeps frames flowing at the configured fps
    // (still-screen behaviour is test/integration/damage-capture.test.ts's subject).
    animation = xvfb.animate();
    receiver = await RtpReceiver.open();
  });

  afterAll(async () => {
    animation?.stop();
    session?.stop();
    await receiver?.close();
    await xvfb?.stop();
  });

  it('rejects bad options with a TypeError that names the option', () => {
    const bad: [Partial<VideoSessionOptions> | Record<string, unknown>, RegExp][] = [
      [{ fps: 0 }, /options\.fps must be an integer between 1 and 120 \(got 0\)/],
      [{ fps: 30.5 }, /options\.fps/],
      [{ bitrateKbps: 50 }, /options\.bitrateKbps must be a number between 100 and 100000/],
      [{ keyframeIntervalSec: 0.1 }, /keyframeIntervalSec/],
      [{ encoder: 'h265' as never }, /options\.encoder must be 'auto', 'x264', 'nvenc' or 'vaapi' \(got 'h265'\)/],
      [{ destinationPort: 70000 }, /destinationPort/],
      [{ ssrc: -1 }, /ssrc/],
      [{ payloadType: 72 }, /payloadType must not be 64\.\.95/],
      [{ cname: '' }, /cname must be a non-empty string/],
      [{ display: 5 as never }, /display must be a non-empty string \(got 5\)/],
      [{ onEvent: undefined as never }, /onEvent must be a function/],
      [{ width: 8 }, /width must be an integer between 16 and 7680/],
      [{ bogus: 1 } as never, /unknown option 'bogus'/],
    ];
    for (const [override, message] of bad) {
      let error: unknown;
      try {
        new native.VideoSession(options(override as Partial<VideoSessionOptions>));
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(Object.keys(override))).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(message);
      expect((error as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    }
    expect(() => new (native.VideoSession as unknown as new () => unknown)()).toThrow(TypeError);
  });

  it('fails on a display without an X server with a clear, actionable error (from start(), not the constructor)', async () => {
    const display = `:${pickFreeDisplayNumber()}`;
    const s = new native.VideoSession(options({ display })); // validates only: opens nothing
    expect(s.localPort).toBe(0);
    let error: (Error & { code?: string }) | undefined;
    try {
      await s.start();
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toBe(
      `cannot open X display '${display}': is an X server running there? Pass --display or unset it to let deskcast start its own`,
    );
    expect(error?.code).toBe('ERR_DISPLAY_OPEN');
    // A failed start released the session: another may be created at once.
    new native.VideoSession(options()).stop();
    s.stop(); // harmless
  });

  it('fails clearly when a forced hardware encoder cannot open', async () => {
    for (const encoder of ['nvenc', 'vaapi'] as const) {
      const s = new native.VideoSession(options({ encoder }));
      let error: (Error & { code?: string }) | undefined;
      try {
        await s.start(); // opens only on a machine with the GPU
      } catch (e) {
        error = e as Error;
      } finally {
        s.stop();
      }
      if (!error) continue;
      expect(error.code).toBe('ERR_NO_ENCODER');
      expect(error.message).toMatch(new RegExp(`cannot open encoder h264_${encoder}: .+ Use encoder: 'auto'`));
    }
  });

  it('streams RTP: SPS + PPS + IDR first, Constrained Baseline, correct PT/SSRC, decodable red picture', async () => {
    baseline = { fds: openFds(), shm: ownShmSegments() };
    session = new native.VideoSession(options());
    expect(session.localPort).toBe(0); // nothing is opened before start()
    const callStart = performance.now();
    const starting = session.start();
    expect(performance.now() - callStart).toBeLessThan(50); // the opening runs off the JS thread
    const started = await starting;
    expect(session.localPort).toBeGreaterThan(0);
    expect(started.width).toBe(1280);
    expect(started.height).toBe(720);
    expect(['libx264', 'h264_nvenc', 'h264_vaapi']).toContain(started.encoder);
    if (started.encoder === 'libx264') {
      // auto tried the hardware encoders first and says why each was skipped
      expect(started.skipped.map((s) => s.encoder)).toEqual(['h264_nvenc', 'h264_vaapi']);
      for (const s of started.skipped) expect(s.reason.length).toBeGreaterThan(5);
    }
    expect(ownShmSegments()).toBe(baseline.shm + 1);

    const first = await receiver.firstAccessUnit(5000);
    expect(first.ssrc).toBe(SSRC);
    expect(first.payloadType).toBe(PT);
    expect(first.complete).toBe(true);
    expect(first.nals.slice(0, 3).map(nalType)).toEqual([7, 8, 5]);
    const sps = spsOf(first);
    expect(sps).toMatchObject({ profileIdc: 66, constrainedBaseline: true, width: 1280, height: 720 });
    expect(sps.levelIdc).toBeLessThanOrEqual(31); // 720p30 fits level 3.1 (profile-level-id 42e01f)
    const startKeyframe = await events.seenOrNext((e): e is Extract<NativeVideoEvent, { type: 'keyframe' }> => e.type === 'keyframe');
    expect(startKeyframe.reason).toBe('start');

    // More frames: consecutive sequence numbers, 90 kHz timestamps ~3000 apart at 30 fps.
    await sleep(1000);
    const aus = receiver.accessUnits.slice(0, 20);
    const decoded = native.__test.decodeH264(aus.map((au) => toAnnexB(au.nals)));
    expect(decoded.length).toBe(aus.length);
    expect(decoded[0]).toMatchObject({ width: 1280, height: 720, keyFrame: true });
    for (const f of decoded) {
      // pure red in BT.601 limited range: Y 82, U 90, V 240
      expect(Math.abs(f.y - 82)).toBeLessThanOrEqual(4);
      expect(Math.abs(f.u - 90)).toBeLessThanOrEqual(4);
      expect(Math.abs(f.v - 240)).toBeLessThanOrEqual(4);
    }
    const packets = receiver.rtpPackets;
    for (let i = 1; i < packets.length; i++) {
      expect(packets[i]!.sequenceNumber).toBe((packets[i - 1]!.sequenceNumber + 1) & 0xffff);
      expect(packets[i]!.payload.length).toBeLessThanOrEqual(1200);
    }
    const deltas = aus.slice(1).map((au, i) => (au.timestamp - aus[i]!.timestamp) >>> 0);
    const median = [...deltas].sort((a, b) => a - b)[deltas.length >> 1]!;
    expect(median).toBeGreaterThan(2700);
    expect(median).toBeLessThan(3300);
    // Only P slices between keyframes, no B-frames or SEI leak through.
    for (const au of aus.slice(1)) expect(au.nals.map(nalType).every((t) => t === 1 || t === 5 || t === 7 || t === 8)).toBe(true);
  });

  it('sends RTCP sender reports with NTP/RTP from the media clock and the CNAME', async () => {
    const sr = await receiver.nextSenderReport(() => true, 2500);
    expect(sr.ssrc).toBe(SSRC);
    expect(sr.cname).toBe(CNAME);
    expect(sr.packetCount).toBeGreaterThan(0);
    expect(sr.octetCount).toBeGreaterThan(0);
    expect(Math.abs(ntpToUnixMs(sr.ntpTimestamp) - Date.now())).toBeLessThan(1000);
    // The SR's RTP time is "now": within a frame or two of the newest RTP timestamp.
    const latest = receiver.accessUnits.at(-1)!.timestamp;
    expect(Math.abs(((sr.rtpTimestamp - latest) << 0))).toBeLessThan(90000 / 5);
  });

  it('reports growing stats about once a second', async () => {
    const a = await events.stats(2500);
    const b = await events.stats(2500);
    expect(b.framesSent).toBeGreaterThan(a.framesSent);
    expect(b.packetsSent).toBeGreaterThan(a.packetsSent);
    expect(b.bytesSent).toBeGreaterThan(a.bytesSent);
    expect(b.framesCaptured).toBeGreaterThanOrEqual(b.framesEncoded);
    expect(b.captureFps).toBeGreaterThan(20); // change-driven: paced by the ticker's repaints, at most 30
    expect(b.captureFps).toBeLessThan(35);
    expect(b).toMatchObject({ width: 1280, height: 720, keyframesSent: 1, pliReceived: 0, firReceived: 0, rtcpMalformed: 0 });
    expect(b.encoder).toMatch(/^(libx264|h264_nvenc|h264_vaapi)$/);
    for (const k of ['captureMsAvg', 'convertMsAvg', 'encodeMsAvg'] as const) expect(b[k]).toBeGreaterThan(0);
  });

  it('answers an RTCP PLI on a static screen with an IDR within 500 ms', async () => {
    await sleep(1500); // the screen has been static since the start
    const idr = receiver.nextAccessUnit(hasIdr, 2000);
    const keyframe = events.keyframe(2000, 'pli');
    const sentAt = performance.now();
    await receiver.send(Buffer.concat([buildReceiverReport(PEER_SSRC), buildPli(PEER_SSRC, SSRC)]), session.localPort);
    const au = await idr;
    expect(au.receivedAt - sentAt).toBeLessThan(500);
    expect(au.nals.slice(0, 3).map(nalType)).toEqual([7, 8, 5]);
    expect((await keyframe).reason).toBe('pli');
    expect((await events.stats()).pliReceived).toBeGreaterThanOrEqual(1);
  });

  it('answers an RTCP FIR with an IDR within 500 ms; a repeated FIR sequence number is not a new request', async () => {
    await sleep(300);
    const idr = receiver.nextAccessUnit(hasIdr, 2000);
    const keyframe = events.keyframe(2000, 'fir');
    const sentAt = performance.now();
    await receiver.send(buildFir(PEER_SSRC, [{ ssrc: SSRC, seq: 7 }]), session.localPort);
    const au = await idr;
    expect(au.receivedAt - sentAt).toBeLessThan(500);
    expect((await keyframe).reason).toBe('fir');
    const keyframesBefore = events.all.filter((e) => e.type === 'keyframe').length;
    await receiver.send(buildFir(PEER_SSRC, [{ ssrc: SSRC, seq: 7 }]), session.localPort); // retransmission
    await sleep(400);
    expect(events.all.filter((e) => e.type === 'keyframe').length).toBe(keyframesBefore);
    expect((await events.stats()).firReceived).toBe(2);
  });

  it('ignores and counts malformed RTCP and feedback for other SSRCs, and keeps streaming', async () => {
    const keyframesBefore = events.all.filter((e) => e.type === 'keyframe').length;
    await receiver.send(Buffer.from([0x81, 206, 0, 9, 1, 2, 3, 4]), session.localPort); // truncated
    await receiver.send(Buffer.from('definitely not rtcp'), session.localPort);
    await receiver.send(buildPli(PEER_SSRC, SSRC + 1), session.localPort); // someone else's stream
    await sleep(300);
    const stats = await events.stats();
    expect(stats.rtcpMalformed).toBe(2);
    expect(stats.pliReceived).toBe(1); // the PLI for another SSRC is not counted
    expect(events.all.filter((e) => e.type === 'keyframe').length).toBe(keyframesBefore);
    await receiver.nextAccessUnit(() => true, 1000);
  });

  it('requestKeyframe() yields an IDR at once', async () => {
    const idr = receiver.nextAccessUnit(hasIdr, 1000);
    const keyframe = events.keyframe(1000, 'request');
    const t0 = performance.now();
    session.requestKeyframe();
    expect((await idr).receivedAt - t0).toBeLessThan(200);
    expect((await keyframe).reason).toBe('request');
  });

  it('composites the cursor (XFixes) at the pointer position', async () => {
    const centerAfterMove = async (x: number, y: number): Promise<{ y: number; u: number; v: number }> => {
      await xvfb.run('xdotool', ['mousemove', String(x), String(y)]);
      await sleep(200);
      const idr = receiver.nextAccessUnit(hasIdr, 1000);
      session.requestKeyframe();
      return native.__test.decodeH264([toAnnexB((await idr).nals)])[0]!;
    };
    const onCursor = await centerAfterMove(640, 360); // the default X cursor's hotspot: a dark pixel
    expect(Math.abs(onCursor.y - 82) + Math.abs(onCursor.v - 240)).toBeGreaterThan(40);
    const offCursor = await centerAfterMove(5, 5);
    expect(Math.abs(offCursor.y - 82)).toBeLessThanOrEqual(4);
    await sleep(200); // let the keyframe events of these frames arrive
  });

  it('emits periodic IDRs at the configured keyframe interval', async () => {
    session.reconfigure({ keyframeIntervalSec: 1 });
    await events.keyframe(1500, 'reconfigure');
    const t0 = performance.now();
    await events.keyframe(2500, 'interval');
    expect(performance.now() - t0).toBeGreaterThan(700);
    session.reconfigure({ keyframeIntervalSec: 20 });
    await events.keyframe(1500, 'reconfigure');
  });

  it('reconfigures fps and bitrate in place', async () => {
    session.reconfigure({ fps: 10 });
    await events.keyframe(1000, 'reconfigure'); // the encoder re-opened for the new rate
    await sleep(300);
    const from = receiver.accessUnits.length;
    await sleep(2000);
    const aus = receiver.accessUnits.slice(from);
    expect(aus.length).toBeGreaterThanOrEqual(17);
    expect(aus.length).toBeLessThanOrEqual(23);
    const span = ((aus.at(-1)!.timestamp - aus[0]!.timestamp) >>> 0) / (aus.length - 1);
    expect(span).toBeGreaterThan(8000); // ~9000 ticks per frame at 10 fps
    expect(span).toBeLessThan(10000);
    expect((await events.stats(2500)).captureFps).toBeLessThan(12);

    await sleep(200); // let events of earlier frames arrive
    const logs = events.all.length;
    session.reconfigure({ bitrateKbps: 500 });
    await sleep(500);
    const reconfigureLog = events.all.slice(logs).find((e) => e.type === 'log' && e.message.startsWith('reconfigured'));
    expect(reconfigureLog).toBeDefined();
    if (reconfigureLog?.type === 'log' && (await events.stats()).encoder === 'libx264') {
      expect(reconfigureLog.message).toMatch(/500 kb\/s.*\(in place\)/);
      expect(events.all.slice(logs).some((e) => e.type === 'keyframe')).toBe(false); // no IDR needed
    }
    // At 1 fps a PLI must not wait for the next frame tick.
    session.reconfigure({ fps: 1 });
    await events.keyframe(1500, 'reconfigure');
    await sleep(300);
    const idr = receiver.nextAccessUnit(hasIdr, 1500);
    const sentAt = performance.now();
    await receiver.send(buildPli(PEER_SSRC, SSRC), session.localPort);
    expect((await idr).receivedAt - sentAt).toBeLessThan(150);

    session.reconfigure({ fps: 30, bitrateKbps: 2000 });
    await events.keyframe(1500, 'reconfigure');
  });

  it('reconfigures the output size in place: new SPS dimensions, odd sizes rounded down to even', async () => {
    const idr = receiver.nextAccessUnit(hasIdr, 2000);
    session.reconfigure({ width: 641, height: 361 });
    const au = await idr;
    expect(spsOf(au)).toMatchObject({ width: 640, height: 360, constrainedBaseline: true });
    const decoded = native.__test.decodeH264([toAnnexB(au.nals)]);
    expect(decoded[0]).toMatchObject({ width: 640, height: 360 });
    expect(Math.abs(decoded[0]!.v - 240)).toBeLessThanOrEqual(4); // still red after scaling
    const stats = await events.stats();
    expect(stats).toMatchObject({ width: 640, height: 360 });

    // Only a width: the height follows the screen's aspect ratio.
    const idr2 = receiver.nextAccessUnit(hasIdr, 2000);
    session.reconfigure({ width: 960, height: 0 });
    expect(spsOf(await idr2)).toMatchObject({ width: 960, height: 540 });

    const back = receiver.nextAccessUnit(hasIdr, 2000);
    session.reconfigure({ width: 0, height: 0 }); // follow the screen again
    expect(spsOf(await back)).toMatchObject({ width: 1280, height: 720 });
  });

  it('rejects bad reconfigure options with a TypeError', () => {
    expect(() => session.reconfigure({ fps: 500 })).toThrow(/reconfigure: fps must be an integer between 1 and 120 \(got 500\)/);
    expect(() => session.reconfigure({ encoder: 'x264' } as never)).toThrow(/unknown option 'encoder'/);
    expect(() => session.setDestination('127.0.0.1', 0)).toThrow(/port must be an integer between 1 and 65535/);
    expect(() => session.setDestination('', 5000)).toThrow(TypeError);
  });

  it('allows only one session per process', () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      new native.VideoSession(options());
    } catch (e) {
      error = e as Error;
    }
    expect(error?.code).toBe('ERR_SESSION_ACTIVE');
    expect(error?.message).toMatch(/already active in this process .* reconfigure\(\) the existing one, or stop\(\) it/);
  });

  it('moves to a new destination (same local port) and sends it a keyframe at once', async () => {
    const second = await RtpReceiver.open();
    try {
      const port = session.localPort;
      const keyframe = events.keyframe(1000, 'request');
      const idrAtNewPeer = second.nextAccessUnit(hasIdr, 1000);
      session.setDestination('127.0.0.1', second.port);
      const first = await idrAtNewPeer;
      expect(first.nals.slice(0, 3).map(nalType)).toEqual([7, 8, 5]);
      // At most the frame already on its way when the destination changed comes before it.
      expect(second.accessUnits.indexOf(first)).toBeLessThanOrEqual(1);
      expect((await keyframe).reason).toBe('request');
      expect(session.localPort).toBe(port);
      await second.nextSenderReport(() => true, 1500);
      // PLIs from the new peer are honoured (the socket is connected to it now).
      const idr = second.nextAccessUnit(hasIdr, 1000);
      await second.send(buildPli(PEER_SSRC, SSRC), port);
      await idr;
      session.setDestination('127.0.0.1', receiver.port);
    } finally {
      await second.close();
    }
  });

  it('stop() joins the thread and releases every fd and shared-memory segment; a new session may follow', async () => {
    session.stop();
    session.stop(); // idempotent
    expect(fdsAddedSince(baseline.fds)).toEqual([]);
    expect(ownShmSegments()).toBe(baseline.shm);
    expect(() => session.reconfigure({ fps: 5 })).toThrow(/stopped/);
    await expect(session.start()).rejects.toMatchObject({ code: 'ERR_SESSION_STATE', message: expect.stringMatching(/stopped/) });
    session.requestKeyframe(); // harmless no-op
    await sleep(100); // datagrams sent before stop() returned may still be in flight
    const count = receiver.accessUnits.length;
    await sleep(400);
    expect(receiver.accessUnits.length).toBe(count);

    const again = new native.VideoSession(options());
    again.stop();
    expect(fdsAddedSince(baseline.fds)).toEqual([]);
  });

  it('stop() during a pending start(): the promise rejects once everything is released; no leak, a new session may follow', async () => {
    const s = new native.VideoSession(options());
    const starting = s.start();
    // One session per process holds while it opens, too.
    expect(() => new native.VideoSession(options())).toThrow(expect.objectContaining({ code: 'ERR_SESSION_ACTIVE' }));
    await expect(s.start()).rejects.toMatchObject({ code: 'ERR_SESSION_STATE', message: expect.stringMatching(/already called/) });
    s.stop(); // returns at once: the worker finishes the shutdown when the opening returns
    expect(() => s.reconfigure({ fps: 5 })).toThrow(/stopped/);
    await expect(starting).rejects.toMatchObject({ code: 'ERR_SESSION_STATE', message: expect.stringMatching(/stopped before start\(\) finished/) });
    s.stop(); // idempotent
    expect(fdsAddedSince(baseline.fds)).toEqual([]);
    expect(ownShmSegments()).toBe(baseline.shm);

    const again = new native.VideoSession(options());
    expect(await again.start()).toMatchObject({ width: 1280, height: 720 });
    again.stop();
    expect(fdsAddedSince(baseline.fds)).toEqual([]);
  });

  it('a Worker terminated while its session opens or streams: no crash, the process slot is freed', async () => {
    // In a child process: a crash must fail this test, not end the test runner.
    const { onEvent: _onEvent, ...plain } = options();
    const child = spawnTsxChild(`
      import { Worker } from 'node:worker_threads';
      import { createRequire } from 'node:module';
      const addonPath = ${JSON.stringify(nativeAddonPath)};
      const opts = ${JSON.stringify(plain)};
      const workerCode = \`
        import { parentPort, workerData } from 'node:worker_threads';
        import { createRequire } from 'node:module';
        const { VideoSession } = createRequire(workerData.addonPath)(workerData.addonPath);
        const s = new VideoSession({ ...workerData.opts, onEvent: () => {} });
        s.start().then(() => parentPort.postMessage('started'), () => {});
        parentPort.postMessage('starting');
      \`;
      for (const [waitFor, delayMs] of [['starting', 0], ['starting', 0], ['starting', 5], ['starting', 20], ['started', 0], ['started', 300]]) {
        const worker = new Worker(workerCode, { eval: true, workerData: { addonPath, opts } });
        await new Promise((resolve) => worker.on('message', (m) => m === waitFor && resolve()));
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        await worker.terminate();
      }
      const { VideoSession } = createRequire(import.meta.url)(addonPath);
      const session = new VideoSession({ ...opts, onEvent: () => {} });
      console.log('started ' + (await session.start()).encoder);
      session.stop();
      new VideoSession({ ...opts, onEvent: () => {} }).start().catch(() => {});
      process.exit(0); // and the process exits during a pending start
    `);
    const code = await new Promise<number | null>((resolve) => child.child.once('exit', (c) => resolve(c)));
    expect({ code, stderr: child.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(child.stdout()).toMatch(/^started (libx264|h264_nvenc|h264_vaapi)$/m);
  });

  it('follows X screen size changes in place: re-allocated capture, re-opened encoder, new SPS', async (ctx) => {
    // Xvfb (xorg-server 21.1) cannot change its screen size (RandR offers only the startup
    // mode), so this runs against TigerVNC's Xvnc when it is installed.
    if (!(await xvfb.resize(1024, 576)) && !hasXvnc()) {
      ctx.skip('no X server here can change its screen size: Xvfb cannot; install tigervnc-standalone-server (Xvnc) to run this');
    }
    const server = hasXvnc() ? await startXvfb({ server: 'Xvnc', width: 1280, height: 720 }) : xvfb;
    const own = new Events();
    const own_receiver = await RtpReceiver.open();
    const s = new native.VideoSession(options({ display: server.display, destinationPort: own_receiver.port, onEvent: own.onEvent }));
    try {
      expect(await s.start()).toMatchObject({ width: 1280, height: 720 });
      await own_receiver.firstAccessUnit(3000);
      for (const [w, h] of [[1024, 576], [1920, 1080], [800, 600], [1280, 720]] as const) {
        const idr = own_receiver.nextAccessUnit((au) => hasIdr(au) && spsOf(au).width === w, 3000);
        expect(await server.resize(w, h)).toBe(true);
        const au = await idr;
        expect(spsOf(au)).toMatchObject({ width: w, height: h, constrainedBaseline: true });
        const [frame] = native.__test.decodeH264([toAnnexB(au.nals)]);
        expect(frame).toMatchObject({ width: w, height: h, keyFrame: true });
        expect((await own.stats(2500)).width).toBe(w);
      }
      const logs = own.all.filter((e) => e.type === 'log' && e.message.startsWith('screen size changed'));
      expect(logs.length).toBe(4);
      expect(own.all.some((e) => e.type === 'error')).toBe(false);
    } finally {
      s.stop();
      await own_receiver.close();
      if (server !== xvfb) await server.stop();
    }
    expect(ownShmSegments()).toBe(baseline.shm);
  });

  it('survives the X server going away: an error event, no crash, clean stop', async () => {
    const doomed = await startXvfb({ width: 640, height: 480 });
    const own = new Events();
    const s = new native.VideoSession(options({ display: doomed.display, onEvent: own.onEvent }));
    try {
      await s.start();
      await own.stats(3000);
      await doomed.stop();
      const error = await own.seenOrNext((e): e is Extract<NativeVideoEvent, { type: 'error' }> => e.type === 'error', 5000);
      expect(error.code).toBe('ERR_DISPLAY_LOST');
      expect(error.message).toMatch(new RegExp(`lost the connection to X display '${doomed.display}'`));
      expect(() => s.reconfigure({ fps: 5 })).toThrow(/failed/);
    } finally {
      s.stop();
      await doomed.stop();
    }
    expect(ownShmSegments()).toBe(baseline.shm);
  });
});
