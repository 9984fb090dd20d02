import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { instrumentPeerConnections, launchChromium, receivedAudioLevels, waitFor } from '../helpers/browser.js';
import { startDeskcast, viewerUrl } from '../helpers/deskcast.js';
import { playTone, startIsolatedPulse, type IsolatedPulse, type Tone } from '../helpers/pulse.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const DESKTOP_HZ = 440;
const MIC_HZ = 880;
/** A frequency neither tone has: the noise floor the tones must stand out from. */
const QUIET_HZ = 1500;
const AUDIBLE_ABOVE_FLOOR_DB = 25;

describe('--mic: the presenter\'s microphone mixed into the broadcast sound', () => {
  let pulse: IsolatedPulse;
  let xvfb: XvfbServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let server: DeskcastServer | undefined;
  let tone: Tone | undefined;

  /** A real (non-monitor) source playing a sine: the virtual microphone. */
  async function plugMicrophone(): Promise<number> {
    const index = Number((await pulse.pactl('load-module', 'module-sine-source', 'source_name=testmic', `frequency=${MIC_HZ}`, 'rate=48000')).trim());
    await pulse.pactl('set-default-source', 'testmic');
    return index;
  }

  async function levels(page: Page): Promise<{ desktop: number; mic: number; floor: number }> {
    const [desktop, mic, floor] = await receivedAudioLevels(page, [DESKTOP_HZ, MIC_HZ, QUIET_HZ], 1000);
    return { desktop: desktop!, mic: mic!, floor: floor! };
  }

  beforeAll(async () => {
    ({ browser, close: closeBrowser } = await launchChromium());
    pulse = await startIsolatedPulse({ sinks: ['presenter'] });
    xvfb = await startXvfb({ width: 640, height: 480 });
  });

  afterAll(async () => {
    await tone?.stop();
    await server?.close();
    await closeBrowser?.();
    await xvfb?.stop();
    await pulse?.stop();
  });

  it('desktop tone and microphone tone both reach the viewer; the microphone unplugged: desktop sound goes on, status says why; plugged again: mixed again', async () => {
    let micModule = await plugMicrophone();
    tone = playTone(pulse, { frequency: DESKTOP_HZ, appName: 'Desktop' });
    server = await startDeskcast(['--display', xvfb.display, '--pulse-server', pulse.server, '--pulse-cookie', pulse.cookie, '--mic', '--mic-volume', '100']);
    const sinks = await pulse.pactl('list', 'short', 'sinks');
    expect(sinks).toContain(`deskcast_mix_${process.pid}`);
    expect((await pulse.pactl('get-default-sink')).trim()).toBe('presenter'); // the mix never becomes the default

    const page = await (await browser.createBrowserContext()).newPage();
    await instrumentPeerConnections(page);
    await page.goto(viewerUrl(server));
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });

    const both = await waitFor(async () => {
      const l = await levels(page);
      return l.desktop - l.floor > AUDIBLE_ABOVE_FLOOR_DB && l.mic - l.floor > AUDIBLE_ABOVE_FLOOR_DB ? l : undefined;
    }, 20_000, 0);
    expect(both, `levels: ${JSON.stringify(await levels(page))}`).toBeTruthy();
    expect(server.audioStatus.mic).toEqual({ state: 'live', source: 'testmic', reason: '' });

    // Unplug the microphone mid-broadcast.
    await pulse.pactl('unload-module', String(micModule));
    const gone = await waitFor(async () => server!.audioStatus.mic?.state === 'gone', 10_000);
    expect(gone).toBe(true);
    expect(server.audioStatus.mic?.reason).toMatch(/^microphone gone: .*testmic.*; the desktop sound goes on$/);
    expect(server.audioStatus.state).toBe('connected');
    const health = await page.evaluate(async () => (await fetch('/healthz')).json() as Promise<{ status: string; modules?: unknown }>);
    expect(JSON.stringify(health)).toContain('microphone gone');
    const desktopOnly = await waitFor(async () => {
      const l = await levels(page);
      return l.desktop - l.floor > AUDIBLE_ABOVE_FLOOR_DB && l.mic - l.floor < 10 ? l : undefined;
    }, 15_000, 0);
    expect(desktopOnly, `levels after unplugging: ${JSON.stringify(await levels(page))}`).toBeTruthy();

    // Plugged in again: mixed in again, without a restart.
    micModule = await plugMicrophone();
    expect(await waitFor(async () => server!.audioStatus.mic?.state === 'live', 10_000)).toBe(true);
    const again = await waitFor(async () => {
      const l = await levels(page);
      return l.mic - l.floor > AUDIBLE_ABOVE_FLOOR_DB ? l : undefined;
    }, 15_000, 0);
    expect(again, `levels after plugging in again: ${JSON.stringify(await levels(page))}`).toBeTruthy();

    await server.close();
    server = undefined;
    // Nothing of deskcast's is left on the presenter's sound server.
    expect(await pulse.pactl('list', 'short', 'sinks')).not.toContain('deskcast_mix_');
    expect(await pulse.pactl('list', 'short', 'modules')).not.toContain('module-loopback');
  }, 120_000);
});

describe('--repair knows the mix sink', () => {
  it('removes a deskcast_mix_<pid> sink and its loopbacks left by a dead process, keeps nothing else', async () => {
    const { repairAudio } = await import('../../server/audio/repairAudio.js');
    const pulse = await startIsolatedPulse({ sinks: ['presenter'] });
    try {
      const deadPid = 4_000_000; // above pid_max: no such process
      const sink = `deskcast_mix_${deadPid}`;
      await pulse.pactl('load-module', 'module-null-sink', `sink_name=${sink}`, 'rate=48000');
      await pulse.pactl('load-module', 'module-loopback', 'source=presenter.monitor', `sink=${sink}`);
      const result = await repairAudio({ server: pulse.server, cookie: pulse.cookie });
      expect(result.removed.map((r) => [r.sinkName, r.unloadedModules.length])).toEqual([[sink, 2]]);
      expect(result.problems).toEqual([]);
      expect(await pulse.pactl('list', 'short', 'sinks')).not.toContain(sink);
      expect(await pulse.pactl('list', 'short', 'modules')).not.toContain('module-loopback');
    } finally {
      await pulse.stop();
    }
  });
});
