// EmbeddedPulseAudio with the real pulseaudio daemon: isolated, audible, restarted after a
// crash, gone after stop() and after its owner is SIGKILLed.
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedPulseAudio } from '../../server/audio/EmbeddedPulseAudio.js';
import { CHIME_NOTES_HZ } from '../../server/audio/testSound.js';
import { dominantFrequency, recordPcm, rms, toMono, trimLeadingSilence, waitFor } from '../helpers/pulse.js';
import { spawnTsxChild } from '../helpers/tsxChild.js';

const EMBEDDED_MODULE = pathToFileURL(path.resolve(import.meta.dirname, '../../server/audio/EmbeddedPulseAudio.ts')).href;

/** Running (a zombie waiting for its reaper counts as ended). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** True if `device` carries the chime: the first 0.4 s of sound is one of its two notes. */
async function hearsChime(env: NodeJS.ProcessEnv, device: string): Promise<{ heard: boolean; hz: number; level: number }> {
  const pcm = trimLeadingSilence(await recordPcm({ env }, device, 4000), 0.02);
  const d = dominantFrequency(toMono(pcm).subarray(0, 19_200), 300, 2000);
  const heard = d.level > 0.02 && CHIME_NOTES_HZ.some((hz) => Math.abs(d.hz - hz) <= 4);
  return { heard, hz: d.hz, level: d.level };
}

describe('EmbeddedPulseAudio', () => {
  const started: EmbeddedPulseAudio[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  });

  it('runs its own isolated server whose default sink plays a chime; two run side by side', async () => {
    const a = await EmbeddedPulseAudio.create({ chimePeriodMs: 1500 });
    started.push(a);
    const b = await EmbeddedPulseAudio.create({ testSound: 'none', sinkName: 'quiet_desktop' });
    started.push(b);

    expect(a.server).not.toBe(b.server);
    expect(a.server).toBe(`unix:${a.runtimeDir}/native`);
    expect(a.monitorSource).toBe('deskcast_desktop.monitor');
    expect(b.monitorSource).toBe('quiet_desktop.monitor');
    const envA = { ...process.env, ...a.env, LC_ALL: 'C' };
    const envB = { ...process.env, ...b.env, LC_ALL: 'C' };

    const { execFileSync } = await import('node:child_process');
    const infoA = execFileSync('pactl', ['info'], { env: envA, encoding: 'utf8' });
    expect(infoA).toContain(`Server String: ${a.server}`);
    expect(infoA).toContain('Default Sink: deskcast_desktop');
    expect(execFileSync('pactl', ['info'], { env: envB, encoding: 'utf8' })).toContain('Default Sink: quiet_desktop');

    const chime = await hearsChime(envA, a.monitorSource);
    expect(chime, `dominant ${chime.hz} Hz at ${chime.level}`).toMatchObject({ heard: true });
    // b is silent: a's chime does not leak into another instance
    expect(rms(await recordPcm({ env: envB }, b.monitorSource, 2500))).toBeLessThan(0.0005);
  }, 60_000);

  it('restarts the daemon after a crash, on the same socket, with the chime', async () => {
    const pa = await EmbeddedPulseAudio.create({ chimePeriodMs: 1500 });
    started.push(pa);
    const firstPid = pa.pid!;
    const restarted = new Promise<void>((resolve) => pa.once('restarted', resolve));
    process.kill(firstPid, 'SIGKILL');
    await Promise.race([restarted, new Promise((_, reject) => setTimeout(() => reject(new Error('no restart within 8 s')), 8000))]);
    expect(pa.pid).not.toBe(firstPid);
    expect(alive(pa.pid!)).toBe(true);
    const env = { ...process.env, ...pa.env, LC_ALL: 'C' };
    const chime = await waitFor(async () => {
      const c = await hearsChime(env, pa.monitorSource);
      return c.heard ? c : null;
    }, 15_000, 'the chime after the restart');
    expect(chime.heard).toBe(true);
  }, 60_000);

  it('stop() ends the daemon and removes its temp runtime dir', async () => {
    const pa = await EmbeddedPulseAudio.create({ testSound: 'none' });
    const pid = pa.pid!;
    expect(alive(pid)).toBe(true);
    expect(existsSync(pa.runtimeDir)).toBe(true);
    await pa.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(pa.runtimeDir)).toBe(false);
    await pa.stop(); // idempotent
  }, 30_000);

  it('leaves no daemon behind when deskcast itself is SIGKILLed', async () => {
    const code = [
      `const { EmbeddedPulseAudio } = await import(${JSON.stringify(EMBEDDED_MODULE)});`,
      `const pa = await EmbeddedPulseAudio.create({ testSound: 'none' });`,
      `process.stdout.write('PID ' + pa.pid + ' DIR ' + pa.runtimeDir + '\\n');`,
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const owner = spawnTsxChild(code);
    const m = await waitFor(() => /PID (\d+) DIR (\S+)/.exec(owner.stdout()), 20_000, `the child to start PulseAudio (stderr: ${owner.stderr()})`);
    const daemonPid = Number(m[1]);
    try {
      expect(alive(daemonPid)).toBe(true);
      await owner.crash();
      await waitFor(() => !alive(daemonPid), 5000, `daemon ${daemonPid} to end with its owner`);
    } finally {
      await rm(m[2]!, { recursive: true, force: true }); // the killed owner could not remove its temp dir
    }
  }, 40_000);
});
