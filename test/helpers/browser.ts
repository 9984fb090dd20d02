import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's Chromium, headless, with the flags that work as root here (REFERENCE §4). */
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
 * Records every RTCPeerConnection the page makes (window.__pcs), so a test can read the
 * inbound-rtp stats the browser itself reports, and when each connected.
 */
export async function instrumentPeerConnections(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __pcs: RTCPeerConnection[]; __connectedAt: number[] };
    w.__pcs = [];
    w.__connectedAt = [];
    const Original = window.RTCPeerConnection;
    class Recorded extends Original {
      constructor(config?: RTCConfiguration) {
        super(config);
        w.__pcs.push(this);
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected') w.__connectedAt.push(performance.now());
        });
      }
    }
    window.RTCPeerConnection = Recorded as typeof RTCPeerConnection;
  });
}

/** Sum of framesDecoded over the page's inbound video streams, as the browser reports it. */
export async function framesDecoded(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    let frames = 0;
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
      });
    }
    return frames;
  });
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** The colour at (fx, fy) (fractions of the frame) of what the video element shows now. */
export async function videoPixel(page: Page, fx = 0.5, fy = 0.5): Promise<Rgb & { width: number; height: number }> {
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
