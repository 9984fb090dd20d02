// --audio-app with a real PulseAudio (isolated daemon, no mocks): two apps play 440 Hz and
// 880 Hz; only app A must reach the broadcast sink, the presenter must still hear A, close()
// must undo everything, and --repair must remove a crashed process's sink but keep a live one.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoundServerUnreachableError } from '../../server/audio/errors.js';
import { PerAppAudioRouter } from '../../server/audio/PerAppAudioRouter.js';
import { repairAudio } from '../../server/audio/repairAudio.js';
import {
  dominantFrequency,
  playTone,
  recordPcm,
  startIsolatedPulse,
  toMono,
  toneLevel,
  trimLeadingSilence,
  waitFor,
  type IsolatedPulse,
  type Tone,
} from '../helpers/pulse.js';
import { spawnTsxChild } from '../helpers/tsxChild.js';

const ROUTER_MODULE = pathToFileURL(path.resolve(import.meta.dirname, '../../server/audio/PerAppAudioRouter.ts')).href;

interface SinkInputRow {
  index: number;
  sink: string;
  app: string;
}

async function sinkInputs(pulse: IsolatedPulse): Promise<SinkInputRow[]> {
  const sinks = new Map<string, string>();
  for (const line of (await pulse.pactl('list', 'short', 'sinks')).trim().split('\n')) {
    const [index, name] = line.split('\t');
    if (index && name) sinks.set(index, name);
  }
  const rows: SinkInputRow[] = [];
  for (const block of (await pulse.pactl('list', 'sink-inputs')).split(/^Sink Input #/m).slice(1)) {
    const index = Number(/^(\d+)/.exec(block)?.[1]);
    const sinkIndex = /^\tSink: (\d+)/m.exec(block)?.[1] ?? '';
    const app = /^\t\tapplication\.name = "(.*)"$/m.exec(block)?.[1] ?? '';
    rows.push({ index, sink: sinks.get(sinkIndex) ?? sinkIndex, app });
  }
  return rows;
}

async function moduleLines(pulse: IsolatedPulse): Promise<string[]> {
  return (await pulse.pactl('list', 'short', 'modules')).trim().split('\n');
}

/** Records from `device` and returns the 440/880 Hz levels of the non-silent part. */
async function listen(pulse: IsolatedPulse, device: string, ms = 2500): Promise<{ a: number; b: number; dominant: number; seconds: number }> {
  const pcm = trimLeadingSilence(await recordPcm(pulse, device, ms));
  const mono = toMono(pcm).subarray(0, 48_000); // up to 1 s of actual signal
  return { a: toneLevel(mono, 440), b: toneLevel(mono, 880), dominant: dominantFrequency(mono).hz, seconds: mono.length / 48_000 };
}

describe('PerAppAudioRouter with a real PulseAudio', () => {
  let pulse: IsolatedPulse;
  let toneA: Tone;
  let toneB: Tone;

  beforeAll(async () => {
    pulse = await startIsolatedPulse({ sinks: ['presenter'] });
    toneA = playTone(pulse, { frequency: 440, appName: 'ToneA' });
    toneB = playTone(pulse, { frequency: 880, appName: 'ToneB' });
    await waitFor(async () => (await sinkInputs(pulse)).length === 2, 5000, 'both tone streams');
  }, 20_000);

  afterAll(async () => {
    await toneA?.stop();
    await toneB?.stop();
    await pulse?.stop();
  });

  it('broadcasts only app A, lets the presenter keep hearing it, follows new streams, and close() undoes it', async () => {
    const router = await PerAppAudioRouter.create({ appName: 'tonea', server: pulse.server, cookie: pulse.cookie });
    try {
      expect(router.sinkName).toBe(`deskcast_app_${process.pid}`);
      expect(router.monitorSource).toBe(`deskcast_app_${process.pid}.monitor`);
      expect(router.presenterSink).toBe('presenter');
      // the presenter's default sink did not change
      expect((await pulse.pactl('get-default-sink')).trim()).toBe('presenter');

      const inputs = await sinkInputs(pulse);
      expect(inputs.find((i) => i.app === 'ToneA')?.sink).toBe(router.sinkName);
      expect(inputs.find((i) => i.app === 'ToneB')?.sink).toBe('presenter');

      // What the broadcast gets: A's 440 Hz, nothing of B's 880 Hz.
      const broadcast = await listen(pulse, router.monitorSource);
      expect(broadcast.seconds).toBeGreaterThan(0.5);
      expect(broadcast.dominant).toBeGreaterThanOrEqual(435);
      expect(broadcast.dominant).toBeLessThanOrEqual(445);
      expect(broadcast.a).toBeGreaterThan(0.2); // played at 0.3
      expect(broadcast.b).toBeLessThan(broadcast.a / 100);

      // What the presenter hears: A (through the loopback) and B (directly).
      const speakers = await listen(pulse, 'presenter.monitor');
      expect(speakers.a).toBeGreaterThan(0.1);
      expect(speakers.b).toBeGreaterThan(0.1);

      // A stream of app A that starts later is captured too (pactl subscribe).
      const moved = new Promise<number>((resolve) => router.once('moved', (s) => resolve(s.index)));
      const lateA = playTone(pulse, { frequency: 660, appName: 'TONEA' });
      try {
        const index = await Promise.race([moved, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('late stream not moved within 3 s')), 3000))]);
        expect((await sinkInputs(pulse)).find((i) => i.index === index)?.sink).toBe(router.sinkName);
        const mono = toMono(trimLeadingSilence(await recordPcm(pulse, router.monitorSource, 2500))).subarray(0, 48_000);
        expect(toneLevel(mono, 660)).toBeGreaterThan(0.2);
        expect(toneLevel(mono, 880)).toBeLessThan(0.005);
      } finally {
        await lateA.stop();
      }
    } catch (err) {
      await router.close();
      throw err;
    }
    const result = await router.close();
    expect(result.unloadedModules).toHaveLength(2);
    expect(result.movedBack).toBe(1);

    // Everything is undone: no deskcast module or sink, app A plays on the presenter's sink again.
    const modules = await moduleLines(pulse);
    expect(modules.filter((m) => m.includes('deskcast_app_'))).toEqual([]);
    expect(await pulse.pactl('list', 'short', 'sinks')).not.toContain('deskcast_app_');
    expect((await sinkInputs(pulse)).find((i) => i.app === 'ToneA')?.sink).toBe('presenter');
    const after = await listen(pulse, 'presenter.monitor');
    expect(after.a).toBeGreaterThan(0.1);
    expect(after.b).toBeGreaterThan(0.1);
    // close() is idempotent
    await expect(router.close()).resolves.toEqual({ movedBack: 1, unloadedModules: expect.any(Array) });
  }, 60_000);

  it('says what to do when the sound server cannot be reached', async () => {
    const nowhere = { server: 'unix:/nonexistent/deskcast-test/native' };
    await expect(PerAppAudioRouter.create({ appName: 'ToneA', ...nowhere })).rejects.toSatisfy(
      (err: Error) => err instanceof SoundServerUnreachableError && /Start PulseAudio or pipewire-pulse/.test(err.message) && err.message.includes(nowhere.server),
    );
    await expect(repairAudio(nowhere)).rejects.toBeInstanceOf(SoundServerUnreachableError);
  });

  it('refuses an empty app name with a message that says what to pass', async () => {
    await expect(PerAppAudioRouter.create({ appName: '  ', server: pulse.server, cookie: pulse.cookie })).rejects.toThrow(
      /Invalid --audio-app.*application\.name/,
    );
  });

  it('--repair removes the sink of a crashed deskcast (SIGKILL) and keeps the one of a live process', async () => {
    // A child deskcast process routes app B, then dies without cleaning up.
    const code = [
      `const { PerAppAudioRouter } = await import(${JSON.stringify(ROUTER_MODULE)});`,
      `const r = await PerAppAudioRouter.create({ appName: 'ToneB', server: ${JSON.stringify(pulse.server)}, cookie: ${JSON.stringify(pulse.cookie)} });`,
      `process.stdout.write('READY ' + r.sinkName + '\\n');`,
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const owner = spawnTsxChild(code);
    const orphanSink = `deskcast_app_${owner.child.pid}`;
    try {
      await waitFor(() => owner.stdout().includes(`READY ${orphanSink}`), 20_000, `the child router (stderr: ${owner.stderr()})`);
    } finally {
      await owner.crash();
    }
    // The crash left the sink, its loopback and app B's stream in it.
    expect(await pulse.pactl('list', 'short', 'sinks')).toContain(orphanSink);
    expect((await moduleLines(pulse)).filter((m) => m.includes(orphanSink))).toHaveLength(2);
    expect((await sinkInputs(pulse)).find((i) => i.app === 'ToneB')?.sink).toBe(orphanSink);
    // The presenter no longer hears B directly (only through the orphan's loopback).

    const live = await PerAppAudioRouter.create({ appName: 'ToneA', server: pulse.server, cookie: pulse.cookie });
    try {
      const result = await repairAudio({ server: pulse.server, cookie: pulse.cookie });
      expect(result.removed.map((r) => r.sinkName)).toEqual([orphanSink]);
      expect(result.removed[0]?.reason).toMatch(/is gone/);
      expect(result.removed[0]?.unloadedModules).toHaveLength(2);
      expect(result.removed[0]?.movedStreams).toBe(1);
      expect(result.kept).toEqual([{ sinkName: live.sinkName, pid: process.pid, reason: `process ${process.pid} is running` }]);
      expect(result.problems).toEqual([]);
      expect(result.summary).toContain(`removed ${orphanSink}`);
      expect(result.summary).toContain(`kept    ${live.sinkName}`);

      // Orphan gone; the live router untouched and still broadcasting A; B plays on the presenter's sink again.
      expect(await pulse.pactl('list', 'short', 'sinks')).not.toContain(orphanSink);
      expect((await moduleLines(pulse)).filter((m) => m.includes(orphanSink))).toEqual([]);
      expect((await moduleLines(pulse)).filter((m) => m.includes(live.sinkName))).toHaveLength(2);
      const rows = await sinkInputs(pulse);
      expect(rows.find((i) => i.app === 'ToneB')?.sink).toBe('presenter');
      expect(rows.find((i) => i.app === 'ToneA')?.sink).toBe(live.sinkName);
      const broadcast = await listen(pulse, live.monitorSource);
      expect(broadcast.a).toBeGreaterThan(0.2);
      expect(broadcast.b).toBeLessThan(broadcast.a / 100);

      // A second repair finds nothing more to remove.
      const again = await repairAudio({ server: pulse.server, cookie: pulse.cookie });
      expect(again.removed).toEqual([]);
      expect(again.kept.map((k) => k.pid)).toEqual([process.pid]);
    } finally {
      await live.close();
    }
    const final = await repairAudio({ server: pulse.server, cookie: pulse.cookie });
    expect(final.summary).toMatch(/nothing to repair/);
  }, 60_000);
});

describe('PerAppAudioRouter when the sound server restarts', () => {
  let pulse: IsolatedPulse;
  const tones: Tone[] = [];

  beforeAll(async () => {
    pulse = await startIsolatedPulse({ sinks: ['presenter'] });
  }, 20_000);

  afterAll(async () => {
    await Promise.all(tones.map((t) => t.stop()));
    await pulse?.stop();
  });

  it('re-creates its sink and loopback and routes the app again, by itself', async () => {
    tones.push(playTone(pulse, { frequency: 440, appName: 'ToneA' }));
    const router = await PerAppAudioRouter.create({ appName: 'ToneA', server: pulse.server, cookie: pulse.cookie });
    const warnings: string[] = [];
    router.on('warning', (w) => warnings.push(w.message));
    try {
      expect((await sinkInputs(pulse)).find((i) => i.app === 'ToneA')?.sink).toBe(router.sinkName);

      await pulse.kill('SIGKILL');
      await waitFor(() => warnings.some((w) => /Lost the sound server/.test(w)), 5000, 'the router to notice');
      expect(warnings[0]).toMatch(/re-routed when it is back/);
      await new Promise((r) => setTimeout(r, 2500)); // a longer outage: retried, but warned about once
      expect(warnings).toHaveLength(1);
      await pulse.restart();
      tones.push(playTone(pulse, { frequency: 440, appName: 'ToneA' }));

      await waitFor(async () => (await sinkInputs(pulse)).find((i) => i.app === 'ToneA')?.sink === router.sinkName, 8000, 'ToneA routed again');
      const modules = await moduleLines(pulse);
      expect(modules.filter((m) => m.includes(router.sinkName))).toHaveLength(2);
      const broadcast = await listen(pulse, router.monitorSource);
      expect(broadcast.a).toBeGreaterThan(0.2);
      const speakers = await listen(pulse, 'presenter.monitor');
      expect(speakers.a).toBeGreaterThan(0.1);
    } finally {
      await router.close();
    }
    expect((await moduleLines(pulse)).filter((m) => m.includes('deskcast_app_'))).toEqual([]);
  }, 60_000);
});
