import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capInForce,
  cpuViewers,
  DEFAULT_PAYLOAD_BYTES,
  DEFAULT_UPSTREAM_MBPS,
  PER_PACKET_OVERHEAD_BYTES,
  perViewerKbps,
  upstreamViewers,
} from '../../server/capacity/CapacityModel.js';
import { EgressGuard, GUARD_HOLD_MS, saturationReason } from '../../server/capacity/EgressGuard.js';
import { EgressMeter } from '../../server/capacity/EgressMeter.js';
import { capacityFile, resolveUpstream } from '../../server/capacity/UpstreamBandwidth.js';
import { AdmissionPolicy } from '../../server/viewers/AdmissionPolicy.js';

const video = { kbps: 3000, payloadBytes: DEFAULT_PAYLOAD_BYTES.video };
const audio = { kbps: 128, payloadBytes: DEFAULT_PAYLOAD_BYTES.audio };

describe('CapacityModel', () => {
  it('reserves (video + audio) × packet overhead × retransmissions / (1 − margin) per viewer', () => {
    expect(PER_PACKET_OVERHEAD_BYTES).toBe(66);
    const expected = ((3000 * (1 + 66 / 1100) + 128 * (1 + 66 / 320)) * 1.1) / 0.8;
    expect(perViewerKbps(video, audio)).toBeCloseTo(expected, 6);
    expect(Math.round(perViewerKbps(video, audio))).toBe(4585);
    expect(perViewerKbps(video, { kbps: 0, payloadBytes: 320 })).toBeLessThan(perViewerKbps(video, audio));
  });

  it('turns the upstream and the CPU into viewer counts, and names the limit that binds', () => {
    expect(upstreamViewers(10, video, audio)).toBe(2);
    expect(upstreamViewers(100, video, audio)).toBe(21);
    expect(cpuViewers(2, 0.005)).toBe(320);
    expect(capInForce({ maxViewers: 50, upstream: 21, cpu: 320 })).toEqual({ cap: 21, binding: 'upstream' });
    expect(capInForce({ maxViewers: 5, upstream: 21, cpu: 320 })).toEqual({ cap: 5, binding: 'max-viewers' });
    expect(capInForce({ maxViewers: 500, upstream: 2000, cpu: 320 })).toEqual({ cap: 320, binding: 'cpu' });
  });

  it('AdmissionPolicy applies the cap in force and pauses while saturated', () => {
    const policy = new AdmissionPolicy({ maxViewers: 50 });
    const loads = new Map([[0, 1], [1, 0]]);
    expect(policy.decide({ admitted: 2, workerLoads: loads, limits: { upstream: 2, cpu: 320 } })).toEqual({
      admit: false,
      reason: 'full',
      binding: 'upstream',
      message: "The host is full (2 of 2 watching). You'll join automatically when a place frees.",
    });
    expect(policy.decide({ admitted: 1, workerLoads: loads, limits: { upstream: 2, cpu: 320 } })).toEqual({ admit: true, workerIndex: 1 });
    expect(policy.decide({ admitted: 1, workerLoads: loads, limits: { upstream: 9, cpu: 320 }, saturated: 'loss' })).toMatchObject({ admit: false, reason: 'saturated' });
    policy.maxViewers = 1;
    expect(policy.cap({ upstream: 9, cpu: 320 })).toEqual({ cap: 1, binding: 'max-viewers' });
    expect(() => (policy.maxViewers = 0)).toThrow(RangeError);
  });
});

describe('EgressGuard', () => {
  it('says saturated when egress nears the upstream or most viewers lose packets, not for one lossy viewer', () => {
    expect(saturationReason({ at: 0, egressMbps: 9.5, upstreamMbps: 10, losses: [] })).toMatch(/95 % of the 10 Mb\/s upstream/);
    expect(saturationReason({ at: 0, egressMbps: 5, upstreamMbps: 10, losses: [0.2, 0, 0, 0] })).toBe('');
    expect(saturationReason({ at: 0, egressMbps: 5, upstreamMbps: 10, losses: [0.1, 0.09, 0.12, 0] })).toMatch(/3 of 4 viewers report packet loss \(up to 12 %\)/);
  });

  it('holds the pause for a while after the last saturated sample', () => {
    const guard = new EgressGuard();
    expect(guard.update({ at: 1000, egressMbps: 10, upstreamMbps: 10, losses: [] })).not.toBe('');
    expect(guard.update({ at: 2000, egressMbps: 1, upstreamMbps: 10, losses: [] })).not.toBe('');
    expect(guard.update({ at: 1000 + GUARD_HOLD_MS + 1, egressMbps: 1, upstreamMbps: 10, losses: [] })).toBe('');
  });
});

describe('upstream bandwidth: flag, remembered preflight, default', () => {
  let sink: Server;
  let url = '';
  let uploads = 0;
  beforeAll(async () => {
    sink = createServer((req, res) => {
      uploads++;
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(sink.address() as { port: number }).port}/sink`;
  });
  afterAll(() => new Promise<void>((r) => sink.close(() => r())));
  const base = { flagMbps: undefined, preflight: true, preflightSeconds: 1, reconfigure: false, progress: () => undefined };

  it('uses --upstream-mbps without measuring', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'dc-cap-'));
    expect(await resolveUpstream({ ...base, flagMbps: 42, configDir, preflightUrl: url })).toMatchObject({ mbps: 42, source: 'flag' });
    expect(uploads).toBe(0);
  });

  it('measures once with progress, remembers the result, and measures again on --reconfigure', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'dc-cap-'));
    const lines: string[] = [];
    const first = await resolveUpstream({ ...base, configDir, preflightUrl: url, progress: (l) => lines.push(l) });
    expect(first.source).toBe('measured');
    expect(first.mbps).toBeGreaterThan(10); // loopback
    expect(lines[0]).toMatch(/preflight: measuring the upload bandwidth/);
    expect(lines.at(-1)).toMatch(/Mb\/s upstream$/);
    const record = JSON.parse(readFileSync(capacityFile(configDir), 'utf8')) as { status: string; mbps: number; at: string };
    expect(record).toMatchObject({ status: 'measured', mbps: first.mbps });
    const before = uploads;
    expect(await resolveUpstream({ ...base, configDir, preflightUrl: url })).toMatchObject({ source: 'measured', mbps: first.mbps, at: record.at });
    expect(uploads).toBe(before);
    await resolveUpstream({ ...base, configDir, preflightUrl: url, reconfigure: true });
    expect(uploads).toBe(before + 1);
  });

  it('remembers a skip; --reconfigure measures after all', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'dc-cap-'));
    expect(await resolveUpstream({ ...base, configDir, preflightUrl: url, preflight: false })).toMatchObject({ source: 'skipped', mbps: DEFAULT_UPSTREAM_MBPS });
    const before = uploads;
    const again = await resolveUpstream({ ...base, configDir, preflightUrl: url });
    expect(again).toMatchObject({ source: 'skipped', mbps: DEFAULT_UPSTREAM_MBPS });
    expect(again.detail).toMatch(/skipped .*--reconfigure measures/);
    expect(uploads).toBe(before);
    expect(await resolveUpstream({ ...base, configDir, preflightUrl: url, reconfigure: true })).toMatchObject({ source: 'measured' });
  });

  it('falls back to the conservative default, saying how to set it, without a URL or when the upload fails', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'dc-cap-'));
    const none = await resolveUpstream({ ...base, configDir, preflightUrl: '' });
    expect(none).toMatchObject({ source: 'default', mbps: DEFAULT_UPSTREAM_MBPS });
    expect(none.detail).toMatch(/--upstream-mbps/);
    const failed = await resolveUpstream({ ...base, configDir, preflightUrl: 'http://127.0.0.1:1/sink' });
    expect(failed).toMatchObject({ source: 'failed', mbps: DEFAULT_UPSTREAM_MBPS });
    expect(failed.detail).toMatch(/the preflight failed .*ECONNREFUSED/);
    expect((await resolveUpstream({ ...base, configDir, preflightUrl: 'not a url', reconfigure: true })).detail).toMatch(/is not a URL/);
  });

  it('a corrupt capacity.json is measured again, never a crash', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'dc-cap-'));
    mkdirSync(join(configDir, 'deskcast'), { recursive: true });
    for (const text of ['{not json', '[]', '{"status":"measured","mbps":-3,"at":"x"}']) {
      writeFileSync(capacityFile(configDir), text);
      expect(await resolveUpstream({ ...base, configDir, preflightUrl: url })).toMatchObject({ source: 'measured' });
    }
  });
});

describe('EgressMeter', () => {
  it('counts what each transport sent between two readings: a failed read, a leave or a new transport makes no jump', () => {
    const meter = new EgressMeter();
    expect(meter.sentSince([{ transportId: 'a', bytes: 1_000_000 }])).toBe(0); // first sight: a baseline
    // a sent 250 kB; b is read for the first time: a baseline
    expect(meter.sentSince([{ transportId: 'a', bytes: 1_250_000 }, { transportId: 'b', bytes: 9_000_000 }])).toBe(250_000);
    // a's read failed this time (absent); b sent 100 kB
    expect(meter.sentSince([{ transportId: 'b', bytes: 9_100_000 }])).toBe(100_000);
    // a is read again with all its bytes since: a new baseline, not a spike
    expect(meter.sentSince([{ transportId: 'a', bytes: 1_900_000 }, { transportId: 'b', bytes: 9_200_000 }])).toBe(100_000);
    // b moved to a new transport (its old one closed): the new counter starts from its first reading
    expect(meter.sentSince([{ transportId: 'a', bytes: 2_000_000 }, { transportId: 'b2', bytes: 50_000 }])).toBe(100_000);
    expect(meter.sentSince([{ transportId: 'a', bytes: 2_000_000 }, { transportId: 'b2', bytes: 80_000 }])).toBe(30_000);
  });
});
