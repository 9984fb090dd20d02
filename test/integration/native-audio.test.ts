// native AudioSession against a real, isolated PulseAudio: a 440 Hz tone on the default sink →
// PulseCapture → Opus → RFC 7587 RTP → a test UDP socket standing in for a mediasoup
// PlainTransport (rtcp-mux). Checks the RTP framing and timing, the SRs (CNAME, NTP↔RTP from
// the shared media clock), that the Opus payloads decode back to the tone, incoming RTCP
// handling, the sound server dying and coming back, coexistence with a VideoSession, and that
// stop() releases everything.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioSessionOptions, NativeAudioEvent } from '../../server/native/nativeAddon.js';
import { loadNative } from '../helpers/native.js';
import { fdsAddedSince, openFds } from '../helpers/processResources.js';
import { dominantFrequency, playTone, startIsolatedPulse, toMono, toneLevel, type IsolatedPulse, type Tone } from '../helpers/pulse.js';
import { buildPli, buildReceiverReport, buildSdes, isRtcp, ntpToUnixMs, parseRtp, parseSenderReport, type RtpPacket, type SenderReport } from '../helpers/rtp.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

interface AudioTestBindings {
  decodeOpus(packets: (Buffer | null)[]): Buffer;
  mediaClock(monoNs?: bigint): { monoNs: bigint; epochMonoNs: bigint; ntp: bigint; rtp90k: number; rtp48k: number };
}
const native = loadNative() as ReturnType<typeof loadNative> & { __test: AudioTestBindings };
type AudioSession = InstanceType<typeof native.AudioSession>;
type StateEvent = Extract<NativeAudioEvent, { type: 'state' }>;
type StatsEvent = Extract<NativeAudioEvent, { type: 'stats' }>;

const SSRC = 0x5eed1234;
const PT = 111;
const CNAME = 'deskcast-audio-test';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ReceivedPacket extends RtpPacket {
  /** performance.now() at arrival */
  at: number;
  /** the media clock's 48 kHz time (offset 0) at arrival */
  clockAtArrival: number;
}

/** A UDP endpoint playing the PlainTransport: keeps RTP packets and SRs, sends RTCP back. */
class AudioReceiver {
  readonly packets: ReceivedPacket[] = [];
  readonly senderReports: (SenderReport & { at: number })[] = [];
  private constructor(readonly socket: Socket, readonly port: number) {
    socket.on('message', (msg) => {
      if (isRtcp(msg)) {
        const sr = parseSenderReport(msg);
        if (sr) this.senderReports.push({ ...sr, at: performance.now() });
        return;
      }
      this.packets.push({ ...parseRtp(Buffer.from(msg)), at: performance.now(), clockAtArrival: native.__test.mediaClock().rtp48k });
    });
  }
  static async open(): Promise<AudioReceiver> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new AudioReceiver(socket, socket.address().port);
  }
  send(datagram: Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(datagram, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Collects a session's events; waits for specific ones. */
class Events {
  readonly all: NativeAudioEvent[] = [];
  readonly onEvent = (e: NativeAudioEvent): void => {
    this.all.push(e);
  };
  states(): StateEvent[] {
    return this.all.filter((e): e is StateEvent => e.type === 'state');
  }
  async until<T extends NativeAudioEvent>(pred: (e: NativeAudioEvent) => e is T, timeoutMs: number, what: string, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.all.slice(from).find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last events: ${JSON.stringify(this.all.slice(-4))}`);
      await sleep(20);
    }
  }
  state(state: StateEvent['state'], timeoutMs: number, from = 0): Promise<StateEvent> {
    return this.until((e): e is StateEvent => e.type === 'state' && e.state === state, timeoutMs, `state '${state}'`, from);
  }
  nextStats(timeoutMs = 2500): Promise<StatsEvent> {
    return this.until((e): e is StatsEvent => e.type === 'stats', timeoutMs, 'stats', this.all.length);
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Decodes packets (in order) and returns the mono signal after the first second of sound. */
function decodedMono(packets: RtpPacket[]): Float64Array {
  const pcm = native.__test.decodeOpus(packets.map((p) => p.payload));
  const mono = toMono(pcm);
  let start = mono.findIndex((x) => Math.abs(x) > 0.02);
  if (start < 0) start = mono.length;
  return mono.subarray(start + 4800); // skip onset and the encoder's first frames
}

describe('native AudioSession against a real PulseAudio', () => {
  let pulse: IsolatedPulse;
  let receiver: AudioReceiver;
  let session: AudioSession | undefined;
  const tones: Tone[] = [];
  const events = new Events();

  const options = (overrides: Partial<AudioSessionOptions> = {}): AudioSessionOptions => ({
    source: '',
    server: pulse.server,
    bitrateKbps: 128,
    destinationHost: '127.0.0.1',
    destinationPort: receiver.port,
    ssrc: SSRC,
    payloadType: PT,
    cname: CNAME,
    onEvent: events.onEvent,
    ...overrides,
  });

  beforeAll(async () => {
    pulse = await startIsolatedPulse({ sinks: ['presenter'] });
    receiver = await AudioReceiver.open();
  });

  afterAll(async () => {
    session?.stop();
    for (const tone of tones) await tone.stop();
    await receiver?.close();
    await pulse?.stop();
  });

  it('rejects bad options with a TypeError that names the option', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ bitrateKbps: 8 }, /AudioSession: options\.bitrateKbps must be a number between 16 and 510 \(got 8\)/],
      [{ bitrateKbps: 600 }, /bitrateKbps/],
      [{ source: 5 }, /options\.source must be a string \(''/],
      [{ server: undefined }, /options\.server must be a string/],
      [{ destinationHost: '' }, /destinationHost must be a non-empty string/],
      [{ destinationPort: 0 }, /destinationPort must be an integer between 1 and 65535/],
      [{ ssrc: 2 ** 32 }, /ssrc/],
      [{ payloadType: 72 }, /payloadType must not be 64\.\.95/],
      [{ payloadType: 128 }, /payloadType must be an integer between 0 and 127/],
      [{ cname: '' }, /cname must be a non-empty string/],
      [{ onEvent: 'no' }, /onEvent must be a function/],
      [{ display: ':0' }, /unknown option 'display'/],
    ];
    for (const [override, message] of bad) {
      let error: unknown;
      try {
        new native.AudioSession(options(override as Partial<AudioSessionOptions>));
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(override)).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(message);
      expect((error as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    }
    expect(() => new (native.AudioSession as unknown as new () => unknown)()).toThrow(TypeError);
  });

  it('streams the desktop sound as RFC 7587 RTP: PT/SSRC, every ~20 ms, timestamps +960, decodes to the 440 Hz tone', async () => {
    tones.push(playTone(pulse, { frequency: 440, appName: 'ToneA' }));
    session = new native.AudioSession(options());
    expect(session.localPort).toBeGreaterThan(0);
    session.start();
    const connected = await events.state('connected', 5000);
    expect(connected.source).toBe('presenter.monitor');
    expect(events.states()[0]).toMatchObject({ state: 'connecting', reason: '' });

    await waitUntil(() => receiver.packets.length >= 150, 8000, '150 RTP packets');
    const packets = receiver.packets.slice();
    for (const p of packets) {
      expect(p.payloadType).toBe(PT);
      expect(p.ssrc).toBe(SSRC);
      expect(p.payload.length).toBeGreaterThan(0);
      expect(p.payload.length).toBeLessThanOrEqual(1275);
    }
    expect(packets[0]!.marker).toBe(true); // the first packet of the stream (a new talkspurt)
    expect(packets.slice(1).some((p) => p.marker)).toBe(false);
    for (let i = 1; i < packets.length; i++) {
      expect(packets[i]!.sequenceNumber).toBe((packets[i - 1]!.sequenceNumber + 1) & 0xffff);
      expect((packets[i]!.timestamp - packets[i - 1]!.timestamp) >>> 0).toBe(960);
    }
    // One 20 ms packet every ~20 ms: the sound server delivers in 20 ms fragments.
    const gaps = packets.slice(51).map((p, i) => p.at - packets[50 + i]!.at).sort((a, b) => a - b);
    const median = gaps[gaps.length >> 1]!;
    expect(median).toBeGreaterThan(12);
    expect(median).toBeLessThan(28);
    const span = packets.at(-1)!.at - packets[50]!.at;
    expect(span / (packets.length - 51)).toBeGreaterThan(17);
    expect(span / (packets.length - 51)).toBeLessThan(23);

    // Decoding the Opus payloads gives back the tone.
    const mono = decodedMono(packets);
    expect(mono.length).toBeGreaterThan(48000);
    const peak = dominantFrequency(mono);
    expect(Math.abs(peak.hz - 440), JSON.stringify(peak)).toBeLessThanOrEqual(3);
    expect(toneLevel(mono, 440)).toBeGreaterThan(0.2); // played at 0.3
    expect(toneLevel(mono, 1000)).toBeLessThan(0.01);
  });

  it('takes RTP timestamps from the process-wide media clock (capture time, not arrival)', () => {
    // The video maps monotonic time to RTP with MediaClock; so does the audio, with its own
    // random offset. offset = SR rtp - clock(SR instant); then for every packet, the clock's
    // time at arrival minus (timestamp - offset) is how long ago its first sample was captured.
    const sr = receiver.senderReports.at(-1)!;
    expect(sr).toBeDefined();
    const packets = receiver.packets.slice(-100);
    const ages = packets.map((p) => p.clockAtArrival - p.timestamp); // = age - offset (mod 2^32)
    const srAge = (sr.rtpTimestamp - clockAtNtp(sr.ntpTimestamp)) | 0; // = offset (mod 2^32), up to rounding
    const agesMs = ages.map((a) => ((a + srAge) | 0) / 48).sort((a, b) => a - b);
    // Capture → arrival: the 20 ms chunk, the source latency, the encode: tens of ms. (A null
    // sink renders up to one latency period ahead, so its monitor's samples can look up to
    // ~20 ms "younger" than real time.)
    expect(agesMs[0]!).toBeGreaterThan(-30);
    expect(agesMs[agesMs.length >> 1]!).toBeLessThan(150);
  });

  it('sends RTCP sender reports about once a second with the CNAME and a consistent NTP↔RTP pair', async () => {
    // Three new SRs: the sound server's latency estimate settles during the first second or
    // so of a stream, and the SRs follow it.
    const seen = receiver.senderReports.length;
    await waitUntil(() => receiver.senderReports.length >= seen + 3, 5000, 'three sender reports');
    const srs = receiver.senderReports.slice(-3);
    for (const sr of srs) {
      expect(sr.ssrc).toBe(SSRC);
      expect(sr.cname).toBe(CNAME);
      expect(sr.packetCount).toBeGreaterThan(0);
      expect(sr.octetCount).toBeGreaterThan(0);
      expect(Math.abs(ntpToUnixMs(sr.ntpTimestamp) - Date.now())).toBeLessThan(5000);
    }
    const interval = (srs[2]!.at - srs[0]!.at) / 2;
    expect(interval).toBeGreaterThan(800);
    expect(interval).toBeLessThan(1300);
    // Every SR since the first maps RTP to NTP the same way: RTP advances 48 kHz × NTP elapsed
    // (one clock, no drift). SRs wait until libpulse's latency estimate has settled after the
    // connect, so even the first one agrees with the rest.
    const all = receiver.senderReports;
    for (let i = 1; i < all.length; i++) {
      const ntpMs = ntpToUnixMs(all[i]!.ntpTimestamp) - ntpToUnixMs(all[0]!.ntpTimestamp);
      const rtpMs = ((all[i]!.rtpTimestamp - all[0]!.rtpTimestamp) >>> 0) / 48;
      // Capture times follow libpulse's latency estimate, which wobbles by a few ms under CPU
      // load (6 ms seen in a full-suite run); 10 ms is far below what a viewer could notice
      // (~45 ms) and still catches a wrong clock rate or a lost/duplicated 20 ms chunk.
      expect(Math.abs(rtpMs - ntpMs), `SR ${i} vs the first`).toBeLessThan(10);
    }
    // The SR's RTP time is "now": just after the newest packet's capture.
    const newest = receiver.packets.filter((p) => p.at <= srs[2]!.at).at(-1)!;
    const ahead = ((srs[2]!.rtpTimestamp - newest.timestamp) | 0) / 48;
    expect(ahead).toBeGreaterThanOrEqual(0);
    expect(ahead).toBeLessThan(200);
  });

  it('reports growing stats about once a second', async () => {
    const a = await events.nextStats();
    const b = await events.nextStats();
    expect(b.chunksCaptured - a.chunksCaptured).toBeGreaterThanOrEqual(40);
    expect(b.chunksCaptured - a.chunksCaptured).toBeLessThanOrEqual(60);
    expect(b.packetsSent).toBeGreaterThan(a.packetsSent);
    expect(b.bytesSent).toBeGreaterThan(a.bytesSent);
    expect(b.encodeMsAvg).toBeGreaterThan(0);
    expect(b.encodeMsAvg).toBeLessThan(5);
    expect(b).toMatchObject({ encodeErrors: 0, sendErrors: 0, discontinuities: 1 });
  });

  it('reads and ignores incoming RTCP; malformed datagrams are counted, never a crash', async () => {
    const port = session!.localPort;
    const before = await events.nextStats();
    await receiver.send(Buffer.concat([buildReceiverReport(0x1111), buildSdes(0x1111, 'peer')]), port); // valid
    await receiver.send(buildPli(0x1111, SSRC), port); // valid, nothing to do for audio
    await receiver.send(Buffer.from([0x81, 206, 0, 9, 1, 2, 3, 4]), port); // truncated
    await receiver.send(Buffer.from('definitely not rtcp'), port);
    await receiver.send(Buffer.alloc(0), port);
    await receiver.send(Buffer.alloc(4000, 0x80), port); // larger than the read buffer
    await sleep(300);
    const after = await events.nextStats();
    expect(after.rtcpReceived - before.rtcpReceived).toBe(6);
    expect(after.rtcpMalformed - before.rtcpMalformed).toBe(4);
    const count = receiver.packets.length;
    await sleep(300);
    expect(receiver.packets.length).toBeGreaterThan(count + 5);
  });

  it('one AudioSession per process; it coexists with a VideoSession', async () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      new native.AudioSession(options());
    } catch (e) {
      error = e as Error;
    }
    expect(error?.code).toBe('ERR_SESSION_ACTIVE');
    expect(error?.message).toMatch(/an AudioSession is already active in this process/);

    let xvfb: XvfbServer | undefined;
    const videoReceiver = await AudioReceiver.open(); // any UDP sink will do
    try {
      xvfb = await startXvfb({ width: 320, height: 240 });
      const video = new native.VideoSession({
        display: xvfb.display, fps: 30, bitrateKbps: 500, keyframeIntervalSec: 2, encoder: 'auto',
        destinationHost: '127.0.0.1', destinationPort: videoReceiver.port, ssrc: SSRC + 1, payloadType: 96, cname: CNAME,
        onEvent: () => undefined,
      });
      // capture is change-driven: keep the screen changing so video flows at its full rate
      const ticker = xvfb.animate();
      try {
        await video.start();
        const audioBefore = receiver.packets.length;
        await sleep(1000);
        expect(videoReceiver.packets.length).toBeGreaterThan(20);
        expect(receiver.packets.length - audioBefore).toBeGreaterThan(40);
        await waitUntil(() => videoReceiver.senderReports.length > 0, 2500, 'a video SR');
        expect(videoReceiver.senderReports[0]!.cname).toBe(CNAME);
      } finally {
        ticker.stop();
        video.stop();
      }
    } finally {
      await videoReceiver.close();
      await xvfb?.stop();
    }
  });

  it('survives the sound server dying: disconnected with a reason, then connected, and the sound resumes', async () => {
    const from = events.all.length;
    await tones.pop()!.stop();
    await pulse.kill('SIGKILL');
    const down = await events.state('disconnected', 5000, from);
    expect(down.reason).toMatch(/lost the connection to the sound server .*retrying/);
    await sleep(1500);
    const silentFrom = receiver.packets.length;
    await sleep(500);
    expect(receiver.packets.length).toBe(silentFrom); // nothing is captured, nothing is sent
    const lastBefore = receiver.packets.at(-1)!;

    await pulse.restart();
    tones.push(playTone(pulse, { frequency: 660, appName: 'ToneB' }));
    await events.state('connected', 8000, from);
    await waitUntil(() => receiver.packets.length >= silentFrom + 150, 10_000, 'packets after the restart');
    const resumed = receiver.packets.slice(silentFrom);
    // Same stream: sequence numbers continue, the timestamp jumps ahead by the gap (re-anchored
    // on the media clock, marker on the first packet), then contiguous again.
    expect(resumed[0]!.sequenceNumber).toBe((lastBefore.sequenceNumber + 1) & 0xffff);
    expect(resumed[0]!.marker).toBe(true);
    const gapMs = ((resumed[0]!.timestamp - lastBefore.timestamp) >>> 0) / 48;
    expect(gapMs).toBeGreaterThan(1500);
    expect(gapMs).toBeLessThan(15_000);
    for (let i = 1; i < resumed.length; i++) expect((resumed[i]!.timestamp - resumed[i - 1]!.timestamp) >>> 0).toBe(960);
    const mono = decodedMono(resumed);
    expect(Math.abs(dominantFrequency(mono).hz - 660)).toBeLessThanOrEqual(3);
    expect((await events.nextStats()).discontinuities).toBe(2);
    // SRs of the new anchor agree with each other from the first one on.
    const resumedAt = resumed[0]!.at;
    await waitUntil(() => receiver.senderReports.filter((sr) => sr.at > resumedAt).length >= 2, 6000, 'two SRs after the restart');
    const [first, second] = receiver.senderReports.filter((sr) => sr.at > resumedAt);
    const ntpMs = ntpToUnixMs(second!.ntpTimestamp) - ntpToUnixMs(first!.ntpTimestamp);
    expect(Math.abs(((second!.rtpTimestamp - first!.rtpTimestamp) >>> 0) / 48 - ntpMs)).toBeLessThan(5);
  });

  it('setDestination() moves the stream to a new transport and sends an SR at once', async () => {
    const other = await AudioReceiver.open();
    try {
      const t0 = performance.now();
      session!.setDestination('127.0.0.1', other.port);
      await waitUntil(() => other.packets.length >= 10 && other.senderReports.length > 0, 3000, 'packets and an SR at the new destination');
      expect(other.senderReports[0]!.at - t0).toBeLessThan(300);
      expect(other.senderReports[0]!.cname).toBe(CNAME);
      const count = receiver.packets.length;
      await sleep(200);
      expect(receiver.packets.length - count).toBeLessThanOrEqual(1);
      expect(() => session!.setDestination('', 1)).toThrow(/AudioSession\.setDestination: host must be a non-empty string/);
      expect(() => session!.setDestination('127.0.0.1', 0)).toThrow(/AudioSession\.setDestination: port must be an integer/);
      session!.setDestination('127.0.0.1', receiver.port);
    } finally {
      await other.close();
    }
  });

  it('stop() is idempotent and releases every handle; a new session may follow', async () => {
    const port = session!.localPort;
    session!.stop();
    session!.stop();
    expect(session!.localPort).toBe(port);
    expect(() => session!.start()).toThrow(/this AudioSession was stopped/);
    expect(() => session!.setDestination('127.0.0.1', 9)).toThrow(/stopped/);
    const count = receiver.packets.length;
    await sleep(300);
    expect(receiver.packets.length - count).toBeLessThanOrEqual(1);
    expect((await pulse.pactl('list', 'short', 'source-outputs')).trim()).toBe('');

    // A new session may follow; once stopped, it leaves no fd behind (socket, eventfd, the
    // sound-server connection, libpulse's wakeup pipes).
    const baseline = openFds();
    const own = new Events();
    session = new native.AudioSession(options({ onEvent: own.onEvent }));
    session.start();
    await own.state('connected', 5000);
    await waitUntil(() => receiver.packets.length > count + 20, 5000, 'packets from the second session');
    expect(fdsAddedSince(baseline).length).toBeGreaterThan(2);
    session.stop();
    expect(fdsAddedSince(baseline)).toEqual([]);
    session = undefined;
  });

  it('starts even when the sound server is unreachable, says why, and connects once it appears', async () => {
    const own = new Events();
    const missing = await startIsolatedPulse({ sinks: ['later'] });
    await missing.kill('SIGKILL');
    session = new native.AudioSession(options({ server: missing.server, onEvent: own.onEvent }));
    try {
      session.start();
      const down = await own.state('disconnected', 5000);
      expect(down.reason).toMatch(/cannot connect to the sound server at unix:.*: Connection refused\. Start PulseAudio/);
      await missing.restart();
      const up = await own.state('connected', 5000);
      expect(up.source).toBe('later.monitor');
    } finally {
      session.stop();
      session = undefined;
      await missing.stop();
    }
  });
});

/** The media clock's 48 kHz time (offset 0) at an NTP instant (its own NTP mapping, inverted). */
function clockAtNtp(ntp: bigint): number {
  const now = native.__test.mediaClock();
  const deltaNs = ((ntp - now.ntp) * 1_000_000_000n) >> 32n;
  return native.__test.mediaClock(now.monoNs + deltaNs).rtp48k;
}
