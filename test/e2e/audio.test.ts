import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import {
  audioPacketsReceived,
  framesDecoded,
  instrumentPeerConnections,
  launchChromium,
  receivedAudioPeak,
  waitFor,
} from '../helpers/browser.js';
import { startDeskcast, viewerUrl } from '../helpers/deskcast.js';
import { playTone, startIsolatedPulse, type IsolatedPulse, type Tone } from '../helpers/pulse.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

/** Within two FFT bins (48000 / 16384 ≈ 2.9 Hz each) plus Opus' own small shift. */
const HZ_TOLERANCE = 8;

describe('audio end to end: PulseAudio → native Opus → mediasoup → Chromium', () => {
  let pulse: IsolatedPulse;
  let xvfb: XvfbServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  const tones: Tone[] = [];
  const servers: DeskcastServer[] = [];

  async function openViewer(server: DeskcastServer): Promise<Page> {
    const page = await (await browser.createBrowserContext()).newPage();
    await instrumentPeerConnections(page);
    await page.goto(viewerUrl(server));
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    return page;
  }

  async function start(flags: string[]): Promise<DeskcastServer> {
    // The presenter's own sound server: deskcast reaches it like any libpulse client would.
    const server = await startDeskcast(['--display', xvfb.display, '--pulse-server', pulse.server, '--pulse-cookie', pulse.cookie, ...flags], { animate: true });
    servers.push(server);
    return server;
  }

  async function stop(server: DeskcastServer): Promise<void> {
    await server.close();
    servers.splice(servers.indexOf(server), 1);
  }

  beforeAll(async () => {
    // The viewer's browser never plays into the presenter's sound server (that would be a
    // feedback loop): it keeps the environment it was started with.
    ({ browser, close: closeBrowser } = await launchChromium());
    pulse = await startIsolatedPulse({ sinks: ['presenter'] });
    xvfb = await startXvfb({ width: 640, height: 480 });
    await xvfb.paint('#224466');
  });

  afterAll(async () => {
    for (const tone of tones) await tone.stop();
    for (const server of [...servers]) await server.close();
    await closeBrowser?.();
    await xvfb?.stop();
    await pulse?.stop();
  });

  it('a viewer hears the desktop: a 440 Hz tone on the default sink arrives as 440 Hz', async () => {
    tones.push(playTone(pulse, { frequency: 440, appName: 'ToneA' }));
    const server = await start([]);
    const page = await openViewer(server);
    expect(await waitFor(async () => (await audioPacketsReceived(page)) > 50, 10_000)).toBe(true);
    const peak = await waitFor(async () => {
      const p = await receivedAudioPeak(page);
      return Math.abs(p.hz - 440) <= HZ_TOLERANCE ? p : undefined;
    }, 15_000, 0);
    expect(peak, `dominant received frequency: ${JSON.stringify(await receivedAudioPeak(page))}`).toBeTruthy();
    expect(peak!.db).toBeGreaterThan(-40);
    expect(server.audioStatus.state).toBe('connected');

    // The sound server dies: video goes on, status says why; it comes back: so does the sound.
    await tones.pop()!.stop();
    await pulse.kill('SIGKILL');
    await waitFor(async () => server.audioStatus.state === 'disconnected', 10_000);
    expect(server.audioStatus.state).toBe('disconnected');
    expect(server.audioStatus.reason).not.toBe('');
    // /healthz, as an operator's probe reads it: degraded, and says why.
    const health = await page.evaluate(async () => (await fetch('/healthz')).json() as Promise<{ status: string; reasons: string[] }>);
    expect(health.status).toBe('degraded');
    expect(health.reasons.some((r) => r.startsWith('audio: '))).toBe(true);
    const frames = await framesDecoded(page);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await framesDecoded(page)).toBeGreaterThan(frames);

    await pulse.restart();
    tones.push(playTone(pulse, { frequency: 660, appName: 'ToneA' }));
    const back = await waitFor(async () => {
      const p = await receivedAudioPeak(page, 1000);
      return Math.abs(p.hz - 660) <= HZ_TOLERANCE ? p : undefined;
    }, 20_000, 0);
    expect(back, `after restart: ${JSON.stringify(await receivedAudioPeak(page))}`).toBeTruthy();
    expect(server.audioStatus.state).toBe('connected');
    expect(await page.evaluate(async () => ((await (await fetch('/healthz')).json()) as { status: string }).status)).toBe('ok');
    await page.browserContext().close();
    await tones.pop()!.stop();
    await stop(server);
  });

  it('--audio-app broadcasts only the chosen application', async () => {
    tones.push(playTone(pulse, { frequency: 440, appName: 'ToneA' }), playTone(pulse, { frequency: 1000, appName: 'ToneB' }));
    const server = await start(['--audio-app', 'ToneA']);
    const page = await openViewer(server);
    const only440 = await waitFor(async () => {
      const p = await receivedAudioPeak(page);
      return Math.abs(p.hz - 440) <= HZ_TOLERANCE ? p : undefined;
    }, 15_000, 0);
    expect(only440, `dominant received frequency: ${JSON.stringify(await receivedAudioPeak(page))}`).toBeTruthy();
    // ToneB plays as loud on the same machine, yet nothing of it reaches the viewer.
    const levels = await page.evaluate(async () => {
      const video = document.getElementById('screen') as HTMLVideoElement;
      const track = (video.srcObject as MediaStream).getAudioTracks()[0]!;
      const context = new AudioContext({ sampleRate: 48000 });
      await context.resume();
      const analyser = context.createAnalyser();
      analyser.fftSize = 16384;
      context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
      await new Promise((r) => setTimeout(r, 1200));
      const bins = new Float32Array(analyser.frequencyBinCount);
      analyser.getFloatFrequencyData(bins);
      const at = (hz: number): number => Math.max(...[-1, 0, 1].map((d) => bins[Math.round((hz * 16384) / 48000) + d]!));
      return { a: at(440), b: at(1000) };
    });
    expect(levels.a - levels.b, JSON.stringify(levels)).toBeGreaterThan(30);
    await page.browserContext().close();
    await stop(server);
    for (const tone of tones.splice(0)) await tone.stop();
  });

  it('--no-audio offers no audio track', async () => {
    const server = await start(['--no-audio']);
    const page = await openViewer(server);
    expect(await waitFor(async () => (await framesDecoded(page)) > 5, 10_000)).toBe(true);
    const audioTracks = await page.evaluate(() => ((document.getElementById('screen') as HTMLVideoElement).srcObject as MediaStream).getAudioTracks().length);
    expect(audioTracks).toBe(0);
    expect(server.audioStatus).toMatchObject({ state: 'off', reason: 'turned off with --no-audio' });
    expect(await page.$eval('#unmute', (el) => (el as HTMLButtonElement).hidden)).toBe(true);
    await page.browserContext().close();
    await stop(server);
  });
});
