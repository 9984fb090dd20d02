import { Agent } from 'node:https';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Browser, Page } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import {
  colorDistance,
  framesDecoded,
  inboundVideoCodec,
  instrumentPeerConnections,
  launchChromium,
  launchFirefox,
  videoPixel,
  waitFor,
  type Rgb,
} from '../helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../helpers/deskcast.js';

const RED: Rgb = { r: 255, g: 0, b: 0 };
const BLUE: Rgb = { r: 0, g: 0, b: 255 };
const TOLERANCE = 40;

/**
 * Firefox ignores a remote ICE candidate on 127.0.0.1 unless its own side is loopback too, so
 * the media ports are announced on this machine's own address (mediasoup listens on all).
 */
function ownIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('no non-loopback IPv4 address: the Firefox test needs one for ICE');
}

interface Health {
  viewers: number;
  capture: { vp8: 'active' | 'idle' | 'off'; encoder: string };
}

function health(page: Page): Promise<Health> {
  return page.evaluate(async () => (await fetch('/healthz')).json() as Promise<Health>);
}

async function openViewer(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await instrumentPeerConnections(page);
  await page.goto(url);
  await page.waitForSelector('body[data-state="live"]', { timeout: 30_000 });
  return page;
}

describe('every browser plays: Firefox ESR (no H.264) gets VP8, Chromium keeps H.264', () => {
  let server: DeskcastServer;
  let chromium: { browser: Browser; close: () => Promise<void> };
  let firefox: { browser: Browser; close: () => Promise<void> };

  beforeAll(async () => {
    server = await startDeskcast(['--fps', '30', '--keyframe-interval', '30', '--announced-address', ownIPv4()], { animate: true });
    await paintRoot(server.display, '#ff0000');
    [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([chromium?.close(), firefox?.close()]);
    await server?.close();
  });

  it('both play the same desktop at once, each in its codec; the VP8 encoder runs only while Firefox watches', async () => {
    const chrome = await openViewer(chromium.browser, viewerUrl(server));
    expect(await waitFor(async () => (await framesDecoded(chrome)) > 10, 15_000)).toBe(true);
    expect(await inboundVideoCodec(chrome)).toBe('video/H264');
    expect((await health(chrome)).capture.vp8).toBe('idle'); // nobody needs VP8 yet

    const fox = await openViewer(firefox.browser, viewerUrl(server));
    const decoded = await waitFor(async () => (await framesDecoded(fox)) > 10, 20_000);
    expect(decoded, 'Firefox inbound-rtp framesDecoded should grow past 10').toBe(true);
    expect(await inboundVideoCodec(fox)).toBe('video/VP8');
    const red = await waitFor(async () => colorDistance(await videoPixel(fox), RED) <= TOLERANCE, 10_000);
    expect(red, `Firefox pixel ${JSON.stringify(await videoPixel(fox))} should be red`).toBe(true);
    expect((await videoPixel(fox)).width).toBe(640);
    expect(await waitFor(async () => (await health(chrome)).capture.vp8 === 'active', 5_000)).toBe(true);

    // One capture feeds both: a change reaches both viewers.
    await paintRoot(server.display, '#0000ff');
    for (const [name, page] of [['Firefox', fox], ['Chromium', chrome]] as const) {
      const blue = await waitFor(async () => colorDistance(await videoPixel(page), BLUE) <= TOLERANCE, 10_000);
      expect(blue, `${name} pixel ${JSON.stringify(await videoPixel(page))} should turn blue`).toBe(true);
    }
    expect(await inboundVideoCodec(chrome)).toBe('video/H264'); // still H.264 with a VP8 viewer present

    // Firefox leaves: after the grace period the VP8 encoder stops; Chromium plays on.
    await fox.close();
    const stopped = await waitFor(async () => (await health(chrome)).capture.vp8 === 'idle', 15_000, 250);
    expect(stopped, 'the VP8 encoder should stop once no viewer needs it').toBe(true);
    const before = await framesDecoded(chrome);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await framesDecoded(chrome)).toBeGreaterThan(before);
    await chrome.close();
  }, 120_000);

  it('a browser that can decode neither codec is told exactly what it lacks', async () => {
    const socket: Socket = io(`https://127.0.0.1:${server.port}`, {
      auth: { token: server.token },
      transports: ['websocket'],
      reconnection: false,
      agent: new Agent({ rejectUnauthorized: false }) as never,
      rejectUnauthorized: false,
    } as never);
    const request = (method: string, data: unknown): Promise<{ ok: boolean; error?: { code: string; message: string }; data?: Record<string, unknown> }> =>
      new Promise((resolve) => socket.emit('request', method, data, resolve));
    try {
      expect((await request('media.join', {})).ok).toBe(true);
      const transport = await request('media.createTransport', {});
      // Receive capabilities with only VP9 video and no audio codec the broadcast carries.
      const rtpCapabilities = {
        codecs: [{ kind: 'video', mimeType: 'video/VP9', preferredPayloadType: 98, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
        headerExtensions: [],
      };
      const reply = await request('media.consume', { transportId: transport.data!['transportId'], rtpCapabilities });
      expect(reply.error?.code).toBe('unsupported');
      expect(reply.error?.message).toContain('offers neither H.264 Constrained Baseline nor VP8 for WebRTC receive');
    } finally {
      socket.disconnect();
    }
  });
});
