import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Browser } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { wrongTokenMessage } from '../../shared/protocol.js';
import { framesDecoded, instrumentPeerConnections, launchChromium, openLiveViewer, waitFor } from '../helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../helpers/deskcast.js';
import { insecureFetch } from '../helpers/https.js';

const insecureAgent = new Agent({ rejectUnauthorized: false });

function connectSocket(server: DeskcastServer, token: string): Socket {
  return io(`https://127.0.0.1:${server.port}`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    agent: insecureAgent as never,
    rejectUnauthorized: false,
  } as never);
}

function request(socket: Socket, method: unknown, data: unknown): Promise<{ ok: boolean; error?: { code: string; message: string }; data?: unknown }> {
  return new Promise((resolve) => socket.emit('request', method, data, resolve));
}

async function httpsGet(server: DeskcastServer, path: string): Promise<{ status: number; body: string }> {
  const res = await insecureFetch(`https://127.0.0.1:${server.port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('admission, signaling input and metrics (real server, --max-viewers 2)', () => {
  let server: DeskcastServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    server = await startDeskcast(['--max-viewers', '2'], { animate: true });
    await paintRoot(server.display, '#336699');
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
  });

  it('refuses a socket.io client with a wrong token, naming the problem', async () => {
    const socket = connectSocket(server, 'not-the-token');
    const error = await new Promise<Error & { data?: unknown }>((resolve) => socket.on('connect_error', resolve));
    expect(error.message).toBe(wrongTokenMessage);
    expect(error.data).toEqual({ code: 'wrong-token' });
    socket.close();
  });

  it('answers malformed requests with an error that names the problem, and keeps serving', async () => {
    const socket = connectSocket(server, server.token);
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    const cases: [unknown, unknown, RegExp][] = [
      ['fly', {}, /Unknown method "fly"/],
      ['media.join', 'nope', /"data" must be an object/],
      ['media.createTransport', {}, /Send "media.join" first/],
      ['media.resumeConsumer', { consumerId: 7 }, /"data.consumerId" must be a string of 1 to 64 characters/],
      [{ evil: true }, null, /Unknown method/],
    ];
    for (const [method, data, message] of cases) {
      const reply = await request(socket, method, data);
      expect(reply.ok).toBe(false);
      expect(reply.error?.message).toMatch(message);
      expect(reply.error?.code).toBe(method === 'media.createTransport' ? 'not-joined' : 'bad-request');
    }
    // A request without an ack, and garbage events, are ignored without harm.
    socket.emit('request', 'media.join', {});
    socket.emit('something-else', Buffer.alloc(1000));
    const join = await request(socket, 'media.join', {});
    expect(join.ok).toBe(true);
    const dtlsParameters = { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] };
    const wrongTransport = await request(socket, 'media.connectTransport', { transportId: 'nope', dtlsParameters });
    expect(wrongTransport.error).toMatchObject({ code: 'bad-request', message: expect.stringMatching(/No transport "nope"/) });
    socket.close();
    const health = JSON.parse((await httpsGet(server, '/healthz')).body) as { status: string; reasons: string[] };
    expect(health).toMatchObject({ status: 'ok', reasons: [] });
  });

  it('admits two viewers; a third sees the full page, and gets in by itself when one leaves', async () => {
    const pages = [];
    for (let i = 0; i < 2; i++) pages.push(await openLiveViewer(browser, viewerUrl(server)));

    const third = await (await browser.createBrowserContext()).newPage();
    await instrumentPeerConnections(third);
    await third.goto(viewerUrl(server));
    await third.waitForSelector('body[data-state="full"]', { timeout: 20_000 });
    expect(await third.$eval('#message', (el) => el.textContent)).toBe(
      "The host is full (2 of 2 watching). You'll join automatically when a place frees.",
    );

    const metrics = (await httpsGet(server, '/metrics')).body;
    expect(metrics).toMatch(/^deskcast_viewers 2$/m);
    expect(metrics).toMatch(/^deskcast_viewers_refused_total\{reason="max-viewers"\} [1-9]/m);
    expect(metrics).toMatch(/^deskcast_capacity_viewers 2$/m);
    expect(metrics).toMatch(/^deskcast_capacity_binding\{limit="max-viewers"\} 1$/m);
    expect(metrics).toMatch(/^deskcast_encoder_info\{encoder="libx264"\} 1$/m);
    // Change-driven capture: a still screen grabs nothing, but the viewer's keyframe was encoded.
    expect(Number(/^deskcast_frames_encoded (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^deskcast_video_stage_seconds_count\{stage="encode"\} [1-9]/m);
    expect(Number(/^deskcast_bytes_sent (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    const health = JSON.parse((await httpsGet(server, '/healthz')).body) as { capacity: { cap: number; binding: string; watching: number } };
    expect(health.capacity).toMatchObject({ cap: 2, binding: 'max-viewers', watching: 2 });

    // Those already watching are not disturbed: the second keeps decoding while the third waits.
    const before = await framesDecoded(pages[1]!);
    await pages[0]!.browserContext().close();
    await third.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    expect(await waitFor(async () => (await framesDecoded(third)) > 5, 10_000)).toBe(true);
    expect(await framesDecoded(pages[1]!)).toBeGreaterThan(before);
    await third.browserContext().close();
    await pages[1]!.browserContext().close();
  });

  it('lets the admin change --max-viewers at run time (the cap and its binding limit follow)', async () => {
    const admin = connectSocket(server, server.adminToken);
    await new Promise<void>((resolve) => admin.on('connect', () => resolve()));
    const viewer = connectSocket(server, server.token);
    await new Promise<void>((resolve) => viewer.on('connect', () => resolve()));
    expect((await request(viewer, 'admin.setMaxViewers', { maxViewers: 5 })).error?.code).toBe('forbidden');
    expect((await request(admin, 'admin.setMaxViewers', { maxViewers: 0 })).error?.message).toMatch(/"data.maxViewers" must be a whole number from 1/);
    const reply = await request(admin, 'admin.setMaxViewers', { maxViewers: 7 });
    expect(reply.data).toMatchObject({ cap: 7, binding: 'max-viewers', limits: { maxViewers: 7 } });
    expect((await httpsGet(server, '/metrics')).body).toMatch(/^deskcast_capacity_viewers 7$/m);
    await request(admin, 'admin.setMaxViewers', { maxViewers: 2 });
    admin.close();
    viewer.close();
  });
});
