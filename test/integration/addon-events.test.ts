// Every event the native addon sends to JS, from a real VideoSession (Xvfb) and a real
// AudioSession (an isolated PulseAudio), checked EXACTLY against its one declaration in
// server/native/addonEvents.ts: every declared field present with the declared type, no
// undeclared field, and every declared event type seen.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioEventSchema, videoEventSchema, videoStartInfoSchema } from '../../server/native/addonEvents.js';
import type { Schema } from '../../shared/schema.js';
import { loadNative } from '../helpers/native.js';
import { startIsolatedPulse, waitFor } from '../helpers/pulse.js';
import { startXvfb } from '../helpers/xvfb.js';

const native = loadNative();

interface Collected {
  type: string;
  [field: string]: unknown;
}

/** Each event parses unchanged: strict schemas reject undeclared fields, required ones must be there. */
function expectAllMatch(schema: Schema<unknown>, events: Collected[]): void {
  for (const event of events) {
    let parsed: unknown;
    try {
      parsed = schema.parse(event, 'event');
    } catch (err) {
      throw new Error(`${(err as Error).message} in ${JSON.stringify(event)}`);
    }
    expect(parsed).toEqual(event);
  }
}

const typesOf = (events: Collected[]): string[] => [...new Set(events.map((e) => e.type))].sort();

/** The RTP options both sessions take, and an `onEvent` that collects into `events`. */
const stream = (port: number, ssrc: number, payloadType: number, events: Collected[]) => ({
  destinationHost: '127.0.0.1',
  destinationPort: port,
  ssrc,
  payloadType,
  cname: 'addon-events',
  onEvent: (e: object) => void events.push(e as Collected),
});

describe('native addon events match server/native/addonEvents.ts', () => {
  let sink: Socket; // stands in for the PlainTransports; what it receives is not looked at
  let sinkPort: number;

  beforeAll(async () => {
    sink = createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    sinkPort = sink.address().port;
  });

  afterAll(() => {
    sink?.close();
  });

  it('the schemas are strict: an undeclared field or a missing one is rejected', () => {
    const keyframe = { type: 'keyframe', reason: 'pli' };
    expect(videoEventSchema.parse(keyframe)).toEqual(keyframe);
    expect(() => videoEventSchema.parse({ ...keyframe, extra: 1 })).toThrow(/extra/);
    expect(() => videoEventSchema.parse({ type: 'keyframe' })).toThrow(/reason/);
    expect(() => audioEventSchema.parse({ type: 'state', state: 'connected', reason: '' })).toThrow(/source/);
  });

  it('VideoSession: start() result, stats, keyframe, log and error events', async () => {
    const xvfb = await startXvfb({ width: 320, height: 240 });
    const events: Collected[] = [];
    const session = new native.VideoSession({
      display: xvfb.display,
      fps: 30,
      bitrateKbps: 500,
      keyframeIntervalSec: 1,
      encoder: 'auto',
      ...stream(sinkPort, 0x1badcafe, 102, events),
    });
    try {
      const started = await session.start();
      expect(videoStartInfoSchema.parse(started)).toEqual(started);
      await waitFor(() => events.some((e) => e.type === 'stats') && events.some((e) => e.type === 'keyframe'), 5000, 'stats and keyframe events');
      await xvfb.stop(); // the display goes away: an 'error' event
      await waitFor(() => events.some((e) => e.type === 'error'), 5000, 'an error event');
    } finally {
      session.stop();
      await xvfb.stop();
    }
    expect(typesOf(events)).toEqual(['error', 'keyframe', 'log', 'stats']);
    expectAllMatch(videoEventSchema, events);
  });

  it('AudioSession: state, stats and log events', async () => {
    const pulse = await startIsolatedPulse({ sinks: ['presenter'] });
    const events: Collected[] = [];
    const session = new native.AudioSession({
      source: '',
      server: pulse.server,
      bitrateKbps: 64,
      ...stream(sinkPort, 0x2badcafe, 111, events),
    });
    try {
      session.start();
      await waitFor(() => events.some((e) => e.type === 'stats'), 5000, 'a stats event');
      await pulse.kill('SIGKILL'); // the sound server crashes: a 'disconnected' state with its reason
      await waitFor(() => events.some((e) => e.type === 'state' && e['state'] === 'disconnected'), 5000, 'the disconnected state');
    } finally {
      session.stop();
      await pulse.stop();
    }
    // Every type AudioSession declares is seen (it declares no error event: it reconnects by itself).
    expect(typesOf(events)).toEqual(['log', 'state', 'stats']);
    expect(new Set(events.filter((e) => e.type === 'state').map((e) => e['state']))).toEqual(new Set(['connecting', 'connected', 'disconnected']));
    expectAllMatch(audioEventSchema, events);
  });
});
