import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's Chromium, headless, with the flags that work as root on a machine with no outside
 * network (without the background-networking flags it keeps trying to reach Google's hosts).
 */
export async function launchChromium(extraArgs: string[] = []): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'deskcast-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    acceptInsecureCerts: true,
    userDataDir,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--ignore-certificate-errors',
      '--autoplay-policy=no-user-gesture-required',
      // Headless pages are "hidden"; keep timers and video frame callbacks running.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
      ...extraArgs,
      ...(process.env['CHROMIUM_EXTRA_ARGS']?.split(' ').filter(Boolean) ?? []),
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Firefox ESR, headless, driven over WebDriver BiDi. It offers no H.264 for WebRTC
 * here (Cisco's OpenH264 plugin cannot download), so it is the VP8 viewer. The prefs: accept
 * the server's loopback ICE candidates (tests announce 127.0.0.1), autoplay without a gesture,
 * and nothing that phones home.
 */
export async function launchFirefox(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr',
    headless: true,
    acceptInsecureCerts: true,
    extraPrefsFirefox: {
      'media.peerconnection.ice.loopback': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      'media.navigator.permission.disabled': true,
      'media.gmp-manager.updateEnabled': false,
      'media.gmp-gmpopenh264.autoupdate': false,
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'network.captive-portal-service.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
    },
  });
  return { browser, close: () => browser.close().catch(() => undefined) };
}

/** The codec (e.g. 'video/H264', 'video/VP8') of the page's inbound video, from its own stats. */
export async function inboundVideoCodec(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      let codecId = '';
      stats.forEach((s: Record<string, unknown>) => {
        if (s['type'] === 'inbound-rtp' && s['kind'] === 'video' && s['codecId']) codecId = String(s['codecId']);
      });
      const codec = codecId ? (stats.get(codecId) as { mimeType?: string } | undefined) : undefined;
      if (codec?.mimeType) return codec.mimeType;
    }
    return '';
  });
}

/**
 * Records every RTCPeerConnection the page makes (window.__pcs), so a test can read the
 * inbound-rtp stats the browser itself reports, and when each connected.
 */
export async function instrumentPeerConnections(page: Page): Promise<void> {
  // A string, not a function: tsx/esbuild (keepNames) wraps named functions in __name(), which
  // does not exist in the page. The no-op __name also lets later page.evaluate() calls run.
  await page.evaluateOnNewDocument(`
    window.__name = (f) => f;
    window.__pcs = [];
    window.__connectedAt = [];
    const Original = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Original {
      constructor(config) {
        super(config);
        window.__pcs.push(this);
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected') window.__connectedAt.push(performance.now());
        });
      }
    };
  `);
}

/** Sum of one inbound-rtp counter over the page's open peer connections, as the browser reports it. */
async function inboundRtpTotal(page: Page, kind: 'audio' | 'video', counter: 'framesDecoded' | 'packetsReceived'): Promise<number> {
  return page.evaluate(
    async (k, c) => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      let total = 0;
      for (const pc of pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s: Record<string, unknown>) => {
          if (s['type'] === 'inbound-rtp' && s['kind'] === k) total += Number(s[c] ?? 0);
        });
      }
      return total;
    },
    kind,
    counter,
  );
}

/** Frames the page's video decoder has decoded (inbound-rtp framesDecoded). */
export function framesDecoded(page: Page): Promise<number> {
  return inboundRtpTotal(page, 'video', 'framesDecoded');
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/**
 * The colour at (fx, fy) (fractions of the frame) of what the video element shows now. The
 * default point is off-centre: Xvfb parks the pointer at the centre and capture draws it.
 */
export async function videoPixel(page: Page, fx = 0.25, fy = 0.25): Promise<Rgb & { width: number; height: number }> {
  return page.evaluate(
    (x, y) => {
      const video = document.getElementById('screen') as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      if (!canvas.width) return { r: -1, g: -1, b: -1, width: 0, height: 0 };
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(video, 0, 0);
      const [r, g, b] = ctx.getImageData(Math.floor(canvas.width * x), Math.floor(canvas.height * y), 1, 1).data;
      return { r: r!, g: g!, b: b!, width: canvas.width, height: canvas.height };
    },
    fx,
    fy,
  );
}

export function colorDistance(a: Rgb, b: Rgb): number {
  return Math.max(Math.abs(a.r - b.r), Math.abs(a.g - b.g), Math.abs(a.b - b.b));
}

/** Polls until `check` returns a truthy value or the time runs out; returns the last value. */
export async function waitFor<T>(check: () => Promise<T>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await check();
  while (!value && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await check();
  }
  return value;
}

/**
 * The spectrum of the audio the page receives (what the viewer hears), from a WebAudio analyser
 * on the received track: mean linear power per bin over `listenMs`.
 */
async function receivedSpectrum(page: Page, listenMs: number): Promise<{ power: number[]; hzPerBin: number; tracks: number }> {
  return page.evaluate(async (ms) => {
    const video = document.getElementById('screen') as HTMLVideoElement;
    const tracks = (video.srcObject as MediaStream | null)?.getAudioTracks() ?? [];
    if (tracks.length === 0) return { power: [], hzPerBin: 0, tracks: 0 };
    const context = new AudioContext({ sampleRate: 48000 });
    await context.resume();
    const source = context.createMediaStreamSource(new MediaStream([tracks[0]!]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 16384;
    analyser.smoothingTimeConstant = 0;
    source.connect(analyser);
    const bins = new Float32Array(analyser.frequencyBinCount);
    const sum = new Float64Array(analyser.frequencyBinCount);
    const deadline = performance.now() + ms;
    let frames = 0;
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      analyser.getFloatFrequencyData(bins);
      for (let i = 0; i < bins.length; i++) sum[i]! += Math.pow(10, bins[i]! / 10);
      frames++;
    }
    await context.close();
    return { power: Array.from(sum, (x) => x / Math.max(1, frames)), hzPerBin: context.sampleRate / analyser.fftSize, tracks: tracks.length };
  }, listenMs);
}

/** The dominant frequency of the audio the page receives and the level there (dBFS). */
export async function receivedAudioPeak(page: Page, listenMs = 1500): Promise<{ hz: number; db: number; tracks: number }> {
  const { power, hzPerBin, tracks } = await receivedSpectrum(page, listenMs);
  if (tracks === 0) return { hz: 0, db: -Infinity, tracks: 0 };
  let best = 1;
  for (let i = 2; i < power.length; i++) if (power[i]! > power[best]!) best = i;
  return { hz: best * hzPerBin, db: 10 * Math.log10(power[best]!), tracks };
}

/** RTP packets of inbound audio the page has received (grows while sound arrives). */
export function audioPacketsReceived(page: Page): Promise<number> {
  return inboundRtpTotal(page, 'audio', 'packetsReceived');
}

/**
 * The level (dBFS, the strongest bin within ±`spreadHz`) of each given frequency in the audio the
 * page receives: for mixes of several tones.
 */
export async function receivedAudioLevels(page: Page, frequencies: number[], listenMs = 1500, spreadHz = 8): Promise<number[]> {
  const { power, hzPerBin, tracks } = await receivedSpectrum(page, listenMs);
  if (tracks === 0) return frequencies.map(() => -Infinity);
  return frequencies.map((f) => {
    let best = 0;
    for (let i = Math.max(1, Math.floor((f - spreadHz) / hzPerBin)); i <= Math.ceil((f + spreadHz) / hzPerBin) && i < power.length; i++) best = Math.max(best, power[i]!);
    return best > 0 ? 10 * Math.log10(best) : -Infinity;
  });
}

/** Opens `url` in a fresh browser context (its own cookies and storage), instrumented, and waits until the page is live. */
export async function openLiveViewer(browser: Browser, url: string, timeoutMs = 20_000): Promise<Page> {
  const page = await (await browser.createBrowserContext()).newPage();
  await instrumentPeerConnections(page);
  await page.goto(url);
  await page.waitForSelector('body[data-state="live"]', { timeout: timeoutMs });
  return page;
}
